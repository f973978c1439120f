"""Exporting the all-MiniLM-L6-v2 graph with torch: the only code that imports torch and
transformers, kept for `dailypapers vectors export --torch` and the export extra
(`pip install 'dailypapers[export]'`), for another model or a check of `search/onnx_build.py`,
which writes the same graph without torch. `search/model_files.py` runs either and does the rest
(fusion, 8-bit query graphs, tokenizer, manifest).

The graph takes word pieces and returns the mean-pooled, L2-normalised sentence vector, so the
serving runtime (`search/embedder.py`) needs only onnxruntime and the tokenizer.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any


def export_graph(weights_dir: Path, out: Path, opset: int) -> str:
    """Write the unfused float32 graph of the weights in `weights_dir` to the file `out` with
    torch's TorchScript exporter; what made it, for the manifest."""
    import torch
    from transformers import AutoModel

    # Eager attention: its subgraph is the one onnxruntime fuses into an Attention node
    # (scaled_dot_product_attention exports to a shape it does not recognise).
    model = AutoModel.from_pretrained(str(weights_dir), attn_implementation="eager").eval()
    wrapper = _pooled(torch, model)
    sample = torch.ones((2, 8), dtype=torch.long)
    # dynamo=False on purpose: the TorchScript exporter needs no onnxscript and gives the graph
    # the fidelity test checks; torch warns that it is the legacy path, and says so loudly.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)  # transformers' mask shapes
        torch.onnx.export(
            wrapper,
            (sample, sample, torch.zeros_like(sample)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "token_type_ids": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=opset,
            dynamo=False,
        )
    return f"torch {torch.__version__}"


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
