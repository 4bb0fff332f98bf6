"""What the GPU benchmarks share: CUDA-event timing of alternating
candidates, and the device line of their results files."""
from __future__ import annotations

import statistics

import torch

import xpuruntime as xrt

DEVICE = "cuda:0"


def event_medians(fns, iters: int, repeats: int, warmup: int = 3) -> list[float]:
    """Median seconds per call of each fn (None: skipped, NaN), timed with
    CUDA events around `iters` back-to-back calls on the current stream; the
    fns alternate between repeats so drift hits them alike."""
    live = [fn for fn in fns if fn is not None]
    for fn in live:
        for _ in range(warmup):
            fn()
    torch.cuda.synchronize()
    samples: dict[int, list[float]] = {id(fn): [] for fn in live}
    for _ in range(repeats):
        for fn in live:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(iters):
                fn()
            end.record()
            end.synchronize()
            samples[id(fn)].append(start.elapsed_time(end) / 1e3 / iters)
    return [statistics.median(samples[id(fn)]) if fn is not None else float("nan")
            for fn in fns]


def gpu_line() -> str:
    """"NVIDIA H200 (132 SMs)" for the results file."""
    gpu = xrt.Device(DEVICE)
    return f"{gpu.description} ({gpu.compute_units} SMs)"
