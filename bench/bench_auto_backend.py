"""backend="auto" on the CPU: what choosing costs (once, measured; then read
from the cache) against creating a session on a named backend, and how the
chosen backend's run compares with onnxruntime.InferenceSession.run, in the
same run.

    python bench/bench_auto_backend.py [--quick] [--no-save]

Prints the candidates' table for each model and a summary; writes it to
bench/results/<date>-auto-backend-cpu.md. Needs onnx and onnxruntime
(OpenVINO, where installed, is a second candidate).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

import xpuruntime as xrt
from xpuruntime.cli import _selection_lines

from bench_session import add_model, mlp_model
from benchlib import interleaved_medians, save_results

try:
    import onnx
    import onnxruntime as ort
except ImportError as error:
    sys.exit(f"bench_auto_backend.py needs onnx and onnxruntime ({error})")


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def creation_costs(model: bytes, repeats: int):
    """Medians (s) of: auto with an empty cache, auto with the choice
    cached, the chosen backend named; plus the last selection report."""
    measured, cached, named = [], [], []
    report = None
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            os.environ["XRT_CACHE_DIR"] = cache
            measured.append(_seconds(lambda: xrt.InferenceSession(model)))
            sess = xrt.InferenceSession(model)
            report = sess.selection
            cached.append(_seconds(lambda: xrt.InferenceSession(model)))
            named.append(_seconds(lambda: xrt.InferenceSession(model, backend=sess.backend)))
    os.environ.pop("XRT_CACHE_DIR")
    return (statistics.median(measured), statistics.median(cached), statistics.median(named),
            report)


def run_ratio(model: bytes, feed, backend: str, calls: int, repeats: int):
    ours = xrt.InferenceSession(model, backend=backend)
    theirs = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(ours.run(None, feed)[0], theirs.run(None, feed)[0],
                               rtol=1e-5, atol=1e-5)
    return interleaved_medians([lambda: ours.run(None, feed), lambda: theirs.run(None, feed)],
                               calls, repeats, warmup=max(calls // 10, 3))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    repeats = 3 if args.quick else 11
    candidates = [b.name for b in xrt.backends() if b.available and b.runs_models]
    models = [("Add, 16 floats", *add_model(), 2000), ("MLP 3x1024 Gemm+Relu, batch 32",
                                                       *mlp_model(), 10)]
    tables, rows = [], []
    for what, model, feed, calls in models:
        measured, cached, named, report = creation_costs(model, repeats)
        tables.append(f"{what}:\n\n```\n" + "\n".join(_selection_lines(report)) + "\n```")
        ours, theirs = run_ratio(model, feed, report["chosen"],
                                 calls // 5 if args.quick else calls, repeats)
        rows.append(f"| {what} | {report['chosen']} | {measured * 1e3:.1f} | {cached * 1e3:.1f} "
                    f"| {named * 1e3:.1f} | {ours * 1e6:.1f} | {theirs * 1e6:.1f} "
                    f"| {ours / theirs:.3f} |")
    header = ("| model | chosen | create, auto measuring (ms) | create, auto cached (ms) "
              "| create, chosen named (ms) | run, chosen (us) | run, onnxruntime (us) "
              "| run ratio |\n|---|---|---|---|---|---|---|---|")
    table = "\n\n".join(tables) + "\n\n" + "\n".join([header, *rows])
    print(table)
    if not args.no_save:
        save_results(
            "auto-backend-cpu", "backend='auto' on the CPU: selection cost and result",
            f"numpy {np.__version__}, onnx {onnx.__version__}, onnxruntime {ort.__version__}, "
            f"candidates {', '.join(candidates)}",
            "python bench/bench_auto_backend.py" + (" --quick" if args.quick else ""),
            f"Creation times are medians over {repeats} rounds, each with an empty cache "
            f"folder: the first `InferenceSession(model)` measures every candidate (policy "
            f"latency), a later one reads the choice from the cache, and the last names the "
            f"chosen backend (no selection at all). Run times are medians of {repeats} "
            f"interleaved batches of `run(None, feed)` on the chosen backend and on "
            f"onnxruntime's own Python API (ratio below 1: xpuruntime faster).", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
