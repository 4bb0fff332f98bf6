"""CPU attention of the runtime against torch's scaled_dot_product_attention
on the CPU, measured in the same run: dense forward, forward+backward and
decoding from a KV cache.

    python bench/bench_cpu_attention.py [--quick] [--no-save]

Both sides use every core (torch.set_num_threads(os.cpu_count()), as the
runtime's pool does). Each case checks that both outputs agree before it
is timed. Forward+backward is, on our side, attention with its lse then
attention_backward given the output and lse (what xpuruntime.torch's
autograd does); on torch's, SDPA and autograd. Decoding gives torch the
same cache through strided views, grouped heads with enable_gqa. Writes
bench/results/<date>-cpu-attention.md.
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

TOLERANCE = {torch.float32: 2e-4, torch.bfloat16: 3e-2}


def _xrt(t: torch.Tensor) -> xrt.Tensor:
    return xrt.from_dlpack(t.contiguous())


def dense(b, h, hk, n, d, causal, dtype, backward, calls, repeats):
    q = torch.randn(b, h, n, d, dtype=dtype)
    k, v = (torch.randn(b, hk, n, d, dtype=dtype) for _ in range(2))
    grad = torch.randn(b, h, n, d, dtype=dtype)
    xq, xk, xv, xg = (_xrt(t) for t in (q, k, v, grad))
    gqa = h != hk
    what = f"B{b} H{h}/{hk} N{n} D{d}{' causal' if causal else ''}"
    check_against_torch(ops.attention(xq, xk, xv, causal),
                        F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                                       enable_gqa=gqa), what, TOLERANCE)
    if not backward:
        return what, interleaved_medians([
            lambda: ops.attention(xq, xk, xv, causal),
            lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa),
        ], calls, repeats, warmup=1)
    leaves = [t.clone().requires_grad_() for t in (q, k, v)]

    def ours():
        out, lse = ops.attention(xq, xk, xv, causal, return_lse=True)
        return ops.attention_backward(xg, xq, xk, xv, causal, output=out, lse=lse)

    def theirs():
        out = F.scaled_dot_product_attention(*leaves, is_causal=causal, enable_gqa=gqa)
        return torch.autograd.grad(out, leaves, grad)

    check_against_torch(ours()[0], theirs()[0], what + " dq", TOLERANCE)
    return what, interleaved_medians([ours, theirs], calls, repeats, warmup=1)


def decode(b, lq, cap, h, hk, d, dtype, calls, repeats):
    q = torch.randn(b, lq, h, d, dtype=dtype)
    k_cache, v_cache = (torch.randn(b, cap, hk, d, dtype=dtype) for _ in range(2))
    lengths = torch.full((b,), cap, dtype=torch.int32)
    xq, xk, xv, xl = (_xrt(t) for t in (q, k_cache, v_cache, lengths))
    # The new queries are the cache's last lq positions (bottom-right causal).
    seen = torch.ones(lq, cap, dtype=torch.bool).tril(cap - lq)
    views = [t.transpose(1, 2) for t in (q, k_cache, v_cache)]

    def theirs():
        return F.scaled_dot_product_attention(*views, attn_mask=seen, enable_gqa=h != hk)

    what = f"decode B{b} q{lq} cache {cap} H{h}/{hk} D{d}"
    check_against_torch(ops.attention_decode(xq, xk, xv, xl), theirs().transpose(1, 2), what,
                        TOLERANCE)
    return what, interleaved_medians([lambda: ops.attention_decode(xq, xk, xv, xl), theirs],
                                     calls, repeats, warmup=1)


def main() -> int:
    args = cpu_torch_arguments(__doc__)
    n, cap = (128, 512) if args.quick else (1024, 2048)
    calls, repeats = (1, 3) if args.quick else (3, 9)
    rows = []
    for dtype in (torch.float32, torch.bfloat16):
        name = str(dtype).removeprefix("torch.")
        for causal in (False, True):
            for backward in (False, True):
                what, (ours, theirs) = dense(1, 16, 16, n, 64, causal, dtype, backward,
                                             calls, repeats)
                rows.append((f"{what} {name}", "forward+backward" if backward else "forward",
                             ours, theirs))
        what, (ours, theirs) = dense(1, 32, 8, n // 2, 128, False, dtype, False, calls, repeats)
        rows.append((f"{what} {name}", "forward", ours, theirs))
        for lq in (1, 4):
            what, (ours, theirs) = decode(8, lq, cap, 32, 8, 128, dtype, calls, repeats)
            rows.append((f"{what} {name}", "forward", ours, theirs))
    table = ["| case | pass | xpuruntime ms | torch ms | ratio |", "|---|---|---|---|---|"]
    for what, kind, ours, theirs in rows:
        table.append(f"| {what} | {kind} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | "
                     f"{theirs / ours:.2f} |")
    print("\n".join(table))
    if not args.no_save:
        save_results("cpu-attention", "CPU attention against torch's SDPA",
                     f"torch {torch.__version__}", "python bench/bench_cpu_attention.py",
                     f"Median ms per call over {repeats} alternating repeats of {calls} calls, "
                     f"after one warm-up call each; {os.cpu_count()} threads on both sides. "
                     "Ratio: torch's time / ours (above 1 means xpuruntime is faster).",
                     "\n".join(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
