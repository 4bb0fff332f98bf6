"""InferenceSession.run against onnxruntime.InferenceSession.run on the CPU,
same models, same thread defaults, same graph optimisation level, measured
in the same run with interleaved batches.

    python bench/bench_session.py [--quick] [--no-save]

Prints a table and writes it to bench/results/<date>-session-cpu.md. Needs an
installed xpuruntime with its ONNX Runtime backend, plus onnx and onnxruntime.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

import xpuruntime as xrt

from benchlib import interleaved_medians, save_results

try:
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper
except ImportError as error:
    sys.exit(f"bench_session.py needs onnx and onnxruntime ({error})")

HERE = Path(__file__).resolve().parent


def _serialise(nodes, inputs, outputs, initializers=()) -> bytes:
    graph = helper.make_graph(nodes, "bench", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def add_model() -> tuple[bytes, dict[str, np.ndarray]]:
    """One Add node on 16 floats: nearly all of run() is per-call overhead."""
    spec = [16]
    model = _serialise([helper.make_node("Add", ["a", "b"], ["c"])],
                       [helper.make_tensor_value_info("a", TensorProto.FLOAT, spec),
                        helper.make_tensor_value_info("b", TensorProto.FLOAT, spec)],
                       [helper.make_tensor_value_info("c", TensorProto.FLOAT, spec)])
    rng = np.random.default_rng(0)
    feed = {"a": rng.standard_normal(16, dtype=np.float32),
            "b": rng.standard_normal(16, dtype=np.float32)}
    return model, feed


def mlp_model(width: int = 1024, layers: int = 3, batch: int = 32):
    """Gemm+Relu layers, width x width, on a (batch, width) input."""
    rng = np.random.default_rng(0)
    nodes, inits = [], []
    x = "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
        b = (0.01 * rng.standard_normal(width)).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        y = f"gemm{i}"
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [y]))
        x = y
        if i < layers - 1:
            nodes.append(helper.make_node("Relu", [y], [f"relu{i}"]))
            x = f"relu{i}"
    nodes.append(helper.make_node("Identity", [x], ["y"]))
    model = _serialise(nodes,
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", width])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", width])],
                       inits)
    feed = {"x": rng.standard_normal((batch, width), dtype=np.float32)}
    return model, feed


def compare(model: bytes, feed, calls: int, repeats: int):
    ours = xrt.InferenceSession(model, backend="onnxruntime",
                                graph_optimization_level="ORT_ENABLE_ALL")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    theirs = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    got, want = ours.run(None, feed)[0], theirs.run(None, feed)[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    for _ in range(max(calls // 10, 3)):  # warm both
        ours.run(None, feed)
        theirs.run(None, feed)
    return interleaved_medians([lambda: ours.run(None, feed), lambda: theirs.run(None, feed)],
                               calls, repeats)


def c_figures(model: bytes) -> tuple[float, float] | None:
    """Seconds per xrt_session_run and per ORT C-API Run on `model`, from
    bench_session_c.cpp built against the installed package."""
    cxx = shutil.which("c++") or shutil.which("g++")
    ort_lib = os.environ.get("XRT_ONNXRUNTIME_LIB", "")
    if not cxx or not shutil.which("pkg-config") or not os.path.exists(ort_lib):
        print("skipping the C figures: needs a C++ compiler, pkg-config and onnxruntime",
              file=sys.stderr)
        return None
    env = dict(os.environ, PKG_CONFIG_PATH=xrt.get_pkgconfig_dir())
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "xpuruntime"], env=env,
                           check=True, capture_output=True, text=True).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        exe, path = Path(tmp) / "bench_session_c", Path(tmp) / "add.onnx"
        path.write_bytes(model)
        subprocess.run([cxx, "-O2", "-std=c++17", str(HERE / "bench_session_c.cpp"),
                        f"-I{HERE.parent / 'lib' / 'backends' / 'onnxruntime'}", "-o", str(exe),
                        *flags, "-ldl"], check=True)
        out = subprocess.run([str(exe), str(path), ort_lib], check=True, capture_output=True,
                             text=True).stdout
    figures = dict(line.split() for line in out.splitlines())
    return float(figures["xrt_session_run_ns"]) * 1e-9, float(figures["ort_run_ns"]) * 1e-9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    repeats = 5 if args.quick else 31
    backends = {b.name: b for b in xrt.backends()}
    if "onnxruntime" not in backends or not backends["onnxruntime"].available:
        reason = backends["onnxruntime"].reason if "onnxruntime" in backends else "not built"
        sys.exit(f"xpuruntime's onnxruntime backend is unavailable: {reason}")

    rows = []  # (what, ours s, theirs s, unit scale, unit, target)
    model, feed = add_model()
    ours, theirs = compare(model, feed, 500 if args.quick else 2000, repeats)
    rows.append(("Add, 16 floats (per-call overhead)", ours, theirs, 1e6, "us", "ratio <= 1.05"))
    c = c_figures(model)
    if c:
        rows.append(("Add, 16 floats, from C: xrt_session_run vs ORT Run", *c, 1e6, "us",
                     "at most 2 us more"))
    model, feed = mlp_model()
    ours, theirs = compare(model, feed, 3 if args.quick else 10, repeats)
    rows.append(("MLP 3x1024 Gemm+Relu, batch 32", ours, theirs, 1e3, "ms", "ratio <= 1.05"))

    header = ("| what | xpuruntime | onnxruntime | ratio | unit | target |\n"
              "|---|---|---|---|---|---|")
    lines = [f"| {what} | {ours * scale:.2f} | {theirs * scale:.2f} | {ours / theirs:.3f} "
             f"| {unit} | {target} |" for what, ours, theirs, scale, unit, target in rows]
    table = "\n".join([header, *lines])
    print(table)

    if not args.no_save:
        save_results(
            "session-cpu", "InferenceSession vs onnxruntime on the CPU",
            f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__} "
            f"(backend {backends['onnxruntime'].version or 'onnxruntime'})",
            "python bench/bench_session.py" + (" --quick" if args.quick else ""),
            f"Both sessions use the default thread settings (intra_op_num_threads unset) "
            f"and ORT_ENABLE_ALL; each figure is the median over {repeats} interleaved "
            f"batches of the time one `run(None, feed)` takes, numpy in and out.\n\n"
            f"Ratio: xpuruntime's time / onnxruntime's (below 1 means xpuruntime is "
            f"faster).", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
