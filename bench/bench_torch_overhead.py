"""Host time per call of every op of xpuruntime.torch against torch's own
equivalent, on tensors small enough that the kernels never decide: what a
model pays per op when its kernels are short (a transformer block's norms
and attention launch faster than Python can call them).

    python bench/bench_torch_overhead.py [--device cpu] [--no-save] [--profile]

Rows time the whole torch-facing call (autograd, the crossing into the
runtime and back, the stream lookup) through xpuruntime.torch.functional,
which the modules use, and through torch.ops.xpuruntime.*; the breakdown
times each layer alone. On CUDA (the default) each batch of calls waits
for the GPU at its end; on the CPU (--device cpu) the kernels run inline,
so the shapes are tiny and torch runs one thread, as the runtime's
kernels do at these sizes. --profile adds cProfile's top functions of our
attention forward+backward. Writes bench/results/<date>-torch-overhead.md
(-cpu.md on the CPU).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys

import torch
import torch.nn.functional as F

import xpuruntime.torch.functional as XF
from xpuruntime import ops
from xpuruntime.torch import _calls
from xpuruntime.torch._bridge import stream_for, to_torch, to_xrt

from benchlib import interleaved_medians, save_results

CALLS, REPEATS = 200, 15
OPS = torch.ops.xpuruntime


def cudnn_sdpa(q, k, v):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def torch_sdpa(q, k, v):
    return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def backward_of(forward, inputs):
    """forward then backward with fixed output gradients; the inputs'
    gradients are dropped after each step."""
    grads = []

    def run():
        out = forward()
        out = out if isinstance(out, tuple) else (out,)
        if not grads:
            grads.extend(torch.randn_like(t) for t in out)
        torch.autograd.backward(out, grads)
        for x in inputs:
            x.grad = None
    return run


def op_rows(device):
    """(name, functional call, torch.ops call, torch's own, differentiable
    inputs) for every op of the extension; ops this version lacks are left
    out (the same script times older versions)."""
    on_gpu = device != "cpu"
    dtype = torch.bfloat16 if on_gpu else torch.float32
    make = dict(device=device, dtype=dtype, requires_grad=True)
    rows_n, width, heads, seq, dim = (64, 1024, 2, 128, 64) if on_gpu else (2, 16, 1, 4, 8)
    x, r = (torch.randn(rows_n, width, **make) for _ in range(2))
    h = torch.randn(rows_n, 4 * width, **make)
    w, b = (torch.randn(width, **make) for _ in range(2))
    b4 = torch.randn(4 * width, **make)
    q, k, v = (torch.randn(1, heads, seq, dim, **make) for _ in range(3))
    sdpa = cudnn_sdpa if on_gpu else torch_sdpa
    shape = (width,)

    def torch_add_norm(norm):
        def run():
            total = x + r
            return norm(total), total
        return run

    rows = [
        ("layer_norm", lambda: XF.layer_norm(x, w, b, 1e-5),
         lambda: OPS.layer_norm(x, w, b, 1e-5),
         lambda: F.layer_norm(x, shape, w, b, 1e-5), (x, w, b)),
        ("rms_norm", lambda: XF.rms_norm(x, w, 1e-6), lambda: OPS.rms_norm(x, w, 1e-6),
         lambda: F.rms_norm(x, shape, w, 1e-6), (x, w)),
        ("add_layer_norm", lambda: XF.add_layer_norm(x, r, w, b, 1e-5),
         lambda: OPS.add_layer_norm(x, r, w, b, 1e-5),
         torch_add_norm(lambda t: F.layer_norm(t, shape, w, b, 1e-5)), (x, r, w, b)),
        ("add_rms_norm", lambda: XF.add_rms_norm(x, r, w, 1e-6),
         lambda: OPS.add_rms_norm(x, r, w, 1e-6),
         torch_add_norm(lambda t: F.rms_norm(t, shape, w, 1e-6)), (x, r, w)),
        ("bias_gelu", lambda: XF.bias_gelu(h, b4), lambda: OPS.bias_gelu(h, b4),
         lambda: F.gelu(h + b4), (h, b4)),
        ("attention" + (" (cuDNN)" if on_gpu else ""), lambda: XF.attention(q, k, v, True),
         lambda: OPS.attention_lse(q, k, v, True, None)[0], lambda: sdpa(q, k, v), (q, k, v)),
    ]
    rows = [row for row in rows if hasattr(XF, row[0].split()[0])]
    with_backward = [(f"{name} forward+backward",
                      *(backward_of(fn, inputs) for fn in fns), inputs)
                     for name, *fns, inputs in rows]
    return [(f"{name} forward", *rest) for name, *rest in rows] + with_backward


def layer_rows(device):
    """Each layer of our call alone, on the layer_norm row's shapes."""
    on_gpu = device != "cpu"
    dtype = torch.bfloat16 if on_gpu else torch.float32
    n, width = (64, 1024) if on_gpu else (2, 16)
    x = torch.randn(n, width, device=device, dtype=dtype)
    w, b = (torch.randn(width, device=device, dtype=dtype) for _ in range(2))
    xx, xw, xb = (to_xrt(t) for t in (x, w, b))
    stream = stream_for(x)
    return [
        ("to_xrt (torch → xrt, Python DLPack)", lambda: to_xrt(x)),
        ("to_torch (xrt → torch, Python DLPack)", lambda: to_torch(xx)),
        ("stream_for (torch's current stream, Python)", lambda: stream_for(x)),
        ("xrt.ops.layer_norm on xrt tensors", lambda: ops.layer_norm(xx, xw, xb, 1e-5,
                                                                      stream=stream)),
        ("the extension's call of layer_norm (no autograd)",
         lambda: _calls.layer_norm(x, w, b, 1e-5)),
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda:0", help="cuda:0 (default) or cpu")
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument("--profile", action="store_true", help="cProfile our attention step")
    args = parser.parse_args()
    device = args.device
    on_gpu = device != "cpu"
    if not on_gpu:
        torch.set_num_threads(1)
    torch.manual_seed(0)
    sync = torch.cuda.synchronize if on_gpu else None

    def host_medians(fns):
        """Median host seconds per call; on a GPU each batch waits for it at
        its end, so its queue never grows and what is timed is the host."""
        return interleaved_medians(fns, CALLS, REPEATS, warmup=20, after_batch=sync)

    rows = op_rows(device)
    times = host_medians([fn for _, *fns, _ in rows for fn in fns])
    lines = ["| call | xpuruntime.torch.functional µs | torch.ops.xpuruntime µs | torch µs "
             "| torch / functional | torch / torch.ops |", "|---|---|---|---|---|---|"]
    for i, (name, *_) in enumerate(rows):
        ours, op, theirs = times[3 * i: 3 * i + 3]
        lines.append(f"| {name} | {ours * 1e6:.1f} | {op * 1e6:.1f} | {theirs * 1e6:.1f} "
                     f"| {theirs / ours:.2f} | {theirs / op:.2f} |")
    layers = layer_rows(device)
    layer_times = host_medians([fn for _, fn in layers])
    lines += ["", "| layer of a call | µs |", "|---|---|"]
    lines += [f"| {name} | {t * 1e6:.2f} |" for (name, _), t in zip(layers, layer_times)]
    table = "\n".join(lines)
    print(table)

    if args.profile:
        step = next(fns[0] for name, *fns, _ in rows if name.startswith("attention")
                    and name.endswith("backward"))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(500):
            step()
        if sync:
            sync()
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        print(text.getvalue())

    if not args.no_save:
        shapes = ("bf16: norms of 64×1024, bias_gelu of 64×4096, causal attention of "
                  "(1, 2, 128, 64)" if on_gpu else
                  "float32, torch on one thread: norms of 2×16, bias_gelu of 2×64, causal "
                  "attention of (1, 1, 4, 8)")
        device_line = None
        if on_gpu:
            from cudabench import gpu_line
            device_line = gpu_line()
        save_results("torch-overhead" + ("" if on_gpu else "-cpu"),
                     "Host time per call of xpuruntime.torch", f"torch {torch.__version__}",
                     "python bench/bench_torch_overhead.py" + ("" if on_gpu else " --device cpu"),
                     f"{shapes} on {device}; median host µs per call over batches of {CALLS} "
                     f"calls{' (each batch waits for the GPU at its end)' if on_gpu else ''}, "
                     f"{REPEATS} alternating repeats after warm-up. Ratios above 1 mean "
                     "xpuruntime's call costs less.", table, device=device_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
