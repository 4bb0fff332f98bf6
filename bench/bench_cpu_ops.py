"""The runtime's CPU ops against torch's on the CPU, measured in the same
run: softmax (along the last and the first axis), gelu (erf form),
bias_gelu and its backward, layer_norm and rms_norm.

    python bench/bench_cpu_ops.py [--quick] [--no-save]

Both sides use every core (torch.set_num_threads(os.cpu_count()), as the
runtime's pool does). Each case checks that both outputs agree before it
is timed. Writes bench/results/<date>-cpu-ops.md.
"""
from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F

import xpuruntime as xrt
from xpuruntime import ops

from benchlib import (check_against_torch, cpu_torch_arguments, interleaved_medians,
                      save_results)

TOLERANCE = {torch.float32: 1e-4, torch.bfloat16: 2e-2}


def cases(rows: int, width: int, dtype: torch.dtype):
    """(name, ours, theirs) triples; each callable returns its output."""
    x = torch.randn(rows, width, dtype=dtype)
    grad = torch.randn(rows, width, dtype=dtype)
    weight, bias = torch.randn(width, dtype=dtype), torch.randn(width, dtype=dtype)
    xx, xg, xw, xb = (xrt.from_dlpack(t) for t in (x, grad, weight, bias))
    leaf = x.clone().requires_grad_()

    def torch_bias_gelu_backward():
        out = F.gelu(leaf + bias)
        return torch.autograd.grad(out, leaf, grad)[0]

    return [
        ("softmax, last axis", lambda: ops.softmax(xx, -1), lambda: torch.softmax(x, -1)),
        ("softmax, first axis", lambda: ops.softmax(xx, 0), lambda: torch.softmax(x, 0)),
        ("gelu", lambda: ops.gelu(xx), lambda: F.gelu(x)),
        ("bias_gelu", lambda: ops.run("bias_gelu", xx, xb), lambda: F.gelu(x + bias)),
        ("bias_gelu_backward (dx)",
         lambda: ops.run("bias_gelu_backward", xg, xx, xb, num_outputs=2)[0],
         torch_bias_gelu_backward),
        ("layer_norm", lambda: ops.layer_norm(xx, xw, xb),
         lambda: F.layer_norm(x, (width,), weight, bias)),
        ("rms_norm", lambda: ops.rms_norm(xx, xw), lambda: F.rms_norm(x, (width,), weight)),
    ]


def main() -> int:
    args = cpu_torch_arguments(__doc__)
    rows, width = (256, 1024) if args.quick else (4096, 1024)
    calls, repeats = (2, 3) if args.quick else (10, 9)
    table = ["| op | dtype | xpuruntime ms | torch ms | ratio |", "|---|---|---|---|---|"]
    for dtype in (torch.float32, torch.bfloat16):
        name = str(dtype).removeprefix("torch.")
        for what, ours, theirs in cases(rows, width, dtype):
            check_against_torch(ours(), theirs(), f"{what} {name}", TOLERANCE)
            mine, other = interleaved_medians([ours, theirs], calls, repeats, warmup=1)
            table.append(f"| {what} | {name} | {mine * 1e3:.2f} | {other * 1e3:.2f} | "
                         f"{other / mine:.2f} |")
    print("\n".join(table))
    if not args.no_save:
        save_results("cpu-ops", "CPU ops against torch's", f"torch {torch.__version__}",
                     "python bench/bench_cpu_ops.py",
                     f"({rows}, {width}) inputs. Median ms per call over {repeats} alternating "
                     f"repeats of {calls} calls, after one warm-up call each; "
                     f"{os.cpu_count()} threads on both sides. Ratio: torch's time / ours "
                     "(above 1 means xpuruntime is faster).", "\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
