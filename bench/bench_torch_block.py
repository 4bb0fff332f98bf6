"""Transformer encoder training steps with xpuruntime's kernels inside
PyTorch (xt.TransformerEncoderLayer: our attention, the residual adds
fused into the norms, the bias fused into the GELU) against torch's own
nn.TransformerEncoderLayer with the same weights, eager and, with
--compile, under torch.compile (default mode), torch's layer and ours,
measured in the same run.

    python bench/bench_torch_block.py [--quick] [--no-save] [--kernels] [--compile]

Forward+backward of one pre-norm layer and of a 6-layer encoder (width
1024, 16 heads, seq 2048, batch 8, causal, bf16, no dropout) on cuda:0:
wall time per step (CUDA events), GPU kernel time per step (torch's
profiler, the sum over kernels), the host time to queue a step, the
ratios, and the xrt Profiler's per-op spans of our layer. --kernels adds
the per-kernel GPU time and the host time per call of one step of each
layer. Writes bench/results/<date>-torch-block.md.
"""
from __future__ import annotations

import argparse
import sys
import time

import torch

import xpuruntime as xrt
import xpuruntime.torch as xt

from benchlib import save_results
from cudabench import DEVICE, event_medians, gpu_line

WIDTH, HEADS, SEQ, LAYERS = 1024, 16, 2048, 6


def make_models(layer_cls, num_layers):
    """One layer (num_layers 1) or an encoder stack of layer_cls, seeded
    so every class gets the same weights."""
    torch.manual_seed(0)
    layer = layer_cls(WIDTH, HEADS, 4 * WIDTH, dropout=0.0, activation="gelu",
                      batch_first=True, norm_first=True, device=DEVICE, dtype=torch.bfloat16)
    if num_layers == 1:
        return layer
    return torch.nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)


def step_of(model, x, grad, mask):
    def step():
        x.grad = None
        model(x, mask, is_causal=True).backward(grad)
    return step


def gpu_kernel_seconds(step) -> float:
    """GPU time of the kernels of one step (their sum), from torch's profiler."""
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        step()
        torch.cuda.synchronize()
    return sum(e.self_device_time_total for e in prof.key_averages()) / 1e6


def profiler_table(step, cpu: bool) -> str:
    """Per-kernel GPU time, or (cpu) host time per call with CUDA runtime calls."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU, ProfilerActivity.CUDA] if cpu else [ProfilerActivity.CUDA]
    with profile(activities=activities) as prof:
        step()
        torch.cuda.synchronize()
    return prof.key_averages().table(
        sort_by="self_cpu_time_total" if cpu else "self_device_time_total",
        row_limit=16 if cpu else 14, max_name_column_width=60)


def host_queue_seconds(step, steps=5) -> float:
    """Host seconds per step to queue `steps` steps, from an idle GPU."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    queued = time.perf_counter() - start
    torch.cuda.synchronize()
    return queued / steps


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="batch 1, few repeats")
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument("--kernels", action="store_true",
                        help="per-kernel GPU time and host time per call of one layer step")
    parser.add_argument("--compile", action="store_true",
                        help="also torch.compile (default mode) of torch's layer and encoder")
    args = parser.parse_args()
    batch = 1 if args.quick else 8
    repeats = 5 if args.quick else 11
    x = torch.randn(batch, SEQ, WIDTH, device=DEVICE, dtype=torch.bfloat16, requires_grad=True)
    grad = torch.randn_like(x)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(SEQ, device=DEVICE,
                                                                 dtype=torch.bfloat16)
    lines = [f"width {WIDTH}, {HEADS} heads, seq {SEQ}, batch {batch}, causal, bf16, "
             "forward+backward per step", "",
             "| model | candidate | wall ms | GPU kernel ms | host ms to queue | "
             "wall ratio (candidate / ours) |", "|---|---|---|---|---|---|"]
    extras = []
    for label, num_layers in (("one layer", 1), (f"{LAYERS}-layer encoder", LAYERS)):
        theirs = make_models(torch.nn.TransformerEncoderLayer, num_layers)
        ours = make_models(xt.TransformerEncoderLayer, num_layers)
        ours.load_state_dict(theirs.state_dict())
        candidates = [("xpuruntime.torch", step_of(ours, x, grad, mask)),
                      ("torch eager", step_of(theirs, x, grad, mask))]
        if args.compile:
            candidates += [("torch.compile", step_of(torch.compile(theirs), x, grad, mask)),
                           ("xpuruntime.torch, torch.compile",
                            step_of(torch.compile(ours), x, grad, mask))]
        walls = event_medians([fn for _, fn in candidates], iters=5, repeats=repeats)
        for (name, fn), wall in zip(candidates, walls):
            kernels = gpu_kernel_seconds(fn)
            host = host_queue_seconds(fn)
            lines.append(f"| {label} | {name} | {wall * 1e3:.2f} | {kernels * 1e3:.2f} | "
                         f"{host * 1e3:.2f} | {wall / walls[0]:.2f} |")
        if num_layers == 1:
            allocs = xrt.memory_stats(DEVICE)["num_device_allocs"]
            for _ in range(5):
                candidates[0][1]()
            allocs = xrt.memory_stats(DEVICE)["num_device_allocs"] - allocs
            with xrt.Profiler() as profiler:
                candidates[0][1]()
                torch.cuda.synchronize()
            extras.append(f"xpuruntime's device allocations in 5 steps of one layer after "
                          f"warm-up: {allocs}.\n\nxrt Profiler, one step of our layer "
                          f"(host-side spans: GPU work is asynchronous):\n\n```\n"
                          f"{profiler.summary()}\n```")
            if args.kernels:
                extras += [f"{what}, one step of one layer, {name}:\n\n```\n"
                           f"{profiler_table(fn, cpu)}\n```"
                           for name, fn in candidates[:2]
                           for what, cpu in (("GPU kernels", False), ("Host time", True))]
        del theirs, ours, candidates
        torch.cuda.empty_cache()
    table = "\n".join(lines) + "\n\n" + "\n\n".join(extras)
    print(table)
    if not args.no_save:
        flags = "".join(f" --{f}" for f in ("quick", "kernels", "compile") if getattr(args, f))
        save_results("torch-block", "Transformer encoder training with xpuruntime.torch",
                     f"torch {torch.__version__}", "python bench/bench_torch_block.py" + flags,
                     "CUDA events around 5 steps, median of alternating repeats after warm-up "
                     "(wall); torch profiler's kernel times summed over one step (GPU kernel); "
                     "ratio above 1 means xpuruntime is faster.", table, device=gpu_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
