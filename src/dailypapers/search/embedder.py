"""Turning text into vectors: the `Embedder` protocol, the serving runtime (onnxruntime +
tokenizers over the ONNX file exported once into the data directory) and a tiny deterministic
`HashEmbedder` for plumbing tests. The only serving module that imports onnxruntime or
tokenizers, lazily.

It never makes the model files (`search/model_files.py` does, once, without torch).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from dailypapers.errors import ConfigurationError

log = logging.getLogger(__name__)

MINILM_ID = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_DIM = 384
# The recipe of ../shared/data/minilm: sentence-transformers truncates at 256 word pieces.
MINILM_MAX_TOKENS = 256
MODEL_FILE = "model.onnx"
# MatMul and attention weights quantised per channel to 8 bits: within cos 0.99 of the float32
# graph; queries use them, documents keep float32 (fidelity). Signed weights where the CPU has
# 8-bit dot-product instructions (VNNI, AMX), unsigned ones elsewhere (see query_model_file).
QUANTIZED_MODEL_FILE = "model.int8.onnx"
UNSIGNED_MODEL_FILE = "model.uint8.onnx"
TOKENIZER_FILE = "tokenizer.json"
MANIFEST_FILE = "manifest.json"
# Documents are embedded in batches this large: bigger batches are slower on 2 cores (padding
# and attention buffers) and use GBs of memory (research/tech-bench.md §1).
DOCUMENT_BATCH = 16

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Embeds texts into unit-length float32 rows of `dim` values (cosine = dot product)."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def document_text(title: str, abstract: str) -> str:
    """What a paper's vector is computed from: the shared vectors' recipe."""
    return f"{title}\n{abstract}"


def text_hash(text: str) -> str:
    """sha256 of the embedded text: a changed title or abstract makes the stored vector stale."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def model_dir(data_dir: Path, model_id: str = MINILM_ID) -> Path:
    """Where the exported runtime files of a model live: DATA_DIR/models/<name>/."""
    return data_dir / "models" / model_id.rsplit("/", 1)[-1]


def has_runtime_files(directory: Path) -> bool:
    names = (MODEL_FILE, QUANTIZED_MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE)
    return all((directory / name).is_file() for name in names)


# CPU flags (Linux /proc/cpuinfo names) of 8-bit dot-product instructions without saturation.
_INT8_DOT_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8", "asimddp"})


@functools.cache
def has_int8_dot_products() -> bool:
    """Whether this CPU multiplies signed by unsigned bytes without saturating 16-bit sums (VNNI,
    AMX, Arm dot products); False when unknown (no /proc/cpuinfo)."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = {
        word
        for line in info.splitlines()
        if line.startswith(("flags", "Features"))
        for word in line.split(":", 1)[-1].split()
    }
    return bool(flags & _INT8_DOT_FLAGS)


def query_model_file(directory: Path) -> str:
    """The 8-bit query graph of `directory` for this CPU: signed weights are 2-3x faster where
    the CPU has VNNI or AMX; without them (AVX2 only) they saturate (cos 0.989), so unsigned
    weights are used. An export older than format 3 has one 8-bit graph (unsigned): that one."""
    if has_int8_dot_products() or not (directory / UNSIGNED_MODEL_FILE).is_file():
        return QUANTIZED_MODEL_FILE
    return UNSIGNED_MODEL_FILE


class OnnxEmbedder:
    """The serving runtime: one onnxruntime session over the exported graph (mean pooling and L2
    normalisation inside it), word pieces from the model's own tokenizer.json. Thread-safe.

    `quantized` picks the 8-bit graph for this CPU: for queries, where latency counts; documents
    use float32. `model_file` names another graph of the folder.
    """

    def __init__(
        self,
        directory: Path,
        *,
        threads: int = 2,
        quantized: bool = False,
        model_file: str | None = None,
    ) -> None:
        if not has_runtime_files(directory):
            raise ConfigurationError(
                f"no exported embedding model in {directory}: run `dailypapers vectors export`"
            )
        import onnxruntime
        from tokenizers import Tokenizer

        manifest = json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))
        self._model_id = str(manifest["model_id"])
        self._dim = int(manifest["dim"])
        max_tokens = int(manifest["max_tokens"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = onnxruntime.InferenceSession(
            str(
                directory
                / (model_file or (query_model_file(directory) if quantized else MODEL_FILE))
            ),
            options,
            providers=["CPUExecutionProvider"],
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_tokens)
        self._tokenizer.no_padding()
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:  # the tokenizer's truncation state is shared; encoding is cheap
            encodings = self._tokenizer.encode_batch(list(texts))
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        (out,) = self._session.run(["embedding"], feed)
        return np.ascontiguousarray(out, dtype=np.float32)


class HashEmbedder:
    """Deterministic bag-of-words vectors (hashed words, L2-normalised): texts sharing words are
    close. For tests of the plumbing only; search quality is measured with the real model."""

    def __init__(self, dim: int = 32, model_id: str = "test/hash-words") -> None:
        self._dim = dim
        self._model_id = model_id

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode("utf-8"), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self._dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else 1.0 / np.sqrt(self._dim)
        return out


class LazyEmbedder:
    """Opens the runtime on first use, so a process that never embeds never pays for it; a
    missing model file is remembered (and logged once) rather than retried on every query."""

    def __init__(self, directory: Path, *, threads: int = 2, quantized: bool = True) -> None:
        self.directory = directory
        self._threads = threads
        self._quantized = quantized
        self._opened: OnnxEmbedder | None = None
        self._failed_at: float | None = None
        self._mutex = threading.Lock()

    def get(self) -> OnnxEmbedder | None:
        """The runtime, or None when the exported model is absent (checked again every minute)."""
        if self._opened is not None:
            return self._opened
        with self._mutex:
            if self._opened is not None:
                return self._opened
            if self._failed_at is not None and time.monotonic() - self._failed_at < 60.0:
                return None
            try:
                self._opened = OnnxEmbedder(
                    self.directory, threads=self._threads, quantized=self._quantized
                )
            except (ConfigurationError, ImportError) as exc:
                if self._failed_at is None:
                    log.warning("semantic search is off, keyword search only: %s", exc)
                self._failed_at = time.monotonic()
                return None
            return self._opened


def load_runtime_first() -> None:
    """Import onnxruntime if it is installed. usearch calls this before loading itself: importing
    onnxruntime after usearch 2.26 / numkong crashes the process (a segmentation fault), the other
    order works."""
    with contextlib.suppress(ImportError):
        import onnxruntime  # noqa: F401


def default_threads() -> int:
    return min(2, os.cpu_count() or 1)
