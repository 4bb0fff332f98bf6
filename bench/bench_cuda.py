"""GPU benchmarks of the CUDA backend, each next to what a user would
otherwise use (torch, CuPy), measured in the same run.

    python bench/bench_cuda.py [--quick] [--no-save]

Prints a table and writes it to bench/results/<date>-cuda.md. Needs a CUDA
GPU, torch with CUDA, and optionally CuPy. Kernels are timed with CUDA
events on the default stream after warm-up (median of repeats, ours and
theirs alternating); allocation costs with the host clock.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

import xpuruntime as xrt
from xpuruntime import ops

from benchlib import c_figures, interleaved_medians, save_results
from cudabench import DEVICE, event_medians, gpu_line

def random_bf16(*shape) -> torch.Tensor:
    return torch.randn(*shape, device=DEVICE, dtype=torch.bfloat16)


def norm_rows(quick: bool) -> list[tuple]:
    """Forward and backward norms, bf16 16384x4096: bytes read + written."""
    rows, n = (4096, 4096) if quick else (16384, 4096)
    x, dy = random_bf16(rows, n), random_bf16(rows, n)
    w, b = random_bf16(n), random_bf16(n)
    xx, xdy, xw, xb = (xrt.from_dlpack(t) for t in (x, dy, w, b))
    io = 2 * rows * n * 2  # read x, write y (parameters are negligible)
    io_back = 3 * rows * n * 2  # read x and dy, write dx
    mean_rstd = torch.ops.aten.native_layer_norm(x, [n], w, b, 1e-5)[1:]

    def torch_ln_backward():
        torch.ops.aten.native_layer_norm_backward(dy, x, [n], *mean_rstd, w, b,
                                                  [True, True, True])

    xr = x.detach().requires_grad_(True)
    wr = w.detach().requires_grad_(True)
    y_rms = F.rms_norm(xr, (n,), wr, 1e-6)

    def torch_rms_backward():
        torch.autograd.grad(y_rms, (xr, wr), dy, retain_graph=True)

    cases = [
        (f"layer_norm fwd bf16 {rows}x{n}", io,
         lambda: ops.layer_norm(xx, xw, xb, 1e-5), lambda: F.layer_norm(x, (n,), w, b, 1e-5)),
        (f"rms_norm fwd bf16 {rows}x{n}", io,
         lambda: ops.rms_norm(xx, xw, 1e-6), lambda: F.rms_norm(x, (n,), w, 1e-6)),
        (f"layer_norm bwd bf16 {rows}x{n}", io_back,
         lambda: ops.layer_norm_backward(xdy, xx, xw, 1e-5), torch_ln_backward),
        (f"rms_norm bwd bf16 {rows}x{n}", io_back,
         lambda: ops.rms_norm_backward(xdy, xx, xw, 1e-6), torch_rms_backward),
        (f"softmax bf16 {rows}x{n}", io, lambda: ops.softmax(xx), lambda: torch.softmax(x, -1)),
        (f"gelu bf16 {rows}x{n}", io, lambda: ops.gelu(xx), lambda: F.gelu(x)),
        (f"add bf16 {rows}x{n}", io + rows * n * 2, lambda: ops.add(xx, xdy), lambda: x + dy),
    ]
    out = []
    for name, nbytes, ours, theirs in cases:
        t_ours, t_theirs = event_medians([ours, theirs], iters=20, repeats=15)
        out.append((name, nbytes / t_ours / 1e9, nbytes / t_theirs / 1e9, "GB/s", "torch"))
    return out


def matmul_rows(quick: bool) -> list[tuple]:
    sizes = [4096] if quick else [8192, 4096]
    out = []
    cases = [("bfloat16", torch.bfloat16, False), ("float16", torch.float16, False),
             ("float32", torch.float32, False), ("float32 tf32", torch.float32, True)]
    for size in sizes:
        for label, dtype, tf32 in cases:
            if size != sizes[0] and label != "bfloat16":
                continue
            a = torch.randn(size, size, device=DEVICE, dtype=dtype)
            b = torch.randn(size, size, device=DEVICE, dtype=dtype)
            xa, xb = xrt.from_dlpack(a), xrt.from_dlpack(b)
            torch.backends.cuda.matmul.allow_tf32 = tf32
            t_ours, t_theirs = event_medians(
                [lambda: ops.matmul(xa, xb, allow_tf32=tf32), lambda: a @ b], iters=5, repeats=9)
            flops = 2 * size**3
            out.append((f"matmul {label} {size}^3", flops / t_ours / 1e12,
                        flops / t_theirs / 1e12, "TFLOP/s", "torch"))
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


def copy_rows(quick: bool) -> list[tuple]:
    nbytes = (256 << 20) if quick else (1 << 30)
    ours_host = xrt.empty((nbytes,), "uint8", pinned=True)
    np.asarray(ours_host)[:] = 1
    theirs_host = torch.ones(nbytes, dtype=torch.uint8).pin_memory()
    pageable = np.ones(nbytes, np.uint8)
    pageable_torch = torch.from_numpy(pageable)
    gib = f"{nbytes >> 20} MiB"
    t_ours, t_theirs = event_medians(
        [lambda: ours_host.to(DEVICE), lambda: theirs_host.to(DEVICE, non_blocking=True)],
        iters=3, repeats=7)
    rows = [(f"host->device pinned {gib}", nbytes / t_ours / 1e9, nbytes / t_theirs / 1e9,
             "GB/s", "torch")]
    t_ours, t_theirs = event_medians(
        [lambda: xrt.asarray(pageable, device=DEVICE), lambda: pageable_torch.to(DEVICE)],
        iters=2, repeats=5)
    rows.append((f"host->device pageable {gib}", nbytes / t_ours / 1e9, nbytes / t_theirs / 1e9,
                 "GB/s", "torch"))
    dev = xrt.empty((nbytes,), "uint8", device=DEVICE)
    dev_torch = torch.empty(nbytes, dtype=torch.uint8, device=DEVICE)
    t_ours, t_theirs = event_medians(
        [lambda: dev.to("cpu"), lambda: dev_torch.cpu()], iters=2, repeats=5)
    rows.append((f"device->host pageable {gib}", nbytes / t_ours / 1e9, nbytes / t_theirs / 1e9,
                 "GB/s", "torch"))
    return rows


def alloc_rows(quick: bool) -> list[tuple]:
    """Allocation + release of a 1 MiB device buffer from Python."""
    calls, repeats = (2000, 5) if quick else (20000, 15)
    fns = [lambda: xrt.empty((1 << 18,), "float32", device=DEVICE),
           lambda: torch.empty(1 << 18, dtype=torch.float32, device=DEVICE)]
    names = ["torch"]
    try:
        import cupy

        cupy.cuda.Device(0).use()
        fns.append(lambda: cupy.empty(1 << 18, dtype=cupy.float32))
        names.append("cupy")
    except ImportError:
        pass
    times = interleaved_medians(fns, calls, repeats)
    rows = [(f"empty+release 1 MiB, Python (vs {name})", times[0] * 1e6, t * 1e6, "us", name)
            for name, t in zip(names, times[1:])]
    c = c_figures(DEVICE)
    if c:
        rows.append(("alloc+free pair from C", c["alloc_free_pair_c"] / 1e3, float("nan"),
                     "us", "-"))
        rows.append(("tensor create+release from C", c["tensor_create_release_c"] / 1e3,
                     float("nan"), "us", "-"))
        rows.append(("one-element add queued from C", c["add_one_element_c"] / 1e3,
                     float("nan"), "us", "-"))
    return rows


def ratio(value: float, reference: float, unit: str) -> float:
    """Above 1 means xpuruntime is better: faster for rates, shorter for times."""
    if unit == "us":
        return reference / value
    return value / reference


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    rows = []
    for section in (norm_rows, matmul_rows, copy_rows, alloc_rows):
        rows += section(args.quick)
        torch.cuda.synchronize()
    lines = ["| figure | xpuruntime | reference | unit | ratio |", "|---|---|---|---|---|"]
    for name, ours, theirs, unit, who in rows:
        ref = "-" if theirs != theirs else f"{theirs:.2f} ({who})"
        r = "-" if theirs != theirs else f"{ratio(ours, theirs, unit):.2f}"
        lines.append(f"| {name} | {ours:.2f} | {ref} | {unit} | {r} |")
    table = "\n".join(lines)
    print(table)
    if not args.no_save:
        save_results("cuda", "CUDA benchmarks",
                     f"torch {torch.__version__}, CUDA {torch.version.cuda}",
                     "python bench/bench_cuda.py",
                     "Ratio: above 1 means xpuruntime is faster (rates: ours / theirs; "
                     "times: theirs / ours). Kernels: CUDA events on the default stream, "
                     "median of alternating repeats after warm-up, random inputs. Norm "
                     "bandwidths count x read plus y written (backward: x and dy read, "
                     "dx written).", table,
                     device=gpu_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
