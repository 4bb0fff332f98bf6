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
import inspect
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
    packed = [row for row in packed_rows(device, dtype) if hasattr(OPS, row[0].split()[0])]
    with_backward = [(f"{name} forward+backward",
                      *(backward_of(fn, inputs) if fn else None for fn in fns), inputs)
                     for name, *fns, inputs in rows + packed if inputs]
    return [(f"{name} forward", *rest) for name, *rest in rows + packed] + with_backward


def torch_varlen(q, k, v, cu_q, cu_k, max_q, max_k):
    """torch's own packed attention (torch.nn.attention.varlen, causal),
    or None where this torch or device lacks it."""
    try:
        from torch.nn.attention.varlen import varlen_attn
        causal = ({"is_causal": True} if "is_causal" in inspect.signature(varlen_attn).parameters
                  else {"window_size": (-1, 0)})
        run = lambda: varlen_attn(q, k, v, cu_q, cu_k, max_q, max_k, **causal)  # noqa: E731
        run()
        return run
    except Exception:  # noqa: BLE001 (older torch, or no kernel for this device)
        return None


def packed_rows(device, dtype):
    """attention_varlen (no functional entry; torch's varlen_attn, else
    SDPA on the sequences padded to the longest), attention_decode against
    torch's SDPA on the same cache, and kv_cache_append against indexed
    writes into the caches; only attention_varlen has a backward."""
    on_gpu = device != "cpu"
    heads, heads_kv, dim, lengths = (8, 2, 64, (96, 160)) if on_gpu else (2, 1, 8, (3, 5))
    make = dict(device=device, dtype=dtype)
    total = sum(lengths)
    q = torch.randn(total, heads, dim, **make, requires_grad=True)
    k, v = (torch.randn(total, heads, dim, **make, requires_grad=True) for _ in range(2))
    cu = torch.tensor([0, lengths[0], total], dtype=torch.int32, device=device)
    longest = max(lengths)
    padded = [torch.zeros(len(lengths), heads, longest, dim, **make, requires_grad=True)
              for _ in range(3)]
    theirs = torch_varlen(q, k, v, cu, cu, longest, longest) or (
        lambda: F.scaled_dot_product_attention(*padded, is_causal=True))

    batch, capacity, used, q_len = (8, 1024, 700, 1) if on_gpu else (2, 16, 9, 1)
    caches = [torch.randn(batch, capacity, heads_kv, dim, **make) for _ in range(2)]
    seqlens = torch.full((batch,), used, dtype=torch.int32, device=device)
    new_q = torch.randn(batch, q_len, heads, dim, **make)
    dense = [c[:, :used].transpose(1, 2) for c in caches]
    new = torch.randn(batch, 1, heads_kv, dim, **make)
    zero = torch.zeros_like(seqlens)
    rows_idx = torch.arange(batch, device=device)
    at = zero.long()

    def torch_append():
        for cache in caches:
            cache.index_put_((rows_idx, at), new[:, 0])
        return zero + 1

    return [
        ("attention_varlen (causal)", None,
         lambda: OPS.attention_varlen(q, k, v, cu, cu, longest, longest, True, None)[0], theirs,
         (q, k, v, *padded)),
        ("attention_decode (one query)", None,
         lambda: OPS.attention_decode(new_q, *caches, seqlens, None, None),
         lambda: F.scaled_dot_product_attention(new_q.transpose(1, 2), *dense, enable_gqa=True),
         None),
        ("kv_cache_append (one token)", None,
         lambda: OPS.kv_cache_append(*caches, new, new, zero), torch_append, None),
    ]


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
    calls = [fn for _, *fns, _ in rows for fn in fns if fn is not None]
    timed = iter(host_medians(calls))
    lines = ["| call | xpuruntime.torch.functional µs | torch.ops.xpuruntime µs | torch µs "
             "| torch / functional | torch / torch.ops |", "|---|---|---|---|---|---|"]
    for name, *fns, _ in rows:
        # Ops without a functional entry leave its cells empty.
        ours, op, theirs = (next(timed) if fn is not None else None for fn in fns)
        cells = [f"{t * 1e6:.1f}" if t else "—" for t in (ours, op, theirs)]
        ratios = [f"{theirs / t:.2f}" if t else "—" for t in (ours, op)]
        lines.append(f"| {name} | {' | '.join(cells)} | {' | '.join(ratios)} |")
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
                  "(1, 2, 128, 64), attention_varlen of 96 + 160 tokens with 8 heads of 64, "
                  "attention_decode of one query per sequence against 8 caches holding 700 "
                  "tokens (capacity 1024) with 8 q / 2 kv heads of 64" if on_gpu else
                  "float32, torch on one thread: norms of 2×16, bias_gelu of 2×64, causal "
                  "attention of (1, 1, 4, 8), attention_varlen of 3 + 5 tokens with 2 heads "
                  "of 8, attention_decode of one query per sequence against 2 caches holding "
                  "9 tokens (capacity 16) with 2 q / 1 kv heads of 8")
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
