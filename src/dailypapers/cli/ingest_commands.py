"""Getting papers in: import a JSON-lines file, harvest arXiv's OAI-PMH endpoint."""

from __future__ import annotations

import signal
import sys
from datetime import datetime
from pathlib import Path

import click

from dailypapers.cli.common import (
    State,
    friendly_errors,
    index_summary,
    open_services,
    raise_interrupt,
)
from dailypapers.domain import ImportCounts
from dailypapers.ingest.formats import FORMATS
from dailypapers.ingest.harvest import harvest as harvest_set
from dailypapers.ingest.importer import import_file
from dailypapers.search.catchup import catch_up
from dailypapers.services import (
    require_current_schema,
)

# Below this size a second parsing process costs more to start than it saves.
SUBPROCESS_MIN_BYTES = 8 * 1024 * 1024


@click.command("import")
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
    state: State,
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
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        rejects = reject_path or services.site.data_dir / "rejects" / f"{file.name}.rejects.jsonl"
        signal.signal(signal.SIGTERM, raise_interrupt)
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
                    batch_size=batch_size or services.imports.batch_size,
                    max_field_chars=services.imports.max_field_chars,
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
    click.echo(index_summary(caught_up))


@click.command()
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
    state: State,
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
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        signal.signal(signal.SIGTERM, raise_interrupt)
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
    click.echo(index_summary(caught_up))
