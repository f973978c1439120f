"""Settings: typed, documented, read from DAILYPAPERS_* variables and an optional TOML file.

Only the composition root (services), web/app.py and the cli package import this module; lower code
receives plain values. There is no module-level settings object.

Past the ~400-line guide on purpose: it is one table, a field per setting with its default and
description (docs/configuration.md is generated from it), in the manner of miniflux's options.go.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_FILE_ENV = "DAILYPAPERS_CONFIG_FILE"


class Settings(BaseSettings):
    """Every setting dailypapers reads. Each field's description is its documentation."""

    model_config = SettingsConfigDict(
        env_prefix="DAILYPAPERS_", extra="forbid", validate_default=True, frozen=True
    )

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder for the SQLite file, the secret key, reject files and derived indexes.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the store. Empty means the embedded default, "
            "sqlite:///DATA_DIR/dailypapers.sqlite3. For PostgreSQL use "
            "postgresql+psycopg://user@host:5432/dbname."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Key that signs tokens and sessions. Empty means the key file that `dailypapers init` "
            "writes into the data directory. Placeholders and keys under 32 characters are refused."
        ),
    )
    secret_key_file: Path | None = Field(
        default=None,
        description="Read the secret key from this file instead (e.g. a mounted secret).",
    )
    environment: Literal["production", "development"] = Field(
        default="production",
        description="'development' allows a short or placeholder secret key; never on a server.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the site, used in feeds, emails and absolute links.",
    )
    site_name: str = Field(
        default="dailypapers", description="Name shown in page titles and feeds."
    )
    trending_half_life_hours: float = Field(
        default=48.0,
        gt=0,
        description="Half-life of a vote in the trending score: a vote this old counts half.",
    )
    trending_window_days: int = Field(
        default=7, ge=1, le=365, description="How far back trending looks for votes and papers."
    )
    import_batch_size: int = Field(
        default=5000, ge=1, le=100_000, description="Records written per transaction on import."
    )
    embedding_threads: int = Field(
        default=2,
        ge=1,
        le=64,
        description=(
            "CPU threads the embedding runtime uses in each process: for query vectors when "
            "searching, and for paper vectors in `dailypapers index`."
        ),
    )
    embedding_batch_size: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Papers embedded per batch by `dailypapers index` (large batches are slower).",
    )
    embedding_int8_queries: bool = Field(
        default=True,
        description=(
            "Embed queries with the int8 graph (about 3x faster on long queries, cos >= 0.99 to "
            "float32); papers are always embedded in float32."
        ),
    )
    # Reading float16 rows with SIMD dot products costs about 2 ms per 10k rows in place on 2
    # cores, more when gathered; past it an HNSW graph answers in a millisecond or two at recall
    # 0.99 (bench/results/search_hybrid.md).
    search_exact_max_rows: int = Field(
        default=20_000,
        ge=1,
        description=(
            "Vector search is exact (numpy) up to this many candidate papers; past it an HNSW "
            "graph (usearch, f16) is built by `dailypapers index` and used."
        ),
    )
    # Tuned with the fusion (docs/search.md).
    search_min_similarity: float = Field(
        default=0.35,
        ge=-1.0,
        le=1.0,
        description=(
            "A semantic hit counts as a match (total, chart, shown in hybrid mode) at this cosine "
            "or above."
        ),
    )
    import_max_field_chars: int = Field(
        default=100_000,
        ge=1_000,
        description="A record with any text field longer than this is rejected as corrupt.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Logging threshold."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description=(
            "text: one readable line per record; json: one JSON object per line (time, level, "
            "logger, message, request_id) for a log collector."
        ),
    )
    access_log: bool = Field(
        default=False,
        description=(
            "Log one line per request (method, path with tokens redacted, route, status, "
            "duration, client, request id), in log_format. `serve --access-log` turns it on."
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description=(
            "Addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For, "
            "X-Forwarded-Proto and X-Request-ID the app believes; a request from anywhere else "
            'keeps its own address and scheme. "*" trusts everyone: only when nothing but the '
            "proxy can reach the app."
        ),
    )
    metrics_allow: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description=(
            "Client addresses or networks (CIDR) that may read /metrics (after trusted_proxies "
            'resolved the client); "*" allows everyone; empty turns /metrics off (404).'
        ),
    )
    arxiv_oai_url: str = Field(
        default="https://oaipmh.arxiv.org/oai",
        description="Base URL of arXiv's OAI-PMH endpoint, which `harvest` pages through.",
    )
    arxiv_api_url: str = Field(
        default="https://export.arxiv.org/api/query",
        description="arXiv's query API (Atom), used to look up a paper the store lacks.",
    )
    arxiv_rss_url: str = Field(
        default="https://rss.arxiv.org/rss",
        description="arXiv's RSS base URL; categories are appended, e.g. /cs.LG+cs.CL.",
    )
    arxiv_min_interval_seconds: float = Field(
        default=3.0,
        ge=0,
        description=(
            "Least time between two requests to arXiv (API, OAI-PMH and RSS together), shared "
            "by every process through the store. arXiv asks for 3 seconds; do not go lower."
        ),
    )
    http_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Connect and read timeout of one upstream request."
    )
    http_max_retries: int = Field(
        default=5,
        ge=0,
        le=20,
        description=(
            "Retries of an upstream request that failed to connect or answered 429 or 5xx, with "
            "exponential backoff (or the upstream's Retry-After) between them."
        ),
    )
    contact_email: str | None = Field(
        default=None,
        description="Address put in the User-Agent of upstream requests, so arXiv can reach you.",
    )
    smtp_url: str = Field(
        default="",
        description=(
            "Mail server for sign-in links and digests: smtp://user:pass@host:587?starttls=true "
            "or smtps://user:pass@host:465. Empty means no server: messages are written to the "
            "maildir DATA_DIR/outbox instead (the demo default)."
        ),
    )
    mail_from: str = Field(
        default="dailypapers <noreply@localhost>",
        description="The From address of every message the site sends.",
    )
    session_days: int = Field(
        default=30, ge=1, le=365, description="How long a sign-in lasts before signing in again."
    )
    signin_rate_limit_per_hour: int = Field(
        default=5,
        ge=1,
        description="Sign-in links one email address may be sent per hour (flood protection).",
    )
    signin_rate_limit_per_hour_per_ip: int = Field(
        default=30, ge=1, description="Sign-in requests one IP address may make per hour."
    )
    comment_rate_limit_per_hour: int = Field(
        default=30, ge=1, description="Comments one user may post per hour."
    )
    submission_rate_limit_per_day: int = Field(
        default=10, ge=1, description="Papers one user may submit per UTC day."
    )
    rate_limits: bool = Field(
        default=True,
        description=(
            "Per-address limits on the API, search, sign-in, comments, submissions and digest "
            "subscriptions. off (DAILYPAPERS_RATE_LIMITS=off) turns every one of them off: for "
            "benchmarks, evaluations and deployments only trusted clients reach."
        ),
    )
    api_rate_limit_per_minute: int = Field(
        default=600,
        ge=1,
        description=(
            "Requests one client address may make per minute to the JSON API and the feeds, "
            "bursts included, before a 429 with Retry-After. Counted in each worker process "
            "(not in the store): with N workers a client may get up to N times this."
        ),
    )
    search_rate_limit_per_minute: int = Field(
        default=120,
        ge=1,
        description=(
            "Search points one client address may spend per minute (search page, "
            "/api/papers/search, search feeds), per worker process like api_rate_limit_per_minute: "
            "a keyword search costs 1 point, a semantic or hybrid one search_semantic_cost."
        ),
    )
    search_semantic_cost: int = Field(
        default=4,
        ge=1,
        le=1_000,
        description=(
            "Points a semantic or hybrid search (the default mode) costs against "
            "search_rate_limit_per_minute: embedding the query costs real CPU."
        ),
    )
    submission_window_days: int = Field(
        default=14,
        ge=0,
        description=(
            "Only papers first published within this many days can be submitted (as on Hugging "
            "Face); 0 accepts papers of any age."
        ),
    )
    dkim_private_key_file: Path | None = Field(
        default=None,
        description=(
            "PEM private key (RSA or Ed25519) to DKIM-sign mail sent over smtp_url. Empty: no "
            "signing (sign at the relay instead). Publish the public key at "
            "<dkim_selector>._domainkey.<dkim_domain>."
        ),
    )
    dkim_selector: str = Field(default="dailypapers", description="The DKIM selector.")
    dkim_domain: str = Field(
        default="", description="The DKIM signing domain; empty means mail_from's domain."
    )
    digest_top_n: int = Field(
        default=10, ge=1, le=100, description="Papers in one email digest at most."
    )
    digest_quiet_mode: Literal["skip", "note"] = Field(
        default="skip",
        description=(
            "A digest period with nothing new: skip sends nothing (the ledger records it as "
            "quiet, and `digest status` shows it); note sends a short 'quiet week' message."
        ),
    )
    digest_confirm_hours: int = Field(
        default=72, ge=1, le=720, description="How long a digest opt-in link stays valid."
    )
    digest_subscribe_rate_limit_per_hour: int = Field(
        default=3, ge=1, description="Opt-in mails one address may be sent per hour."
    )
    digest_subscribe_rate_limit_per_hour_per_ip: int = Field(
        default=20, ge=1, description="Digest subscriptions one IP address may ask for per hour."
    )
    digest_batch_size: int = Field(
        default=100, ge=1, le=10_000, description="Deliveries one sender claims at a time."
    )
    digest_lease_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "How long a claimed batch stays a sender's; renewed at half-time while it sends. "
            "A crashed sender's rows are taken over once it passes."
        ),
    )
    digest_retry_base_seconds: float = Field(
        default=30.0,
        ge=0,
        description="First backoff after a temporary SMTP failure; it doubles per attempt.",
    )
    digest_max_attempts: int = Field(
        default=6, ge=1, description="Attempts per digest before it is marked failed."
    )
    digest_max_wait_seconds: float = Field(
        default=600.0,
        ge=0,
        description="How long `digest send` waits for retries before leaving them to a later run.",
    )
    digest_bounce_threshold: int = Field(
        default=3,
        ge=1,
        description="Permanent (5xx) refusals after which an address is marked bouncing.",
    )
    digest_hour: int = Field(
        default=7, ge=0, le=23, description="Hour of the day digests go out (for `schedule`)."
    )
    digest_time_zone: str = Field(
        default="UTC",
        description="Time zone of digest_hour and of a digest's day, e.g. Europe/Paris.",
    )
    feature_rule: Literal["none", "categories", "queries"] = Field(
        default="none",
        description=(
            "Which harvested papers join a day's list: none (community submissions only, as on "
            "Hugging Face), categories (every new paper in feature_categories) or queries (new "
            "papers matching one of feature_queries). A paper is never featured twice."
        ),
    )
    feature_categories: list[str] = Field(
        default_factory=list,
        description=(
            'arXiv categories for the categories rule, cross-lists included, e.g. ["cs.LG", '
            '"cs.CL"] (JSON in the environment variable).'
        ),
    )
    feature_queries: list[str] = Field(
        default_factory=list,
        description=(
            "Search queries for the queries rule, in the search page's syntax (ti:, au:, abs:, "
            'cat:, "phrases", -exclusions), matched by keyword search.'
        ),
    )
    feature_new_within_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description=(
            "Only papers first published this many days before the feature run count as new: "
            "new versions and backfilled old papers never reach a day's list."
        ),
    )
    harvest_grace_hours: float = Field(
        default=6.0,
        gt=0,
        le=72,
        description=(
            "Hours after an arXiv announcement (20:00 US-Eastern, Sunday to Thursday) before "
            "/status and the daily page call a harvest that has not caught it late."
        ),
    )

    schedule_times: list[str] = Field(
        default_factory=lambda: ["21:30", "01:00"],
        description=(
            "Times of day (HH:MM in schedule_time_zone) at which `schedule` runs harvest, feature "
            "and index. arXiv announces at 20:00 US-Eastern; digests also run at digest_hour."
        ),
    )
    schedule_time_zone: str = Field(
        default="America/New_York", description="Time zone of schedule_times (arXiv's own)."
    )
    schedule_harvest_sets: list[str] = Field(
        default_factory=list,
        description=(
            'OAI-PMH sets the scheduled harvest takes, e.g. ["cs", "stat"]; empty harvests all '
            "of arXiv."
        ),
    )
    schedule_lease_seconds: float = Field(
        default=60.0,
        ge=5,
        description=(
            "Lifetime of the scheduler's lock in the store, renewed every third of it. A standby "
            "scheduler takes over this long after the holder dies; machines' clocks must agree "
            "far better than this."
        ),
    )

    @field_validator("schedule_times")
    @classmethod
    def _clock_times(cls, values: list[str]) -> list[str]:
        for value in values:
            hours, _, minutes = value.partition(":")
            if not (
                hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60
            ):
                raise ValueError(f"schedule_times takes HH:MM times, not {value!r}")
        return values

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            if value != "*":
                try:
                    ipaddress.ip_network(value, strict=False)
                except ValueError:
                    raise ValueError(
                        f"expected IP addresses or CIDR networks (or *), not {value!r}"
                    ) from None
        return values

    @field_validator("database_url")
    @classmethod
    def _blank_is_default(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("base_url")
    @classmethod
    def _web_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or any(ch.isspace() or ord(ch) < 32 for ch in value)
        ):
            raise ValueError("base_url must be an http(s) URL such as https://papers.example.org")
        return value

    @field_validator("mail_from")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value or "@" not in value:
            raise ValueError("mail_from must be one line with an address, e.g. Papers <a@b.org>")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'dailypapers.sqlite3').resolve()}"

    @property
    def secret_key_path(self) -> Path:
        return self.data_dir / "secret_key"


SECRET_FIELDS = frozenset({"secret_key"})


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings: overrides first, then DAILYPAPERS_* variables, then the TOML file.

    The TOML file is `config_file`, else the file named by DAILYPAPERS_CONFIG_FILE, else none.
    """
    if config_file is None and os.environ.get(CONFIG_FILE_ENV):
        config_file = Path(os.environ[CONFIG_FILE_ENV])
    if config_file is None:
        return _checked(Settings, overrides)
    if not config_file.is_file():
        raise FileNotFoundError(f"config file not found: {config_file}")

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=config_file)

    return _checked(FileSettings, overrides)


class SettingsError(ValueError):
    """Settings that do not validate. The message names each field and what is wrong, never the
    value given: a misspelt `smtp_pasword = "..."` must not print the password."""


def _checked(kind: type[Settings], overrides: dict[str, Any]) -> Settings:
    try:
        return kind(**overrides)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise SettingsError("; ".join(problems)) from None


def describe_settings(settings: Settings) -> dict[str, str]:
    """The effective settings as text, secrets masked, for `config show`: the secret key, and the
    password or token in any URL (user:password@, or a password=/token=/key= parameter)."""
    shown: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if name in SECRET_FIELDS:
            shown[name] = "********" if value is not None else "(from key file)"
        elif name == "database_url":
            shown[name] = mask_url(settings.effective_database_url)
        elif isinstance(value, str) and "://" in value:
            shown[name] = mask_url(value)
        else:
            shown[name] = "" if value is None else str(value)
    return shown


_SECRET_PARAMS = re.compile(
    r"(?i)([?&;](?:password|passwd|pass|pwd|secret|token|api_?key|key|sslpassword)=)[^&;#]*"
)


def mask_url(url: str) -> str:
    """`url` with the password of its user part and any secret-looking parameter masked."""
    url = _SECRET_PARAMS.sub(r"\1********", url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" not in authority:
        return url
    credentials, _, host = authority.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    masked = f"{user}{':********' if has_password else ''}@{host}"
    return f"{scheme}://{masked}{slash}{tail}"
