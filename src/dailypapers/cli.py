"""The command line: init, migrate, import, serve, stats, config show; maps errors to messages."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import click

from dailypapers import __version__
from dailypapers.community.accounts import grant_admin
from dailypapers.community.data_export import export_user_data
from dailypapers.config import CONFIG_FILE_ENV, Settings, describe_settings, load_settings
from dailypapers.digest.render import render_digest
from dailypapers.digest.send import Sender, find_subscriber, next_digest, status_summary
from dailypapers.domain import ImportCounts
from dailypapers.errors import DailyPapersError
from dailypapers.ingest.formats import FORMATS
from dailypapers.ingest.harvest import harvest as harvest_set
from dailypapers.ingest.importer import import_file
from dailypapers.schedule import Scheduler
from dailypapers.search.catchup import CatchUpReport, catch_up
from dailypapers.search.catchup import rebuild as rebuild_index
from dailypapers.search.embedder import OnnxEmbedder, has_runtime_files
from dailypapers.search.vectors import embed_missing, import_vectors, refresh_vectors
from dailypapers.secret_key import write_secret_key
from dailypapers.services import (
    Services,
    build,
    latest_digest_deliveries,
    require_current_schema,
    scheduled_jobs,
    secret_key,
)
from dailypapers.status import compute_status, describe_status
from dailypapers.store.backup import (
    atomic_file,
    check_file_argument,
    check_new_file,
    new_restore_epoch,
)
from dailypapers.store.backup import backup as backup_store
from dailypapers.store.backup import restore as restore_store
from dailypapers.store.migrate import upgrade
from dailypapers.store.stats import compute_stats

F = TypeVar("F", bound=Callable[..., Any])
# Below this size a second parsing process costs more to start than it saves.
SUBPROCESS_MIN_BYTES = 8 * 1024 * 1024


class _State:
    def __init__(self, config_file: Path | None, debug: bool) -> None:
        self.config_file = config_file
        self.debug = debug

    def settings(self) -> Settings:
        try:
            return load_settings(self.config_file)
        except (OSError, ValueError, RecursionError) as exc:
            # OSError: a path that is a folder or unreadable; RecursionError: TOML nested too deep.
            raise click.ClickException(f"bad settings: {exc}") from exc


@contextmanager
def _services(state: _State) -> Iterator[Services]:
    services = build(state.settings())
    try:
        yield services
    finally:
        services.close()


@contextmanager
def _friendly_errors(state: _State) -> Iterator[None]:
    try:
        yield
    except DailyPapersError as exc:
        if state.debug:
            raise
        raise click.ClickException(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dailypapers")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_FILE_ENV,
    help="TOML settings file (also DAILYPAPERS_CONFIG_FILE). Environment variables override it.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks instead of short error messages.")
@click.pass_context
def main(ctx: click.Context, config_file: Path | None, debug: bool) -> None:
    """dailypapers: a self-hostable research-papers hub."""
    ctx.obj = _State(config_file, debug)


@main.command()
@click.pass_obj
def init(state: _State) -> None:
    """Create the data directory and secret key, and bring the schema up to date."""
    settings = state.settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if write_secret_key(settings.secret_key_path):
        click.echo(f"wrote a new secret key to {settings.secret_key_path} (mode 0600)")
    else:
        click.echo(f"kept the existing secret key in {settings.secret_key_path}")
    with _friendly_errors(state), _services(state) as services:
        applied = upgrade(services.db)
        click.echo(f"database {services.db.url}: {_applied_text(applied)}")


@main.command()
@click.pass_obj
def migrate(state: _State) -> None:
    """Apply pending schema migrations."""
    with _friendly_errors(state), _services(state) as services:
        click.echo(f"database {services.db.url}: {_applied_text(upgrade(services.db))}")


def _applied_text(applied: list[str]) -> str:
    return f"applied migrations {', '.join(applied)}" if applied else "schema is up to date"


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="Force the record format instead of detecting it from the first records.",
)
@click.option(
    "--rejects",
    "reject_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write rejected records (default: DATA_DIR/rejects/FILE.rejects.jsonl).",
)
@click.option("--batch-size", type=click.IntRange(1, 100_000), help="Records per transaction.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--single-process",
    is_flag=True,
    help="Parse in this process instead of a second one: slower, a little less memory.",
)
@click.pass_obj
def import_command(
    state: _State,
    file: Path,
    fmt: str | None,
    reject_path: Path | None,
    batch_size: int | None,
    quiet: bool,
    single_process: bool,
) -> None:
    """Import papers from a JSON-lines FILE (plain or .gz).

    Formats: Hugging Face daily-papers records (hf), arXiv metadata records (arxiv), and Kaggle's
    arxiv-metadata-oai-snapshot (kaggle). Re-importing is safe: unchanged papers are not rewritten.
    """
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        rejects = reject_path or services.data_dir / "rejects" / f"{file.name}.rejects.jsonl"
        signal.signal(signal.SIGTERM, _raise_interrupt)
        total = file.stat().st_size
        show_bar = not quiet and sys.stderr.isatty()
        with click.progressbar(
            length=total, label=f"importing {file.name}", file=sys.stderr, hidden=not show_bar
        ) as bar:
            done = 0

            def progress(bytes_read: int, counts: ImportCounts) -> None:
                nonlocal done
                bar.update(bytes_read - done)
                done = bytes_read

            try:
                report = import_file(
                    services.db,
                    file,
                    fmt=fmt,  # type: ignore[arg-type]
                    batch_size=batch_size or services.import_batch_size,
                    max_field_chars=services.import_max_field_chars,
                    reject_path=rejects,
                    progress=progress,
                    parse_in_subprocess=not single_process and total > SUBPROCESS_MIN_BYTES,
                )
            except KeyboardInterrupt:
                raise click.ClickException(
                    "interrupted: whole batches were kept; run the same import again to finish"
                ) from None
        caught_up = catch_up(services.db, services.search_index)
    counts = report.counts
    rate = counts.papers_seen / report.seconds if report.seconds > 0 else 0.0
    click.echo(
        f"{file.name} ({report.format}): {counts.lines:,} lines, {counts.papers_seen:,} papers "
        f"({counts.papers_changed:,} new or changed), {counts.featured_changed:,} featured "
        f"listings new or changed over {report.featured_days:,} featured days, "
        f"{counts.rejects:,} rejected, in {report.seconds:.1f} s ({rate:,.0f} papers/s)"
    )
    if report.reject_path:
        click.echo(f"rejected records, with line numbers and reasons: {report.reject_path}")
    click.echo(_index_summary(caught_up))


@main.command()
@click.option("--set", "set_spec", help="OAI set: an archive (cs) or a category (cs:cs:LG).")
@click.option(
    "--from",
    "from_date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="First datestamp to harvest (default: the last successful one of this set).",
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last datestamp to harvest.")
@click.option(
    "--metadata-prefix",
    type=click.Choice(["arXiv", "arXivRaw"]),
    default="arXiv",
    show_default=True,
    help="arXivRaw adds each paper's version history.",
)
@click.pass_obj
def harvest(
    state: _State,
    set_spec: str | None,
    from_date: datetime | None,
    until: datetime | None,
    metadata_prefix: str,
) -> None:
    """Harvest papers from arXiv's OAI-PMH endpoint, politely and resumably.

    One request every 3 seconds at most, shared with every other dailypapers process. A killed
    harvest resumes from its last stored page; with no --from it continues from the last successful
    datestamp.
    """
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        signal.signal(signal.SIGTERM, _raise_interrupt)
        with services.open_arxiv() as arxiv:
            try:
                report = harvest_set(
                    services.db,
                    arxiv.oai,
                    set_spec=set_spec,
                    from_date=from_date.date() if from_date else None,
                    until=until.date() if until else None,
                    metadata_prefix=metadata_prefix,
                )
            except KeyboardInterrupt:
                raise click.ClickException(
                    "interrupted: stored pages were kept; run the same harvest again to resume"
                ) from None
        caught_up = catch_up(services.db, services.search_index)
    counts = report.counts
    click.echo(
        f"harvested {report.set_spec or 'all of arXiv'} ({report.metadata_prefix}) "
        f"{report.from_date or 'start'} to {report.until or 'now'}"
        f"{' (resumed)' if report.resumed else ''}: {report.pages:,} pages, "
        f"{counts.papers_seen:,} papers ({counts.papers_changed:,} new or changed), "
        f"{counts.rejects:,} rejected, last datestamp {report.last_datestamp}, "
        f"in {report.seconds:.1f} s"
    )
    click.echo(_index_summary(caught_up))


@main.command()
@click.option(
    "--rebuild", is_flag=True, help="Build the index from scratch instead of catching up."
)
@click.option(
    "--embed/--no-embed",
    default=True,
    show_default=True,
    help="Embed papers whose vector is missing or stale (slow: about 20 papers/s on 2 cores).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_obj
def index(state: _State, rebuild: bool, embed: bool, quiet: bool) -> None:
    """Bring the search index up to date with the store, vectors included.

    The index is derived data in DATA_DIR/index: it can be deleted at any time and rebuilt from
    the store. `import` and `harvest` catch it up themselves; run this after other changes, or with
    --rebuild after deleting or damaging it. Servers pick up the new generation within a second.

    Then it embeds every paper whose vector is missing or stale (exporting the model first if
    needed), in committed batches: an interrupted run keeps its work and the next one resumes.
    Papers not yet embedded are still found by keyword.
    """
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        action = rebuild_index if rebuild else catch_up
        click.echo(_index_summary(action(services.db, services.search_index)))
        if embed:
            _embed(services, quiet)
        _refresh_vectors(services, force=rebuild)


def _embed(services: Services, quiet: bool) -> None:
    if not has_runtime_files(services.model_dir):
        try:
            from dailypapers.search.onnx_export import ensure_exported

            ensure_exported(services.model_dir)
        except DailyPapersError as exc:
            click.echo(f"papers not embedded: {exc}")
            return
    embedder = OnnxEmbedder(services.model_dir, threads=services.embedding_threads)
    with click.progressbar(length=1, label="embedding papers", show_eta=True) as bar:
        done = [0]

        def progress(embedded: int, total: int) -> None:
            if quiet:
                return
            bar.length = max(total, 1)
            bar.update(embedded - done[0])
            done[0] = embedded

        try:
            report = embed_missing(
                services.db, embedder, progress=progress, batch_size=services.embedding_batch_size
            )
        except KeyboardInterrupt:
            raise click.ClickException(
                "interrupted: embedded batches were kept; run `dailypapers index` to resume"
            ) from None
    click.echo(
        f"embedded {report.embedded:,} papers ({report.current:,} already current) "
        f"in {report.seconds:.1f} s"
    )


def _refresh_vectors(services: Services, *, force: bool = False) -> None:
    config = services.semantic
    report = refresh_vectors(
        services.db,
        services.search_index,
        services.embedding_model_id,
        services.embedding_dim,
        exact_max=config.exact_max if config else 20_000,
        force=force,
    )
    if report.rebuilt:
        click.echo(
            f"vector index: generation {report.generation}, {report.rows:,} papers with vectors, "
            f"{report.missing:,} without (found by keyword only)"
        )


@main.group()
def vectors() -> None:
    """Paper vectors for semantic search: export the model, import precomputed vectors."""


@vectors.command("export")
@click.option("--force", is_flag=True, help="Export again even when the files are there.")
@click.pass_obj
def vectors_export(state: _State, force: bool) -> None:
    """Export the embedding model to ONNX in DATA_DIR/models, once (needs the export extra).

    Serving needs only that file (onnxruntime); torch is used here and nowhere else.
    """
    from dailypapers.search.onnx_export import ensure_exported, export_model

    with _friendly_errors(state), _services(state) as services:
        if force:
            export_model(services.model_dir)
        elif not ensure_exported(services.model_dir):
            click.echo(f"already exported: {services.model_dir}")
            return
        click.echo(f"exported {services.embedding_model_id} to {services.model_dir}")


@vectors.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--ids",
    "ids_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="arXiv ids, one a line, row i of FILE for line i (default: FILE's name with .ids.txt).",
)
@click.option(
    "--model",
    "model_id",
    default="sentence-transformers/all-MiniLM-L6-v2",
    show_default=True,
    help="The model the vectors were computed with; must be this hub's.",
)
@click.pass_obj
def vectors_import(state: _State, file: Path, ids_file: Path | None, model_id: str) -> None:
    """Load precomputed paper vectors (a float16 or float32 .npy) into the store.

    Checks the model id and the dimensions; ids not in the store are skipped. Then the vector
    part of the search index is refreshed.
    """
    ids_path = ids_file or file.with_name(file.name.split(".", 1)[0] + ".ids.txt")
    if not ids_path.is_file():
        raise click.ClickException(f"no ids file {ids_path}: pass --ids")
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        report = import_vectors(
            services.db,
            file,
            ids_path,
            model_id=model_id,
            expected_model_id=services.embedding_model_id,
            expected_dim=services.embedding_dim,
            now=datetime.now(UTC),
        )
        click.echo(f"imported {report.written:,} vectors ({report.unknown:,} ids not in the store)")
        catch_up(services.db, services.search_index)
        _refresh_vectors(services)


def _index_summary(report: CatchUpReport) -> str:
    how = "rebuilt" if report.rebuilt else "caught up"
    return (
        f"search index {how}: generation {report.generation}, {report.docs:,} papers, "
        f"{report.written:,} written, {report.deleted:,} removed, {report.skipped:,} unchanged, "
        f"in {report.seconds:.1f} s"
    )


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help="Log one line per request (default: the access_log setting).",
)
@click.option(
    "--metrics-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=(
        "Folder where the workers keep their metrics for /metrics (PROMETHEUS_MULTIPROC_DIR), "
        "emptied at start; one per serve. Default: that variable if set, else a temporary "
        "folder when --workers > 1, removed at exit."
    ),
)
@click.pass_obj
def serve(
    state: _State,
    host: str,
    port: int,
    workers: int,
    access_log: bool | None,
    metrics_dir: Path | None,
) -> None:
    """Serve the site and the JSON API (refuses to start while migrations are pending).

    Behind a reverse proxy, the proxy's X-Forwarded-For, X-Forwarded-Proto and X-Request-ID are
    believed from the addresses in the trusted_proxies setting only (docs/deploy.md).
    """
    import uvicorn

    settings = state.settings()
    with _friendly_errors(state):
        secret_key(settings)
        with _services(state) as services:
            require_current_schema(services.db)
    # The workers build their own settings from the environment: hand them the file and flags.
    if state.config_file is not None:
        os.environ[CONFIG_FILE_ENV] = str(state.config_file.resolve())
    if access_log is not None:
        os.environ["DAILYPAPERS_ACCESS_LOG"] = "true" if access_log else "false"
    folder, temporary = _metrics_dir(metrics_dir, workers)
    click.echo(f"serving on http://{host}:{port} with {workers} worker(s)")
    try:
        uvicorn.run(
            "dailypapers.web.app:create_app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            # The app logs requests itself (tokens redacted, request ids, log_format) and reads
            # forwarded headers itself, from trusted_proxies only.
            access_log=False,
            log_config=None,
            log_level="warning",
            proxy_headers=False,
            server_header=False,
        )
    finally:
        if temporary and folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _metrics_dir(given: Path | None, workers: int) -> tuple[Path | None, bool]:
    """The multiprocess metrics folder, emptied, and whether it is a temporary one."""
    import tempfile

    if given is None and os.environ.get(MULTIPROC_ENV):
        given = Path(os.environ[MULTIPROC_ENV])
    if given is None:
        if workers == 1:
            return None, False
        folder = Path(tempfile.mkdtemp(prefix="dailypapers-metrics-"))
        os.environ[MULTIPROC_ENV] = str(folder)
        return folder, True
    # Counts left by an earlier run would be added to this one's.
    given.mkdir(parents=True, exist_ok=True)
    for stale in given.glob("*.db"):
        # Only prometheus_client's own files (counter_123.db, gauge_livesum_123.db, ...).
        if re.fullmatch(r"(counter|histogram|summary|gauge_\w+)_\d+\.db", stale.name):
            stale.unlink()
    os.environ[MULTIPROC_ENV] = str(given.resolve())
    return given, False


@main.command("static-dir")
def static_dir() -> None:
    """Print the folder of the site's static files, for a reverse proxy to serve /static/ from."""
    from importlib.resources import files

    click.echo(str(files("dailypapers.web") / "static"))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def stats(state: _State, as_json: bool) -> None:
    """Show counts, date ranges and the database size."""
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        result = compute_stats(services.db)
    facts: dict[str, Any] = {
        "backend": result.backend,
        "papers": result.papers,
        "authors": result.authors,
        "featured papers": result.featured,
        "featured days": result.featured_days,
        "published": _range(result.first_published, result.last_published),
        "featured": _range(result.first_featured, result.last_featured),
        "last import": result.last_ingest_at.isoformat() if result.last_ingest_at else "never",
        "database size": _size(result.database_bytes),
    }
    if as_json:
        click.echo(json.dumps(facts, indent=2))
        return
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        click.echo(
            f"{key:<{width}}  {value:,}" if isinstance(value, int) else f"{key:<{width}}  {value}"
        )


@main.command()
@click.option(
    "--every",
    "every_seconds",
    type=click.FloatRange(min=0.1),
    help="Run the pipeline every SECONDS instead of at schedule_times (tests, trials).",
)
@click.option("--for", "for_seconds", type=click.FloatRange(min=0), help="Stop after SECONDS.")
@click.option(
    "--once", is_flag=True, help="Run the pipeline once now if the lock is free, then exit."
)
@click.pass_obj
def schedule(
    state: _State, every_seconds: float | None, for_seconds: float | None, once: bool
) -> None:
    """Run harvest, feature, index and digests at the configured times, until stopped.

    Holds a lock in the store, so a second scheduler (here or on another machine sharing
    PostgreSQL) stands by and takes over when this one stops. Each job's outcome is in `status`.
    """
    settings = state.settings()
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        runner = Scheduler(
            services.db,
            scheduled_jobs(services, secret_key(settings)),
            services.schedule.timing(every_seconds or (1.0 if once else None)),
            lease_seconds=services.schedule.lease_seconds,
            on_event=lambda text: click.echo(f"{datetime.now(UTC):%H:%M:%S} {text}"),
        )
        report = runner.run(
            stop, max_runs=1 if once else None, seconds=for_seconds, wait_for_lock=not once
        )
    click.echo(f"{report.pipelines} pipeline run{'' if report.pipelines == 1 else 's'}")


@main.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def status_command(state: _State, as_json: bool) -> None:
    """Show freshness: the last harvest against arXiv's calendar, the index, jobs and failures.

    Exits with status 1 when the harvest is late or the index cannot be read (for monitoring).
    """
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        report = compute_status(
            services.db,
            services.search_index,
            grace_hours=services.harvest_grace_hours,
            digest_ledger=latest_digest_deliveries,
        )
    facts = describe_status(report)
    if as_json:
        click.echo(json.dumps(facts, indent=2))
    else:
        width = max(len(k) for k in facts)
        for key, value in facts.items():
            if isinstance(value, list):
                value = "none" if not value else "\n" + "\n".join(f"  {v}" for v in value)
            click.echo(f"{key:<{width}}  {value}")
    if not report.healthy:
        sys.exit(1)


def _range(first: object, last: object) -> str:
    return f"{first} to {last}" if first else "none"


def _size(size: int | None) -> str:
    if size is None:
        return "unknown"
    return f"{size / 1e6:,.1f} MB"


@main.group()
def admin() -> None:
    """Manage the community's moderators."""


@admin.command("grant")
@click.argument("email")
@click.pass_obj
def admin_grant(state: _State, email: str) -> None:
    """Make the account with EMAIL an admin, creating it if needed.

    An admin signs in with that address and moderates at /moderation: hide papers, delete
    comments, suspend users.
    """
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        account = grant_admin(services.db, email, now=datetime.now(UTC))
    click.echo(f"{account.email} (@{account.username}) is now an admin")


@main.group()
def digest() -> None:
    """Email digests: send a period, preview one, show the ledger."""


def _digest_day(raw: datetime | None, time_zone: str) -> date:
    if raw is not None:
        return raw.date()
    return datetime.now(ZoneInfo(time_zone)).date()


@digest.command("send")
@click.option("--period", "frequency", type=click.Choice(["daily", "weekly"]), required=True)
@click.option(
    "--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="A day of the period (default today)."
)
@click.pass_obj
def digest_send(state: _State, frequency: str, day: datetime | None) -> None:
    """Send every confirmed subscriber their digest for the period, exactly once.

    Safe to rerun after a crash and to run on several machines at once (docs/digests.md).
    """
    settings = state.settings()
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        assert services.mailer is not None
        sender = Sender(
            services.db,
            services.mailer,
            services.digest,
            secret_key(settings),
            index=services.search_index,
            model_id=services.embedding_model_id,
        )
        report = sender.run(frequency, _digest_day(day, settings.digest_time_zone))
    click.echo(
        f"{report.period}: {report.sent} sent, {report.quiet} quiet, {report.retried} retried, "
        f"{report.bounced} bounced, {report.failed} failed, {report.skipped} skipped "
        f"in {report.seconds:.1f} s"
    )


@digest.command("preview")
@click.argument("email")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="A day of the period.")
@click.pass_obj
def digest_preview(state: _State, email: str, day: datetime | None) -> None:
    """Print the plain-text part of EMAIL's next digest; sends and records nothing."""
    settings = state.settings()
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        secret = secret_key(settings)
        subscriber = find_subscriber(services.db, email)
        when = _digest_day(day, settings.digest_time_zone)
        period, items = next_digest(
            services.db,
            services.digest,
            secret,
            subscriber,
            when,
            datetime.now(UTC),
            index=services.search_index,
            model_id=services.embedding_model_id,
        )
        mail = render_digest(secret, services.digest, subscriber, period, items)
    click.echo(f"Subject: {mail.subject}\n\n{mail.text}")


@digest.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_obj
def digest_status(state: _State, as_json: bool) -> None:
    """Show subscribers, and per period what was sent, failed and is pending."""
    with _friendly_errors(state), _services(state) as services:
        require_current_schema(services.db)
        summary = status_summary(services.db)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo("subscribers: " + _pairs(summary["subscribers"]))
    for period, statuses in summary["periods"].items():  # type: ignore[attr-defined]
        click.echo(f"{period}: {_pairs(statuses)}")
    for period, sid, status, error in summary["recent_errors"]:  # type: ignore[attr-defined]
        click.echo(f"  {period} #{sid} {status}: {error}")


def _pairs(counts: object) -> str:
    assert isinstance(counts, dict)
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"


@main.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite PATH when it exists.")
@click.pass_obj
def backup_command(state: _State, path: Path, force: bool) -> None:
    """Write a consistent snapshot of the store to PATH while the server keeps running.

    SQLite: the backup API, one self-contained file. PostgreSQL: pg_dump's custom format (pg_dump
    on PATH, as new as the server). PATH is written beside and renamed into place, readable by
    its owner only. The search index is not in it: `restore` rebuilds it.
    """
    with _friendly_errors(state), _services(state) as services:
        target = check_new_file(path, force=force, db=services.db)
        started = time.perf_counter()
        size = backup_store(services.db, target)
        click.echo(
            f"backed up {services.db.url} to {target} ({_size(size)}) "
            f"in {time.perf_counter() - started:.1f} s"
        )


@main.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that already has content.")
@click.pass_obj
def restore_command(state: _State, path: Path, force: bool) -> None:
    """Replace the store's content with the snapshot PATH made by `backup`, then rebuild the
    search index.

    All or nothing: SQLite copies it in one transaction (running servers see the old store or
    the restored one), PostgreSQL runs pg_restore --clean --single-transaction. A store with
    content is replaced only with --force. Pending migrations of an older snapshot are applied.
    Other machines' search indexes rebuild on their next catch-up.
    """
    with _friendly_errors(state), _services(state) as services:
        snapshot = check_file_argument(path, must_exist=True)
        restore_store(services.db, snapshot, force=force)
        click.echo(f"restored {snapshot} into {services.db.url}")
        applied = upgrade(services.db)
        if applied:
            click.echo(f"applied migrations {', '.join(applied)}")
        new_restore_epoch(services.db, datetime.now(UTC))
        click.echo(_index_summary(rebuild_index(services.db, services.search_index)))
        _refresh_vectors(services, force=True)


@main.command("export")
@click.option("--user", "email", required=True, help="The account's email address.")
@click.option(
    "--output",
    type=click.Path(path_type=Path),
    help="Write the JSON to this file (readable by its owner only) instead of stdout.",
)
@click.option("--force", is_flag=True, help="Overwrite --output when it exists.")
@click.pass_obj
def export_command(state: _State, email: str, output: Path | None, force: bool) -> None:
    """Write one user's own data as JSON: profile, votes, submissions, comments, subscriptions,
    saved searches, API token names and paper-link edits (no secrets).
    """
    with _friendly_errors(state), _services(state) as services:
        target = check_new_file(output, force=force, db=services.db) if output else None
        require_current_schema(services.db)
        data = export_user_data(services.db, email, now=datetime.now(UTC))
    document = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if target is None:
        click.echo(document, nl=False)
        return
    with atomic_file(target) as partial:
        partial.write_text(document, encoding="utf-8")
    click.echo(f"wrote the data of {data['profile']['email']} to {target}", err=True)


@main.group()
def config() -> None:
    """Inspect the effective settings."""


@config.command("show")
@click.pass_obj
def config_show(state: _State) -> None:
    """Print every setting with its effective value; secrets are masked."""
    for name, value in describe_settings(state.settings()).items():
        click.echo(f"{name} = {value}")
