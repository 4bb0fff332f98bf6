"""xpuruntime.onnxruntime against onnxruntime itself on the CPU: the same
onnxruntime code, one import changed, measured in the same run with
interleaved batches.

    python bench/bench_ort_compat.py [--quick] [--no-save]

Rows: InferenceSession.run, IO binding (inputs bound once, outputs copied to
numpy each call, as onnxruntime's docs do it), IO binding with the inputs
bound again each call (new arrays of the same shape, the usual loop over
batches) and run_with_ort_values, on
bench_session.py's tiny Add model and its MLP. Prints a table and writes it
to bench/results/<date>-ort-compat-cpu.md.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

import xpuruntime as xrt
import xpuruntime.onnxruntime as xort

from bench_session import add_model, mlp_model
from benchlib import interleaved_medians, save_results

try:
    import onnx
    import onnxruntime as ort
except ImportError as error:
    sys.exit(f"bench_ort_compat.py needs onnx and onnxruntime ({error})")


def _session(module, model):
    options = module.SessionOptions()
    options.graph_optimization_level = module.GraphOptimizationLevel.ORT_ENABLE_ALL
    return module.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _calls(module, sess, feed):
    """The four usages, written once for either module."""
    output = sess.get_outputs()[0].name
    binding = sess.io_binding()
    for name, value in feed.items():
        binding.bind_cpu_input(name, value)
    binding.bind_output(output)
    values = {name: module.OrtValue.ortvalue_from_numpy(value) for name, value in feed.items()}

    def bound():
        sess.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]

    rebinding = sess.io_binding()
    rebinding.bind_output(output)
    batches = [{name: value.copy() for name, value in feed.items()} for _ in range(2)]
    turn = [0]

    def rebound():  # batches alternate, as in a loop over data
        turn[0] ^= 1
        for name, value in batches[turn[0]].items():
            rebinding.bind_cpu_input(name, value)
        sess.run_with_iobinding(rebinding)
        return rebinding.copy_outputs_to_cpu()[0]

    return {
        "run": lambda: sess.run(None, feed)[0],
        "io binding": bound,
        "io binding, inputs bound each call": rebound,
        "run_with_ort_values": lambda: sess.run_with_ort_values([output], values)[0].numpy(),
    }


def compare(model, feed, calls, repeats):
    ours = _calls(xort, _session(xort, model), feed)
    theirs = _calls(ort, _session(ort, model), feed)
    results = {}
    for usage in ours:
        np.testing.assert_allclose(ours[usage](), theirs[usage](), rtol=1e-5, atol=1e-5)
        for _ in range(max(calls // 10, 3)):  # warm both
            ours[usage]()
            theirs[usage]()
        results[usage] = interleaved_medians([ours[usage], theirs[usage]], calls, repeats)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    repeats = 5 if args.quick else 31
    if not any(b.name == "onnxruntime" and b.available for b in xrt.backends()):
        sys.exit("xpuruntime's onnxruntime backend is unavailable")

    rows = []
    model, feed = add_model()
    for usage, (ours, theirs) in compare(model, feed, 500 if args.quick else 2000,
                                         repeats).items():
        rows.append((f"Add, 16 floats: {usage}", ours, theirs, 1e6, "us"))
    model, feed = mlp_model()
    for usage, (ours, theirs) in compare(model, feed, 3 if args.quick else 10,
                                         repeats).items():
        rows.append((f"MLP 3x1024 Gemm+Relu, batch 32: {usage}", ours, theirs, 1e3, "ms"))

    header = ("| what | xpuruntime.onnxruntime | onnxruntime | ratio | unit |\n"
              "|---|---|---|---|---|")
    lines = [f"| {what} | {ours * scale:.2f} | {theirs * scale:.2f} | {ours / theirs:.3f} "
             f"| {unit} |" for what, ours, theirs, scale, unit in rows]
    table = "\n".join([header, *lines])
    print(table)
    if not args.no_save:
        save_results(
            "ort-compat-cpu", "xpuruntime.onnxruntime vs onnxruntime on the CPU",
            f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}",
            "python bench/bench_ort_compat.py" + (" --quick" if args.quick else ""),
            f"The same code runs with `import xpuruntime.onnxruntime as ort` and with "
            f"`import onnxruntime as ort`: SessionOptions with ORT_ENABLE_ALL, default "
            f"threads, providers=['CPUExecutionProvider']. Each figure is the median over "
            f"{repeats} interleaved batches of one call: `run(None, feed)`; "
            f"`run_with_iobinding` with inputs bound once plus `copy_outputs_to_cpu()`; "
            f"the same with `bind_cpu_input` of each input before the run; "
            f"`run_with_ort_values` plus `.numpy()`.\n\n"
            f"Ratio: xpuruntime's time / onnxruntime's (below 1 means xpuruntime is "
            f"faster).", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
