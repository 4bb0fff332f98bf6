"""CPU benchmarks of the runtime core, each next to what a user would
otherwise use, measured in the same run.

    python bench/bench_cpu.py [--quick] [--no-save]

Prints a table and writes it to bench/results/<date>-cpu.md. Needs an
installed xpuruntime and a C compiler with pkg-config for the C figures.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import xpuruntime as xrt
from xpuruntime import ops

from benchlib import c_figures, save_results


def median_per_call(fn, calls: int, repeats: int) -> float:
    """Median over `repeats` batches of the seconds one call takes."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def matmul_gflops(n: int, repeats: int) -> tuple[float, float]:
    rng = np.random.default_rng()
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    xa, xb = xrt.asarray(a), xrt.asarray(b)
    got = ops.matmul(xa, xb).numpy()
    ref = a.astype(np.float64) @ b.astype(np.float64)
    err = np.abs(got - ref).max() / np.abs(ref).max()
    assert err < 1e-4, f"matmul result is wrong (relative error {err:.2e})"
    flops = 2.0 * n ** 3
    # Alternating: numpy's OpenBLAS and ours keep separate thread pools whose
    # threads spin for a while after a call, slowing whichever runs next.
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(median_per_call(lambda: ops.matmul(xa, xb), 1, 1))
        theirs.append(median_per_call(lambda: a @ b, 1, 1))
    return flops / statistics.median(ours) / 1e9, flops / statistics.median(theirs) / 1e9


def softmax_us(shape: tuple[int, ...], axis: int, repeats: int) -> tuple[float, float]:
    """µs per softmax of ours and of numpy's expression for it."""
    x = np.random.default_rng().standard_normal(shape, dtype=np.float32)
    xx = xrt.asarray(x)

    def theirs():
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    err = np.abs(ops.softmax(xx, axis=axis).numpy() - theirs()).max()
    assert err < 1e-5, f"softmax result is wrong (error {err:.2e})"
    return (median_per_call(lambda: ops.softmax(xx, axis=axis), 10, repeats) * 1e6,
            median_per_call(theirs, 10, repeats) * 1e6)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI smoke run)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    repeats = 5 if args.quick else 21
    calls = 2000 if args.quick else 20000

    rows = []  # (what, ours, theirs or None, unit, target text)
    c = c_figures()
    if c:
        rows.append(("pooled alloc+free pair, C", c["alloc_free_pair_c"], None, "ns", "<= 100 ns"))
        rows.append(("tensor create+release, C", c["tensor_create_release_c"], None, "ns", ""))
        rows.append(("one-element add, C", c["add_one_element_c"], None, "ns", "<= 1000 ns"))

    x = xrt.asarray(np.ones(1, np.float32))
    y = xrt.asarray(np.ones(1, np.float32))
    nx, ny = np.ones(1, np.float32), np.ones(1, np.float32)
    ours = median_per_call(lambda: ops.add(x, y), calls, repeats) * 1e9
    theirs = median_per_call(lambda: np.add(nx, ny), calls, repeats) * 1e9
    rows.append(("one-element add, Python (vs numpy)", ours, theirs, "ns", "<= 3000 ns"))
    ours = median_per_call(lambda: xrt.empty((256,), "float32"), calls, repeats) * 1e9
    theirs = median_per_call(lambda: np.empty((256,), np.float32), calls, repeats) * 1e9
    rows.append(("empty(256) + release, Python (vs numpy)", ours, theirs, "ns", ""))
    ours, theirs = matmul_gflops(1024, max(3, repeats // 2))
    rows.append(("matmul 1024^3 float32 (vs numpy)", ours, theirs, "GFLOP/s", "ratio >= 0.8"))
    for axis, name in ((-1, "last"), (0, "first")):
        ours, theirs = softmax_us((4096, 1024), axis, repeats)
        rows.append((f"softmax 4096x1024 float32, {name} axis (vs numpy)", ours, theirs, "µs",
                     ""))

    header = "| what | xpuruntime | reference | ratio | unit | target |\n|---|---|---|---|---|---|"
    lines = []
    for what, ours, theirs, unit, target in rows:
        if theirs is None:
            lines.append(f"| {what} | {ours:.1f} | | | {unit} | {target} |")
            continue
        # Ratio > 1 means xpuruntime is better: time is lower-better, rate higher-better.
        ratio = ours / theirs if unit == "GFLOP/s" else theirs / ours
        lines.append(f"| {what} | {ours:.1f} | {theirs:.1f} | {ratio:.2f} | {unit} | {target} |")
    table = "\n".join([header, *lines])
    print(table)

    if not args.no_save:
        save_results("cpu", "CPU benchmarks", f"numpy {np.__version__}",
                     "python bench/bench_cpu.py",
                     "Ratio: numpy's time / ours for latencies, ours / numpy's for GFLOP/s "
                     "(above 1 means xpuruntime is faster).", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
