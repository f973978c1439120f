"""The ONNX graph built from the safetensors weights without torch (search/onnx_build.py, #18):
the same vectors as ../shared/data/minilm for 240 real abstracts, 8-bit query graphs within the
bar of test_semantic_model.py, onnxruntime's fusions applied, and a build with torch and
transformers unimportable."""

from __future__ import annotations

import collections
import gzip
import itertools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest

from dailypapers.errors import ConfigurationError
from dailypapers.search.embedder import (
    DOCUMENT_BATCH,
    MODEL_FILE,
    QUANTIZED_MODEL_FILE,
    UNSIGNED_MODEL_FILE,
    OnnxEmbedder,
    Vectors,
    document_text,
    has_int8_dot_products,
    has_runtime_files,
)
from dailypapers.search.model_files import packaged_weights, write_runtime
from dailypapers.search.onnx_build import build_graph
from tests.conftest import REPO, require

pytestmark = [pytest.mark.shared, pytest.mark.slow]
PAPERS = 240


def _weights() -> Path:
    try:
        return packaged_weights()
    except ConfigurationError as exc:
        require(False, f"the packaged weights are not installed: {exc}")
        raise


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("onnx-build") / "all-MiniLM-L6-v2"
    write_runtime(_weights(), directory, build_graph)
    return directory


@pytest.fixture(scope="module")
def abstracts(shared_dir: Path) -> tuple[list[str], Vectors]:
    """Every 40th paper of hf_daily_papers (240) and its shared vector: title, newline, abstract,
    truncated at 256 word pieces (the recipe of ../shared/data/minilm)."""
    data = shared_dir / "data"
    ids = (data / "minilm" / "ids.txt").read_text().split()
    rows = {arxiv_id: row for row, arxiv_id in enumerate(ids)}
    vectors = np.load(data / "minilm" / "vectors.f16.npy", mmap_mode="r")
    with gzip.open(data / "hf_daily_papers.jsonl.gz", "rt") as source:
        records = [json.loads(line) for line in itertools.islice(source, 0, None, 40)]
    assert len(records) == PAPERS
    texts = [document_text(r["title"], r["abstract"]) for r in records]
    expected = np.asarray(vectors[[rows[r["arxiv_id"]] for r in records]], dtype=np.float32)
    return texts, expected


def _embed(
    directory: Path, texts: list[str], *, quantized: bool = False, model_file: str | None = None
) -> Vectors:
    embedder = OnnxEmbedder(directory, quantized=quantized, model_file=model_file)
    batches = range(0, len(texts), DOCUMENT_BATCH)
    return np.concatenate([embedder.embed(texts[i : i + DOCUMENT_BATCH]) for i in batches])


def test_the_built_graphs_match_the_shared_vectors(
    built: Path, abstracts: tuple[list[str], Vectors]
) -> None:
    texts, expected = abstracts
    documents = _embed(built, texts)
    cosines = (documents * expected).sum(axis=1)
    assert cosines.min() >= 0.999, f"min {cosines.min():.6f}, mean {cosines.mean():.6f}"
    # The query graph this CPU gets, and the unsigned one (which holds on any CPU), within the
    # bar of test_semantic_model.py; signed weights saturate without VNNI (cos 0.988), so they
    # are held to it only where the CPU has 8-bit dot products.
    graphs = {"picked": None, UNSIGNED_MODEL_FILE: UNSIGNED_MODEL_FILE}
    if has_int8_dot_products():
        graphs[QUANTIZED_MODEL_FILE] = QUANTIZED_MODEL_FILE
    for label, model_file in graphs.items():
        queries = _embed(built, texts, quantized=True, model_file=model_file)
        agreement = (queries * documents).sum(axis=1)
        assert agreement.min() >= 0.99, f"{label}: min {agreement.min():.6f}"


def test_onnxruntime_fuses_the_built_graph(built: Path) -> None:
    assert has_runtime_files(built)
    assert (built / UNSIGNED_MODEL_FILE).is_file()

    def ops(name: str) -> collections.Counter[str]:
        model = onnx.load(str(built / name))
        return collections.Counter(node.op_type for node in model.graph.node)

    plain = ops(MODEL_FILE)
    assert plain["Attention"] == 6
    assert plain["EmbedLayerNormalization"] == 1
    assert plain["SkipLayerNormalization"] == 12
    assert plain["BiasGelu"] == 6
    for name in (QUANTIZED_MODEL_FILE, UNSIGNED_MODEL_FILE):
        assert ops(name)["QAttention"] == 6


BLOCKED = """
import importlib.abc, sys

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "transformers", "sentence_transformers", "sympy"}:
            raise ImportError(f"{name} is blocked")
        return None

sys.meta_path.insert(0, Blocker())
from pathlib import Path
from dailypapers.search.model_files import ensure_exported

assert ensure_exported(Path(sys.argv[1]))  # the default path: what `vectors export` and `index` run
import dailypapers.web.app, dailypapers.cli  # and the served app itself
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "transformers"})
assert not loaded, loaded
print("built")
"""


def test_the_build_needs_neither_torch_nor_transformers_nor_sympy_and_warns_of_nothing(
    tmp_path: Path,
) -> None:
    _weights()
    directory = tmp_path / "all-MiniLM-L6-v2"
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(BLOCKED), str(directory)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().endswith("built")
    # Nothing on stderr: logging's last-resort handler would print any warning of the build
    # (onnxruntime's tools gave three that do not apply; model_files.KNOWN_NOISE).
    assert result.stderr.strip() == "", result.stderr[-4000:]
    assert has_runtime_files(directory)
    assert (directory / UNSIGNED_MODEL_FILE).is_file()


SERVED = """
import sys
import dailypapers.web.app, dailypapers.cli, dailypapers.services
loaded = sorted(m for m in sys.modules if m.split(".")[0] in {"torch", "transformers",
    "sentence_transformers"})
print(loaded)
"""


def test_importing_the_served_app_imports_no_torch_or_transformers() -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SERVED)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]", result.stdout


@pytest.mark.export
def test_the_torch_export_still_gives_the_same_vectors(
    built: Path, abstracts: tuple[list[str], Vectors], tmp_path: Path
) -> None:
    """`vectors export --torch` (the export extra): the same graph, to float rounding. The default
    virtualenv has no torch, so this skips there; `make test-export` (which .ci/run calls) runs it
    in .venv-export, where a missing torch fails."""
    if os.environ.get("DAILYPAPERS_TEST_EXPORT") == "1":
        import torch  # noqa: F401  (a missing torch fails the export run)
        import transformers  # noqa: F401
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from dailypapers.search.model_files import make_runtime

    exported = tmp_path / "all-MiniLM-L6-v2"
    make_runtime(exported, use_torch=True)
    texts = abstracts[0][:48]
    ours, theirs = _embed(built, texts), _embed(exported, texts)
    cosines = np.sum(ours * theirs, axis=1)
    assert float(cosines.min()) >= 0.9999, float(cosines.min())
