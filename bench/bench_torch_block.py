"""One transformer block trained with xpuruntime's kernels inside PyTorch
(xpuruntime.torch: LayerNorm, Attention) against the same block in torch
eager with scaled_dot_product_attention, measured in the same run.

    python bench/bench_torch_block.py [--quick] [--no-save] [--kernels]

Forward+backward of a pre-norm block (width 1024, 16 heads, seq 2048,
batch 8, bf16) on cuda:0; prints the time per step, the ratio, and the
per-op breakdown of our step from the xrt Profiler (host-side spans), the
host time to queue a step and, with --kernels, the GPU time per kernel and
the host time per call (CUDA runtime calls included) of one step of each
block from torch's profiler. Writes bench/results/<date>-torch-block.md.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch
import torch.nn.functional as F

import xpuruntime as xrt
import xpuruntime.torch as xt

from benchlib import save_results
from cudabench import DEVICE, event_medians, gpu_line

class TorchAttention(torch.nn.MultiheadAttention):
    """torch's own attention through SDPA (what a torch user writes)."""

    def forward(self, x):
        batch, seq, width = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q, k, v = (t.view(batch, seq, self.num_heads, self.head_dim).transpose(1, 2)
                   for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(out.transpose(1, 2).reshape(batch, seq, width))


class OurAttention(xt.Attention):
    def forward(self, x):
        return super().forward(x, x, x, is_causal=True)[0]


class Block(torch.nn.Module):
    def __init__(self, width, heads, norm, attention):
        super().__init__()
        self.norm1, self.norm2 = norm(width), norm(width)
        self.attn = attention(width, heads, batch_first=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(width, 4 * width), torch.nn.GELU(),
                                       torch.nn.Linear(4 * width, width))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def step(block, x, grad):
    x.grad = None
    block(x).backward(grad)


def kernel_table(block, x, grad) -> str:
    """GPU time per kernel of one step, from torch's profiler (CUPTI)."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step(block, x, grad)
        torch.cuda.synchronize()
    return prof.key_averages().table(sort_by="self_device_time_total", row_limit=14,
                                     max_name_column_width=60)


def host_table(block, x, grad) -> str:
    """Host time per call of one step, CUDA runtime calls included: where
    the host spends a step it must queue faster than the GPU runs it."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        step(block, x, grad)
        torch.cuda.synchronize()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=16,
                                     max_name_column_width=60)


def host_queue_seconds(block, x, grad, steps=5) -> float:
    """Host seconds per step to queue `steps` steps, from an idle GPU."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step(block, x, grad)
    queued = time.perf_counter() - start
    torch.cuda.synchronize()
    return queued / steps


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="batch 1, few repeats")
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument("--kernels", action="store_true",
                        help="GPU time per kernel of both blocks (torch profiler)")
    args = parser.parse_args()
    width, heads, seq, batch = 1024, 16, 2048, 1 if args.quick else 8
    torch.manual_seed(0)
    theirs = Block(width, heads, torch.nn.LayerNorm, TorchAttention).to(DEVICE, torch.bfloat16)
    ours = Block(width, heads, xt.LayerNorm, OurAttention).to(DEVICE, torch.bfloat16)
    ours.load_state_dict(theirs.state_dict())
    x = torch.randn(batch, seq, width, device=DEVICE, dtype=torch.bfloat16, requires_grad=True)
    grad = torch.randn_like(x)
    ours_s, theirs_s = event_medians([lambda: step(ours, x, grad), lambda: step(theirs, x, grad)],
                                     iters=5, repeats=5 if args.quick else 11)

    allocs = xrt.memory_stats(DEVICE)["num_device_allocs"]
    ours_host, theirs_host = (host_queue_seconds(b, x, grad) for b in (ours, theirs))
    allocs = xrt.memory_stats(DEVICE)["num_device_allocs"] - allocs
    with xrt.Profiler() as profiler:
        step(ours, x, grad)
        torch.cuda.synchronize()
    table = (f"| block (width {width}, {heads} heads, seq {seq}, batch {batch}, bf16) | "
             f"xpuruntime | torch eager + SDPA | ratio (theirs / ours) |\n|---|---|---|---|\n"
             f"| forward+backward | {ours_s * 1e3:.2f} ms | {theirs_s * 1e3:.2f} ms | "
             f"{theirs_s / ours_s:.2f} |\n| host time to queue a step | {ours_host * 1e3:.2f} ms "
             f"| {theirs_host * 1e3:.2f} ms | |\n\nxpuruntime's device allocations in 5 steps "
             f"after warm-up: {allocs}.\n\nxrt Profiler, one step of ours (host-side "
             f"spans: GPU work is asynchronous):\n\n```\n{profiler.summary()}\n```")
    if args.kernels:
        table += "".join(f"\n\nGPU kernels, one step of {name}:\n\n```\n"
                         f"{kernel_table(block, x, grad)}\n```\n\nHost time, one step of "
                         f"{name}:\n\n```\n{host_table(block, x, grad)}\n```"
                         for name, block in (("ours", ours), ("torch", theirs)))
    print(table)
    if not args.no_save:
        save_results("torch-block", "Transformer block with xpuruntime.torch",
                     f"torch {torch.__version__}",
                     "python bench/bench_torch_block.py" + (" --kernels" if args.kernels else ""),
                     "CUDA events around 5 steps, median of alternating repeats after warm-up; "
                     "ratio above 1 means xpuruntime is faster.", table,
                     device=gpu_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
