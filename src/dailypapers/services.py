"""The composition root: build(settings) opens the built parts and groups the policies; web, CLI
and scheduler all get their parts here. Only this module turns settings into values."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from email.utils import parseaddr
from pathlib import Path
from typing import Unpack
from zoneinfo import ZoneInfo

from dailypapers import __version__
from dailypapers.community import CommunityPolicy, rate_limits
from dailypapers.config import Settings
from dailypapers.digest import DigestPolicy
from dailypapers.digest.send import Sender, SenderHooks
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

log = logging.getLogger(__name__)

# arXiv counts its API, OAI-PMH and RSS as one budget, so all three share one store-kept row.
ARXIV_BUDGET = "arxiv"


@dataclass(frozen=True, slots=True)
class SitePolicy:
    """Who the site is and where its files live."""

    name: str
    base_url: str
    data_dir: Path


@dataclass(frozen=True, slots=True)
class TrendingPolicy:
    half_life_hours: float
    window_days: int


@dataclass(frozen=True, slots=True)
class ImportPolicy:
    batch_size: int
    max_field_chars: int


@dataclass(frozen=True, slots=True)
class HarvestPolicy:
    """arXiv's endpoints and politeness, which harvested papers join a day's list, and when a
    harvest counts as late."""

    oai_url: str
    api_url: str
    rss_url: str
    min_interval_seconds: float
    timeout_seconds: float
    max_retries: int
    contact_email: str | None
    feature_rules: FeatureRules
    grace_hours: float


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """Per-address request limits of the web app, kept in each worker (web/middleware/limits.py)."""

    api_per_minute: int
    search_per_minute: int
    semantic_cost: int


@dataclass(frozen=True, slots=True)
class WebPolicy:
    """How the web app trusts proxies, logs and limits requests."""

    trusted_proxies: tuple[str, ...]
    metrics_allow: tuple[str, ...]
    access_log: bool
    # None: the per-address limits are off (DAILYPAPERS_RATE_LIMITS=off).
    request_limits: RequestLimits | None


@dataclass(frozen=True)
class Services:
    """The built parts every entry point (web, CLI, scheduler) uses, and the grouped policies
    built from `Settings`. No defaults here: `Settings` is the only place a default is written."""

    db: Database
    search_index: SearchIndex
    mailer: Mailer
    site: SitePolicy
    trending: TrendingPolicy
    imports: ImportPolicy
    harvest: HarvestPolicy
    vectors: VectorPlan
    community: CommunityPolicy
    digest: DigestPolicy
    schedule: SchedulePlan
    web: WebPolicy
    # Reads and checks the secret key; asked once, on first use of `secret` (commands that sign
    # nothing, such as `import`, run before `init` wrote a key).
    secret_source: Callable[[], str]

    @functools.cached_property
    def secret(self) -> str:
        """The checked secret key that signs every token."""
        return self.secret_source()

    @property
    def semantic(self) -> SemanticConfig | None:
        """The query embedder and hybrid knobs; None: keyword search only."""
        return self.search_index.semantic

    def digest_sender(self, **hooks: Unpack[SenderHooks]) -> Sender:
        """The one way to build a digest Sender: `digest send` and `schedule` both use it, so
        both rank with every signal (saved searches and "more like my upvotes" need the index
        and the model)."""
        if not self.digest.one_click:
            log.warning(
                "base_url %s is not https: digests go out without RFC 8058 one-click "
                "unsubscribe (List-Unsubscribe-Post); the unsubscribe link still works",
                self.digest.base_url,
            )
        return Sender(
            self.db,
            self.mailer,
            self.digest,
            self.secret,
            index=self.search_index,
            model_id=self.vectors.model_id,
            **hooks,
        )

    def close(self) -> None:
        self.mailer.close()
        self.db.dispose()

    def open_arxiv(self) -> ArxivSources:
        """arXiv's clients on one connection, sharing the store-kept budget of every process.

        Close them when done (`with services.open_arxiv() as arxiv: ...`).
        """
        harvest = self.harvest
        return open_arxiv_sources(
            StoreRateSlots(self.db, ARXIV_BUDGET),
            oai_url=harvest.oai_url,
            api_url=harvest.api_url,
            rss_url=harvest.rss_url,
            min_interval_seconds=harvest.min_interval_seconds,
            user_agent=user_agent(__version__, harvest.contact_email),
            timeout_seconds=harvest.timeout_seconds,
            max_retries=harvest.max_retries,
        )


def build(settings: Settings) -> Services:
    """Open the store, the index, the mailer and the query model's loader, and group the
    policies; reads nothing but `settings`."""
    configure_logging(settings.log_level, settings.log_format)
    vectors = vector_plan(settings)
    return Services(
        db=open_database(settings.effective_database_url),
        search_index=SearchIndex(settings.data_dir / "index", semantic=semantic_config(settings)),
        mailer=open_mailer(
            settings.smtp_url,
            settings.mail_from,
            settings.data_dir / "outbox",
            dkim=_dkim_key(settings),
        ),
        site=SitePolicy(
            name=settings.site_name,
            base_url=settings.base_url.rstrip("/"),
            data_dir=settings.data_dir,
        ),
        trending=TrendingPolicy(
            half_life_hours=settings.trending_half_life_hours,
            window_days=settings.trending_window_days,
        ),
        imports=ImportPolicy(
            batch_size=settings.import_batch_size,
            max_field_chars=settings.import_max_field_chars,
        ),
        harvest=harvest_policy(settings),
        vectors=vectors,
        community=community_policy(settings),
        digest=digest_policy(settings),
        schedule=schedule_plan(settings),
        web=WebPolicy(
            trusted_proxies=tuple(settings.trusted_proxies),
            metrics_allow=tuple(settings.metrics_allow),
            access_log=settings.access_log,
            request_limits=RequestLimits(
                api_per_minute=settings.api_rate_limit_per_minute,
                search_per_minute=settings.search_rate_limit_per_minute,
                semantic_cost=settings.search_semantic_cost,
            )
            if settings.rate_limits
            else None,
        ),
        secret_source=functools.partial(secret_key, settings),
    )


def _limit(settings: Settings, value: int) -> int:
    # DAILYPAPERS_RATE_LIMITS=off: every store-kept limit too (sign-in, comments, ...).
    return value if settings.rate_limits else rate_limits.UNLIMITED


def community_policy(settings: Settings) -> CommunityPolicy:
    return CommunityPolicy(
        site_name=settings.site_name,
        base_url=settings.base_url.rstrip("/"),
        session_days=settings.session_days,
        signin_per_hour_per_address=_limit(settings, settings.signin_rate_limit_per_hour),
        signin_per_hour_per_ip=_limit(settings, settings.signin_rate_limit_per_hour_per_ip),
        comments_per_hour=_limit(settings, settings.comment_rate_limit_per_hour),
        submissions_per_day=_limit(settings, settings.submission_rate_limit_per_day),
        submission_window_days=settings.submission_window_days,
    )


def digest_policy(settings: Settings) -> DigestPolicy:
    return DigestPolicy(
        site_name=settings.site_name,
        base_url=settings.base_url.rstrip("/"),
        mail_from=settings.mail_from,
        top_n=settings.digest_top_n,
        quiet_mode=settings.digest_quiet_mode,
        confirm_hours=settings.digest_confirm_hours,
        subscribe_per_hour_per_ip=_limit(
            settings, settings.digest_subscribe_rate_limit_per_hour_per_ip
        ),
        subscribe_per_hour_per_address=_limit(
            settings, settings.digest_subscribe_rate_limit_per_hour
        ),
        batch_size=settings.digest_batch_size,
        lease_seconds=settings.digest_lease_seconds,
        retry_base_seconds=settings.digest_retry_base_seconds,
        max_attempts=settings.digest_max_attempts,
        max_wait_seconds=settings.digest_max_wait_seconds,
        bounce_threshold=settings.digest_bounce_threshold,
        trending_half_life_hours=settings.trending_half_life_hours,
        trending_window_days=settings.trending_window_days,
    )


def harvest_policy(settings: Settings) -> HarvestPolicy:
    return HarvestPolicy(
        oai_url=settings.arxiv_oai_url,
        api_url=settings.arxiv_api_url,
        rss_url=settings.arxiv_rss_url,
        min_interval_seconds=settings.arxiv_min_interval_seconds,
        timeout_seconds=settings.http_timeout_seconds,
        max_retries=settings.http_max_retries,
        contact_email=settings.contact_email,
        feature_rules=feature_rules(settings),
        grace_hours=settings.harvest_grace_hours,
    )


def feature_rules(settings: Settings) -> FeatureRules:
    return FeatureRules(
        rule=settings.feature_rule,
        categories=tuple(settings.feature_categories),
        queries=tuple(settings.feature_queries),
        new_within_days=settings.feature_new_within_days,
    )


def vector_plan(settings: Settings) -> VectorPlan:
    return VectorPlan(
        model_dir=model_dir(settings.data_dir, MINILM_ID),
        model_id=MINILM_ID,
        dim=MINILM_DIM,
        threads=settings.embedding_threads,
        batch_size=settings.embedding_batch_size,
        exact_max=settings.search_exact_max_rows,
    )


def semantic_config(settings: Settings) -> SemanticConfig:
    return SemanticConfig(
        LazyEmbedder(
            model_dir(settings.data_dir, MINILM_ID),
            threads=settings.embedding_threads,
            quantized=settings.embedding_int8_queries,
        ),
        min_similarity=settings.search_min_similarity,
        exact_max=settings.search_exact_max_rows,
    )


def schedule_plan(settings: Settings) -> SchedulePlan:
    return SchedulePlan(
        times=tuple(_clock_time(at) for at in settings.schedule_times),
        zone=settings.schedule_time_zone,
        harvest_sets=tuple(settings.schedule_harvest_sets),
        lease_seconds=settings.schedule_lease_seconds,
        digest_hour=settings.digest_hour,
        digest_zone=settings.digest_time_zone,
    )


def _clock_time(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def scheduled_jobs(services: Services) -> list[Job]:
    """What `dailypapers schedule` runs, in order: harvest, feature, index, digests. Each job
    is built the way its command builds it (tests/integration/test_schedule_parity.py)."""
    db, index, plan = services.db, services.search_index, services.schedule
    return [
        harvest_job(db, index, services.open_arxiv, plan.harvest_sets),
        feature_job(db, index, services.harvest.feature_rules),
        index_job(db, index, services.vectors),
        digests_job(
            services.digest_sender().run, hour=plan.digest_hour, zone=ZoneInfo(plan.digest_zone)
        ),
    ]


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
