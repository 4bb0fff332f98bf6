#!/usr/bin/env python3
"""Builds the demo model the package ships: python/xpuruntime/models/demo_encoder.onnx.

    python tools/make_demo_model.py [--output PATH] [--seed N]

A 2-layer pre-norm transformer encoder written with the ``onnx`` package's
helper API (no torch): width 64, 4 heads, FFN 256, LayerNormalization
(opset 17), attention as MatMul/Softmax, GELU in its erf form. Input
"tokens" is float32 (batch, seq, 64) with symbolic "batch" and "seq"; output
"hidden" has the same shape. Weights come from a fixed seed, so the file is
reproducible byte for byte (about 0.4 MB).
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    sys.exit("make_demo_model.py needs the onnx package: pip install onnx")

WIDTH = 64
HEADS = 4
FFN = 256
LAYERS = 2
OPSET = 17
DEFAULT_OUTPUT = (Path(__file__).resolve().parent.parent / "python" / "xpuruntime" / "models"
                  / "demo_encoder.onnx")


class Builder:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, hint: str, value: np.ndarray) -> str:
        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, hint: str, fan_in: int, fan_out: int) -> str:
        scale = 1.0 / math.sqrt(fan_in)
        w = self.rng.uniform(-scale, scale, size=(fan_in, fan_out)).astype(np.float32)
        return self.const(hint, w)

    def bias(self, hint: str, size: int) -> str:
        return self.const(hint, (0.02 * self.rng.standard_normal(size)).astype(np.float32))

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, **attrs) -> str:
        out = self.name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def linear(self, x: str, hint: str, fan_in: int, fan_out: int) -> str:
        y = self.op("MatMul", [x, self.weight(f"{hint}_w", fan_in, fan_out)], f"{hint}_mm")
        return self.op("Add", [y, self.bias(f"{hint}_b", fan_out)], hint)

    def layer_norm(self, x: str, hint: str) -> str:
        scale = self.const(f"{hint}_scale",
                           (1.0 + 0.05 * self.rng.standard_normal(WIDTH)).astype(np.float32))
        shift = self.const(f"{hint}_bias", (0.02 * self.rng.standard_normal(WIDTH)).astype(np.float32))
        return self.op("LayerNormalization", [x, scale, shift], hint, axis=-1, epsilon=1e-5)

    def gelu(self, x: str) -> str:
        scaled = self.op("Div", [x, self.const("sqrt2", np.array(math.sqrt(2.0), np.float32))])
        erf = self.op("Erf", [scaled])
        one_plus = self.op("Add", [erf, self.const("one", np.array(1.0, np.float32))])
        half_x = self.op("Mul", [x, self.const("half", np.array(0.5, np.float32))])
        return self.op("Mul", [half_x, one_plus], "gelu")

    def attention(self, x: str, hint: str) -> str:
        head_dim = WIDTH // HEADS
        split = self.const("split_heads", np.array([0, 0, HEADS, head_dim], np.int64))
        merge = self.const("merge_heads", np.array([0, 0, WIDTH], np.int64))

        def heads(name: str, perm: list[int]) -> str:
            y = self.linear(x, f"{hint}_{name}", WIDTH, WIDTH)
            y = self.op("Reshape", [y, split], f"{hint}_{name}_split")
            return self.op("Transpose", [y], f"{hint}_{name}_t", perm=perm)

        q = heads("q", [0, 2, 1, 3])  # (B, H, S, D)
        k = heads("k", [0, 2, 3, 1])  # (B, H, D, S)
        v = heads("v", [0, 2, 1, 3])  # (B, H, S, D)
        scores = self.op("MatMul", [q, k], f"{hint}_scores")
        scores = self.op("Mul", [scores, self.const("scale", np.array(1.0 / math.sqrt(head_dim),
                                                                        np.float32))])
        probs = self.op("Softmax", [scores], f"{hint}_probs", axis=-1)
        ctx = self.op("MatMul", [probs, v], f"{hint}_ctx")
        ctx = self.op("Transpose", [ctx], f"{hint}_ctx_t", perm=[0, 2, 1, 3])
        ctx = self.op("Reshape", [ctx, merge], f"{hint}_ctx_merged")
        return self.linear(ctx, f"{hint}_out", WIDTH, WIDTH)

    def encoder_layer(self, x: str, index: int) -> str:
        hint = f"layer{index}"
        x = self.op("Add", [x, self.attention(self.layer_norm(x, f"{hint}_ln1"), f"{hint}_attn")],
                    f"{hint}_res1")
        h = self.layer_norm(x, f"{hint}_ln2")
        h = self.gelu(self.linear(h, f"{hint}_ffn1", WIDTH, FFN))
        h = self.linear(h, f"{hint}_ffn2", FFN, WIDTH)
        return self.op("Add", [x, h], f"{hint}_res2")


def build(seed: int = 0) -> onnx.ModelProto:
    b = Builder(np.random.default_rng(seed))
    x = "tokens"
    for i in range(LAYERS):
        x = b.encoder_layer(x, i)
    x = b.layer_norm(x, "final_ln")
    b.nodes.append(helper.make_node("Identity", [x], ["hidden"], name="output"))
    dims = ["batch", "seq", WIDTH]
    graph = helper.make_graph(
        b.nodes, "demo_encoder",
        [helper.make_tensor_value_info("tokens", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, dims)],
        b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="xpuruntime tools/make_demo_model.py")
    model.ir_version = 8  # opset 17 needs IR 8; older runtimes accept it
    model.doc_string = (f"{LAYERS}-layer transformer encoder, width {WIDTH}, {HEADS} heads, "
                        f"FFN {FFN}; random weights (seed {seed}).")
    onnx.checker.check_model(model, full_check=True)
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = build(args.seed)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(args.output))
    size = args.output.stat().st_size
    print(f"wrote {args.output} ({size / 1024:.0f} KiB, {len(model.graph.node)} nodes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
