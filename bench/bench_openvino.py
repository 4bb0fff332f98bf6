"""OpenVINO through xpuruntime, against OpenVINO's own Python API and
against xpuruntime's ONNX Runtime backend, measured in the same run.

    python bench/bench_openvino.py [--quick] [--no-save]

Rows: the shipped demo encoder (1x16x64) on OpenVINO vs ONNX Runtime, both
through xpuruntime; and a one-node Add on 16 floats through
xrt.InferenceSession(backend="openvino") vs OpenVINO's compiled model and
infer request from Python (per-call overhead). Writes
bench/results/<date>-openvino-cpu.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import xpuruntime as xrt

from benchlib import interleaved_medians, save_results

try:
    import openvino as ov
    from onnx import TensorProto, helper
except ImportError as missing:
    sys.exit(f"needs openvino and onnx: {missing}")

DEMO = Path(xrt.__file__).parent / "models" / "demo_encoder.onnx"


def add_model() -> bytes:
    spec = [16]
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "add",
                              [helper.make_tensor_value_info("a", TensorProto.FLOAT, spec),
                               helper.make_tensor_value_info("b", TensorProto.FLOAT, spec)],
                              [helper.make_tensor_value_info("c", TensorProto.FLOAT, spec)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    return model.SerializeToString()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    repeats = 5 if args.quick else 31
    backends = {b.name: b for b in xrt.backends()}
    if not backends.get("openvino") or not backends["openvino"].available:
        sys.exit("xpuruntime's openvino backend is unavailable")

    rows = []
    tokens = np.random.default_rng(0).standard_normal((1, 16, 64), dtype=np.float32)
    with xrt.InferenceSession(str(DEMO), backend="openvino") as ovs, \
            xrt.InferenceSession(str(DEMO), backend="onnxruntime") as orts:
        a, b = ovs.run(None, {"tokens": tokens})[0], orts.run(None, {"tokens": tokens})[0]
        assert np.abs(a - b).max() < 1e-4, "the backends disagree on the demo model"
        ours, theirs = interleaved_medians([lambda: ovs.run(None, {"tokens": tokens}),
                                            lambda: orts.run(None, {"tokens": tokens})],
                                           20 if args.quick else 100, repeats)
    rows.append(("demo encoder 1x16x64: openvino vs onnxruntime (both via xpuruntime)",
                 ours, theirs, "onnxruntime"))

    model = add_model()
    x = np.arange(16, dtype=np.float32)
    feed = {"a": x, "b": x}
    core = ov.Core()
    compiled = core.compile_model(core.read_model(model=model, weights=b""), "CPU",
                                  {"INFERENCE_PRECISION_HINT": "f32"})
    request = compiled.create_infer_request()
    with xrt.InferenceSession(model, backend="openvino") as s:
        np.testing.assert_array_equal(s.run(None, feed)[0], x + x)
        ours, theirs = interleaved_medians([lambda: s.run(None, feed),
                                            lambda: request.infer(feed)],
                                           500 if args.quick else 3000, repeats)
    rows.append(("Add, 16 floats: per-call overhead vs OpenVINO's Python API", ours, theirs,
                 "openvino"))

    header = "| what | xpuruntime | reference | ratio | unit |\n|---|---|---|---|---|"
    lines = [f"| {what} | {o * 1e6:.2f} | {t * 1e6:.2f} ({ref}) | {o / t:.3f} | us |"
             for what, o, t, ref in rows]
    table = "\n".join([header, *lines])
    print(table)
    if not args.no_save:
        save_results("openvino-cpu", "OpenVINO backend on the CPU", f"openvino {ov.__version__}",
                     "python bench/bench_openvino.py",
                     f"Medians of {repeats} interleaved batches; ratio is xpuruntime's time / "
                     f"the reference's (below 1 means faster).", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
