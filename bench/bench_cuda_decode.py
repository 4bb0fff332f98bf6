"""Decoding from a KV cache on the GPU: xrt.ops.attention_decode (contiguous
and paged caches) against torch's scaled_dot_product_attention on the same
cache, in the same run.

    python bench/bench_cuda_decode.py [--no-save]

Reports the bandwidth achieved on the bytes of K and V the call must read
(sum of cache_seqlens x heads_kv x head_dim x 2 bytes, for K and for V),
for the op as a user calls it (which copies cache_seqlens and block_table
to the host to check them, one stream synchronization per call) and for
its kernels alone (torch's profiler, device time of the decode kernels).
torch runs SDPA with enable_gqa=True (kv heads not repeated) on the cache
viewed as (batch, heads_kv, seq, head_dim) through strides, the same memory
ours reads, and on a (batch, heads_kv, seq, head_dim) contiguous copy, its
preferred layout; the ratio is against the fastest torch variant. torch
has no paged cache: paged rows compare with torch on the dense cache of
the same tokens. bf16, all sequences full; CUDA events on the default
stream, median of alternating repeats after warm-up. Writes
bench/results/<date>-cuda-decode.md.
"""
from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import xpuruntime as xrt
from xpuruntime import ops

from benchlib import save_results
from cudabench import DEVICE, event_medians, gpu_line

# (batch, cache length, q heads, kv heads, head_dim, q_len, block_size or None)
CASES = [(64, 8192, 32, 8, 128, 1, None), (64, 8192, 32, 8, 128, 1, 16),
         (64, 8192, 32, 8, 128, 1, 256), (64, 8192, 32, 8, 128, 4, None),
         (8, 8192, 32, 8, 128, 1, None), (8, 32768, 32, 8, 128, 1, 64),
         (64, 8192, 32, 8, 64, 1, None)]
TORCH_BACKENDS = [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION),
                  ("efficient", SDPBackend.EFFICIENT_ATTENTION)]
DECODE_KERNELS = ("decode_split", "combine_splits")


def paged(caches, block_size: int):
    """Full dense caches (B, N, Hkv, D) as shuffled blocks, and their table."""
    b, n = caches[0].shape[:2]
    per_seq = n // block_size
    order = torch.randperm(b * per_seq, device=caches[0].device)
    shape = (b * per_seq, block_size) + tuple(caches[0].shape[2:])
    blocks = []
    for cache in caches:
        block = torch.empty(shape, dtype=cache.dtype, device=cache.device)
        block[order] = cache.reshape(shape)
        blocks.append(block)
    return blocks, order.reshape(b, per_seq).to(torch.int32)


def kernel_seconds(fn, calls: int = 20) -> float:
    """Device time per call of the decode kernels, from torch's profiler
    (NaN if it saw none)."""
    fn()
    torch.cuda.synchronize()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            fn()
        torch.cuda.synchronize()
    total = 0.0
    for event in prof.key_averages():
        if any(name in event.key for name in DECODE_KERNELS):
            total += getattr(event, "device_time_total", None) or event.cuda_time_total
    return total / 1e6 / calls if total else float("nan")


def torch_fn(q, k, v, backend):
    """torch SDPA on one backend with enable_gqa, or None where it cannot run."""
    def run():
        with sdpa_kernel(backend):
            F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    try:
        run()
    except RuntimeError as error:
        print(f"torch {backend}: {error}".splitlines()[0], file=sys.stderr)
        return None
    return run


def case_row(b, n, h, hk, d, lq, block_size) -> tuple:
    dt = torch.bfloat16
    q = torch.randn(b, lq, h, d, device=DEVICE, dtype=dt)
    k, v = (torch.randn(b, n, hk, d, device=DEVICE, dtype=dt) for _ in range(2))
    lens = torch.full((b,), n, dtype=torch.int32, device=DEVICE)
    table = None
    if block_size:
        (k_blocks, v_blocks), table = paged((k, v), block_size)
        xk, xv = xrt.from_dlpack(k_blocks), xrt.from_dlpack(v_blocks)
    else:
        xk, xv = xrt.from_dlpack(k), xrt.from_dlpack(v)
    xq, xlens = xrt.from_dlpack(q), xrt.from_dlpack(lens)
    xtable = None if table is None else xrt.from_dlpack(table)

    def ours():
        ops.attention_decode(xq, xk, xv, xlens, xtable)

    # Same answer as torch (float32, bottom-right causal mask; the first
    # sequences) before timing.
    qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
    seen = torch.ones(lq, n, dtype=torch.bool, device=DEVICE).tril(n - lq)
    want = F.scaled_dot_product_attention(*(x[:2].float() for x in (qt, kt, vt)),
                                          attn_mask=seen, enable_gqa=True)
    got = torch.from_dlpack(ops.attention_decode(xq, xk, xv, xlens, xtable))[:2].float()
    error = (got.transpose(1, 2) - want).norm() / want.norm()
    assert error < 1e-2, f"attention_decode differs from torch: relative error {error:.2e}"

    kc, vc = kt.contiguous(), vt.contiguous()
    fns = [ours]
    for _, backend in TORCH_BACKENDS:
        fns.append(torch_fn(qt, kt, vt, backend))
        fns.append(torch_fn(qt, kc, vc, backend))
    # q_len > 1 is bottom-right causal in ours; torch's is_causal is top-left, so
    # torch runs it without the mask (at least as much work).
    kv_bytes = 2 * b * n * hk * d * 2
    iters = max(3, int(2e10 // kv_bytes))
    times = event_medians(fns, iters=iters, repeats=5)
    kernel = kernel_seconds(ours)
    best_torch = min((t for t in times[1:] if t == t), default=float("nan"))
    name = (f"B{b} N{n} H{h}/{hk} D{d} q_len {lq} "
            f"{'paged ' + str(block_size) if block_size else 'contiguous'}")
    tbs = [kv_bytes / t / 1e12 for t in times]
    return (name, kv_bytes / kernel / 1e12, *tbs, times[0] * 1e6, best_torch / times[0])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    cells = "".join(f" torch {name} (view) | torch {name} (copy) |" for name, _ in TORCH_BACKENDS)
    lines = ["TB/s on the K and V bytes read (bf16):", "",
             f"| case | our kernels | xpuruntime op |{cells} op time (us) "
             "| op vs best torch |",
             "|---|---|---|" + "---|" * (2 * len(TORCH_BACKENDS)) + "---|---|"]
    for case in CASES:
        name, kernel, ours, *rest = case_row(*case)
        *torch_tbs, op_us, ratio = rest
        cells = " | ".join(f"{x:.2f}" for x in torch_tbs)
        lines.append(f"| {name} | {kernel:.2f} | {ours:.2f} | {cells} | {op_us:.0f} "
                     f"| {ratio:.2f} |")
        print(lines[-1], flush=True)
        torch.cuda.empty_cache()
    table = "\n".join(lines)
    print(table)
    if not args.no_save:
        save_results("cuda-decode", "CUDA decode attention benchmarks",
                     f"torch {torch.__version__}, CUDA {torch.version.cuda}",
                     "python bench/bench_cuda_decode.py",
                     "TB/s on the bytes of K and V each call must read. 'our kernels': "
                     "the decode kernels' device time (torch profiler); 'xpuruntime op': "
                     "ops.attention_decode as called, including its check of cache_seqlens "
                     "and block_table on the host (one stream synchronization). torch SDPA "
                     "with enable_gqa=True on the cache through strides (view) or a "
                     "(B, Hkv, N, D) contiguous copy; paged rows compare with torch on the "
                     "dense cache; nan: that backend could not run the case. Ratio above 1 "
                     "means xpuruntime is faster. CUDA events on the default stream, median "
                     "of 5 alternating repeats after warm-up.", table, device=gpu_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
