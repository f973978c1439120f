"""The composition root: build(settings) wires the store and services; entry points call it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from dailypapers import __version__
from dailypapers.community import CommunityPolicy, rate_limits
from dailypapers.config import Settings
from dailypapers.digest import DigestPolicy
from dailypapers.digest.send import Sender, status_summary
from dailypapers.errors import ConfigurationError
from dailypapers.ingest.featuring import FeatureRules
from dailypapers.logs import configure_logging
from dailypapers.mail import DkimKey, Mailer, open_mailer
from dailypapers.schedule import (
    Job,
    SchedulePlan,
    VectorPlan,
    digests_job,
    feature_job,
    harvest_job,
    index_job,
)
from dailypapers.search.embedder import MINILM_DIM, MINILM_ID, LazyEmbedder, model_dir
from dailypapers.search.hybrid import SemanticConfig
from dailypapers.search.index import SearchIndex
from dailypapers.secret_key import resolve_secret_key
from dailypapers.sources import ArxivSources, open_arxiv_sources
from dailypapers.sources.http import user_agent
from dailypapers.store import Database, open_database
from dailypapers.store.limits import StoreRateSlots
from dailypapers.store.migrate import pending_migrations

# arXiv counts its API, OAI-PMH and RSS as one budget, so all three share one store-kept row.
ARXIV_BUDGET = "arxiv"


@dataclass(frozen=True)
class RequestLimits:
    """Per-address request limits of the web app, kept in each worker (see web/limits.py)."""

    api_per_minute: int = 600
    search_per_minute: int = 120
    semantic_cost: int = 4


@dataclass(frozen=True)
class Services:
    """What the entry points use. Plain values only below this point: no Settings object."""

    db: Database
    data_dir: Path
    site_name: str
    base_url: str
    trending_half_life_hours: float
    trending_window_days: int
    import_batch_size: int
    import_max_field_chars: int
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_rss_url: str = "https://rss.arxiv.org/rss"
    arxiv_min_interval_seconds: float = 3.0
    http_timeout_seconds: float = 30.0
    http_max_retries: int = 5
    contact_email: str | None = None
    community: CommunityPolicy = field(default_factory=CommunityPolicy)
    digest: DigestPolicy = field(default_factory=DigestPolicy)
    # Always set by build(); None only in a hand-made Services that sends no mail.
    mailer: Mailer | None = None
    # The derived search index under DATA_DIR/index; made from data_dir when not given.
    search_index: SearchIndex = field(default=None)  # type: ignore[assignment]
    # Semantic search (#5): the query embedder, opened on first use, and the hybrid knobs;
    # None: keyword search only.
    semantic: SemanticConfig | None = None
    embedding_model_id: str = MINILM_ID
    embedding_dim: int = MINILM_DIM
    embedding_threads: int = 2
    embedding_batch_size: int = 16
    # Keep it fresh (#8): which harvested papers join a day's list, and when a harvest is late.
    feature_rules: FeatureRules = field(default_factory=FeatureRules)
    harvest_grace_hours: float = 6.0
    schedule: SchedulePlan = field(default_factory=SchedulePlan)
    # Production (#10): per-address limits on the API and search; None: rate limits are off.
    request_limits: RequestLimits | None = None

    def __post_init__(self) -> None:
        if self.search_index is None:
            index = SearchIndex(self.data_dir / "index", semantic=self.semantic)
            object.__setattr__(self, "search_index", index)

    @property
    def model_dir(self) -> Path:
        """Where the exported embedding model lives (written once by `vectors export`)."""
        return model_dir(self.data_dir, self.embedding_model_id)

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()
        self.db.dispose()

    def open_arxiv(self) -> ArxivSources:
        """arXiv's clients on one connection, sharing the store-kept budget of every process.

        Close them when done (`with services.open_arxiv() as arxiv: ...`).
        """
        return open_arxiv_sources(
            StoreRateSlots(self.db, ARXIV_BUDGET),
            oai_url=self.arxiv_oai_url,
            api_url=self.arxiv_api_url,
            rss_url=self.arxiv_rss_url,
            min_interval_seconds=self.arxiv_min_interval_seconds,
            user_agent=user_agent(__version__, self.contact_email),
            timeout_seconds=self.http_timeout_seconds,
            max_retries=self.http_max_retries,
        )


def build(settings: Settings) -> Services:
    configure_logging(settings.log_level, settings.log_format)

    def limit(value: int) -> int:
        # DAILYPAPERS_RATE_LIMITS=off: every store-kept limit too (sign-in, comments, ...).
        return value if settings.rate_limits else rate_limits.UNLIMITED

    return Services(
        db=open_database(settings.effective_database_url),
        data_dir=settings.data_dir,
        site_name=settings.site_name,
        base_url=settings.base_url.rstrip("/"),
        trending_half_life_hours=settings.trending_half_life_hours,
        trending_window_days=settings.trending_window_days,
        import_batch_size=settings.import_batch_size,
        import_max_field_chars=settings.import_max_field_chars,
        arxiv_oai_url=settings.arxiv_oai_url,
        arxiv_api_url=settings.arxiv_api_url,
        arxiv_rss_url=settings.arxiv_rss_url,
        arxiv_min_interval_seconds=settings.arxiv_min_interval_seconds,
        http_timeout_seconds=settings.http_timeout_seconds,
        http_max_retries=settings.http_max_retries,
        contact_email=settings.contact_email,
        community=CommunityPolicy(
            site_name=settings.site_name,
            base_url=settings.base_url.rstrip("/"),
            session_days=settings.session_days,
            signin_per_hour_per_address=limit(settings.signin_rate_limit_per_hour),
            signin_per_hour_per_ip=limit(settings.signin_rate_limit_per_hour_per_ip),
            comments_per_hour=limit(settings.comment_rate_limit_per_hour),
            submissions_per_day=limit(settings.submission_rate_limit_per_day),
            submission_window_days=settings.submission_window_days,
        ),
        digest=DigestPolicy(
            site_name=settings.site_name,
            base_url=settings.base_url.rstrip("/"),
            mail_from=settings.mail_from,
            top_n=settings.digest_top_n,
            quiet_mode=settings.digest_quiet_mode,
            confirm_hours=settings.digest_confirm_hours,
            subscribe_per_hour_per_ip=limit(settings.digest_subscribe_rate_limit_per_hour_per_ip),
            subscribe_per_hour_per_address=limit(settings.digest_subscribe_rate_limit_per_hour),
            batch_size=settings.digest_batch_size,
            lease_seconds=settings.digest_lease_seconds,
            retry_base_seconds=settings.digest_retry_base_seconds,
            max_attempts=settings.digest_max_attempts,
            max_wait_seconds=settings.digest_max_wait_seconds,
            bounce_threshold=settings.digest_bounce_threshold,
            trending_half_life_hours=settings.trending_half_life_hours,
            trending_window_days=settings.trending_window_days,
        ),
        semantic=SemanticConfig(
            LazyEmbedder(
                model_dir(settings.data_dir, MINILM_ID),
                threads=settings.embedding_threads,
                quantized=settings.embedding_int8_queries,
            ),
            min_similarity=settings.search_min_similarity,
            exact_max=settings.search_exact_max_rows,
        ),
        embedding_threads=settings.embedding_threads,
        embedding_batch_size=settings.embedding_batch_size,
        feature_rules=FeatureRules(
            rule=settings.feature_rule,
            categories=tuple(settings.feature_categories),
            queries=tuple(settings.feature_queries),
            new_within_days=settings.feature_new_within_days,
        ),
        harvest_grace_hours=settings.harvest_grace_hours,
        request_limits=RequestLimits(
            api_per_minute=settings.api_rate_limit_per_minute,
            search_per_minute=settings.search_rate_limit_per_minute,
            semantic_cost=settings.search_semantic_cost,
        )
        if settings.rate_limits
        else None,
        schedule=SchedulePlan(
            times=tuple(_clock_time(at) for at in settings.schedule_times),
            zone=settings.schedule_time_zone,
            harvest_sets=tuple(settings.schedule_harvest_sets),
            lease_seconds=settings.schedule_lease_seconds,
            digest_hour=settings.digest_hour,
            digest_zone=settings.digest_time_zone,
        ),
        mailer=open_mailer(
            settings.smtp_url,
            settings.mail_from,
            settings.data_dir / "outbox",
            dkim=_dkim_key(settings),
        ),
    )


def latest_digest_deliveries(db: Database) -> dict[str, int] | None:
    """The newest digest period's deliveries by status, for `status` (None: none planned yet)."""
    periods = status_summary(db)["periods"]
    assert isinstance(periods, dict)
    if not periods:
        return None
    # Keys sort by date within a frequency ("daily:2026-11-28", "weekly:2026-W48").
    newest = max(periods, key=lambda key: (key.startswith("daily:"), key))
    return {f"{status} ({newest})": count for status, count in periods[newest].items()}


def _clock_time(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def scheduled_jobs(services: Services, secret: str) -> list[Job]:
    """What `dailypapers schedule` runs, in order: harvest, feature, index, digests."""
    db, index, plan = services.db, services.search_index, services.schedule
    vectors = VectorPlan(
        model_dir=services.model_dir,
        model_id=services.embedding_model_id,
        dim=services.embedding_dim,
        threads=services.embedding_threads,
        batch_size=services.embedding_batch_size,
        exact_max=services.semantic.exact_max if services.semantic else 20_000,
    )
    jobs = [
        harvest_job(db, index, services.open_arxiv, plan.harvest_sets),
        feature_job(db, index, services.feature_rules),
        index_job(db, index, vectors),
    ]
    if services.mailer is not None:
        sender = Sender(db, services.mailer, services.digest, secret)
        jobs.append(digests_job(sender.run, hour=plan.digest_hour, zone=ZoneInfo(plan.digest_zone)))
    return jobs


def _dkim_key(settings: Settings) -> DkimKey | None:
    if settings.dkim_private_key_file is None:
        return None
    try:
        pem = settings.dkim_private_key_file.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read dkim_private_key_file: {exc}") from exc
    domain = settings.dkim_domain or parseaddr(settings.mail_from)[1].rpartition("@")[2]
    return DkimKey(selector=settings.dkim_selector, domain=domain, private_key=pem)


def secret_key(settings: Settings) -> str:
    """The checked secret key: refuses a missing, short or placeholder key outside development."""
    explicit = settings.secret_key.get_secret_value() if settings.secret_key else None
    return resolve_secret_key(
        explicit,
        settings.secret_key_file,
        settings.secret_key_path,
        allow_weak=settings.environment == "development",
    )


def require_current_schema(db: Database) -> None:
    pending = pending_migrations(db)
    if pending:
        raise ConfigurationError(
            f"{len(pending)} migration(s) pending ({', '.join(pending)}): run `dailypapers migrate`"
        )
