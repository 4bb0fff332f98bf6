"""Host time per call of xpuruntime.torch's ops against torch's own, on
tensors small enough that the GPU is never the bottleneck: what a model
pays per op when its kernels are short (a transformer block's norms and
attention launch faster than Python can call them).

    python bench/bench_torch_overhead.py [--no-save] [--profile]

Rows time the whole torch-facing call (autograd, DLPack both ways, the
stream lookup) through xpuruntime.torch.functional, which the modules use,
and through the custom ops torch.ops.xpuruntime.*; the breakdown times
each layer alone. --profile
adds cProfile's top functions of our attention forward+backward. Writes
bench/results/<date>-torch-overhead.md.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import xpuruntime.torch.functional as XF
from xpuruntime import ops
from xpuruntime.torch._bridge import stream_for, to_torch, to_xrt

from benchlib import interleaved_medians, save_results
from cudabench import DEVICE, gpu_line

CALLS, REPEATS = 200, 15
OPS = torch.ops.xpuruntime


def host_medians(fns) -> list[float]:
    """Median host seconds per call of each fn: each batch waits for the GPU
    at its end, so its queue never grows and what is timed is the host."""
    return interleaved_medians(fns, CALLS, REPEATS, warmup=20,
                               after_batch=torch.cuda.synchronize)


def backward_of(forward, inputs, grad):
    def run():
        torch.autograd.backward(forward(), grad)
        for x in inputs:
            x.grad = None
    return run


def cudnn_sdpa(q, k, v):
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument("--profile", action="store_true", help="cProfile our attention step")
    args = parser.parse_args()
    torch.manual_seed(0)
    bf16 = dict(device=DEVICE, dtype=torch.bfloat16)
    x = torch.randn(64, 1024, **bf16, requires_grad=True)
    w, b = (torch.randn(1024, **bf16, requires_grad=True) for _ in range(2))
    q, k, v = (torch.randn(1, 2, 128, 64, **bf16, requires_grad=True) for _ in range(3))
    norm_grad, attn_grad = torch.randn_like(x), torch.randn_like(q)
    # (name, functional call, the same through torch.ops.xpuruntime, torch's own)
    rows = [
        ("layer_norm forward", lambda: XF.layer_norm(x, w, b, 1e-5),
         lambda: OPS.layer_norm(x, w, b, 1e-5), lambda: F.layer_norm(x, (1024,), w, b, 1e-5)),
        ("attention forward (cuDNN)", lambda: XF.attention(q, k, v, True),
         lambda: OPS.attention_lse(q, k, v, True, None)[0], lambda: cudnn_sdpa(q, k, v)),
    ]
    rows += [(name.replace("forward", "forward+backward"),
              *(backward_of(fn, inputs, grad) for fn in fns))
             for (name, *fns), inputs, grad in zip(rows, ((x, w, b), (q, k, v)),
                                                   (norm_grad, attn_grad))]
    times = host_medians([fn for _, *fns in rows for fn in fns])
    lines = ["| call | xpuruntime.torch.functional µs | torch.ops.xpuruntime µs | torch µs "
             "| ratio (torch / functional) |", "|---|---|---|---|---|"]
    for i, (name, *_) in enumerate(rows):
        ours, op, theirs = times[3 * i: 3 * i + 3]
        lines.append(f"| {name} | {ours * 1e6:.1f} | {op * 1e6:.1f} | {theirs * 1e6:.1f} "
                     f"| {theirs / ours:.2f} |")

    xx, xw, xb = (to_xrt(t) for t in (x, w, b))
    xq, xk, xv = (to_xrt(t) for t in (q, k, v))
    stream = stream_for(x)
    out, lse = ops.attention(xq, xk, xv, True, stream=stream, return_lse=True)
    xg = to_xrt(attn_grad)
    layers = [
        ("to_xrt (torch → xrt, DLPack)", lambda: to_xrt(x)),
        ("to_torch (xrt → torch, DLPack)", lambda: to_torch(xx)),
        ("stream_for (torch's current stream)", lambda: stream_for(x)),
        ("xrt.ops.layer_norm on xrt tensors", lambda: ops.layer_norm(xx, xw, xb, 1e-5,
                                                                      stream=stream)),
        ("xrt.ops.attention(return_lse=True) on xrt tensors",
         lambda: ops.attention(xq, xk, xv, True, stream=stream, return_lse=True)),
        ("xrt.ops.attention_backward on xrt tensors",
         lambda: ops.attention_backward(xg, xq, xk, xv, True, output=out, lse=lse,
                                        stream=stream)),
    ]
    layer_times = host_medians([fn for _, fn in layers])
    lines += ["", "| layer of our call | µs |", "|---|---|"]
    lines += [f"| {name} | {t * 1e6:.1f} |" for (name, _), t in zip(layers, layer_times)]
    table = "\n".join(lines)
    print(table)

    if args.profile:
        step = rows[3][1]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(500):
            step()
        torch.cuda.synchronize()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        print(text.getvalue())

    if not args.no_save:
        save_results("torch-overhead", "Host time per call of xpuruntime.torch",
                     f"torch {torch.__version__}",
                     "python bench/bench_torch_overhead.py",
                     f"bf16 on {DEVICE}: layer_norm of 64×1024, causal attention of "
                     "(1, 2, 128, 64); median host µs per call over batches of "
                     f"{CALLS} calls (each batch waits for the GPU at its end), "
                     f"{REPEATS} alternating repeats after warm-up. Ratio above 1 means "
                     "xpuruntime's call costs less.", table, device=gpu_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
