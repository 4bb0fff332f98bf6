"""Two GPUs of one host, measured in one run:
  * cuda:0 -> cuda:1 copy bandwidth of 1 GiB, ``Tensor.to`` against torch's
    ``Tensor.to`` (both allocate the destination from their caching pools;
    each timed batch ends when both GPUs are idle);
  * two InferenceSessions (ONNX Runtime's CUDA provider), one per GPU, each
    run from its own thread, against one session on cuda:0 alone: runs per
    second, and the ratio (2.0 would be perfect scaling).

    python bench/bench_multi_gpu.py [--quick] [--no-save]

Writes bench/results/<date>-multi-gpu.md. Needs two GPUs and torch with
CUDA; the session rows need onnxruntime-gpu and onnx (left out without).
"""
from __future__ import annotations

import argparse
import sys
import threading
import time

import numpy as np

import xpuruntime as xrt

from benchlib import interleaved_medians, save_results

try:
    import torch
except ImportError:
    sys.exit("bench_multi_gpu.py needs torch with CUDA")

GIB = 1 << 30


def copy_rows(repeats: int) -> list[str]:
    ours = xrt.empty((GIB // 4,), "float32", "cuda:0")
    theirs = torch.empty(GIB // 4, dtype=torch.float32, device="cuda:0")

    def both_idle():
        xrt.synchronize("cuda:0")
        xrt.synchronize("cuda:1")
        torch.cuda.synchronize(0)
        torch.cuda.synchronize(1)

    mine, torch_s = interleaved_medians([lambda: ours.to("cuda:1"), lambda: theirs.to("cuda:1")],
                                        calls=1, repeats=repeats, warmup=2,
                                        after_batch=both_idle)
    peer = torch.cuda.can_device_access_peer(0, 1)
    return [f"| copy 1 GiB cuda:0 -> cuda:1 (peer access {'yes' if peer else 'no'}) "
            f"| {GIB / mine / 1e9:.1f} GB/s | {GIB / torch_s / 1e9:.1f} GB/s "
            f"| {torch_s / mine:.2f} |"]


def _session_and_feed(device: str):
    from bench_session import mlp_model
    model, feed = mlp_model(width=4096, layers=4, batch=256)
    session = xrt.InferenceSession(model, device=device)
    return session, {name: xrt.asarray(value, device=device) for name, value in feed.items()}


def _run_many(session, feed, device: str, runs: int) -> None:
    for _ in range(runs):
        session.run_tensors(None, feed)
    xrt.synchronize(device)


def session_rows(runs: int) -> list[str]:
    workers = [(device, *_session_and_feed(device)) for device in ("cuda:0", "cuda:1")]
    for device, session, feed in workers:
        _run_many(session, feed, device, 5)  # ONNX Runtime's one-time setup

    start = time.perf_counter()
    _run_many(workers[0][1], workers[0][2], "cuda:0", runs)
    one = runs / (time.perf_counter() - start)

    threads = [threading.Thread(target=_run_many, args=(s, f, d, runs)) for d, s, f in workers]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    two = 2 * runs / (time.perf_counter() - start)
    return [f"| MLP 4x4096, batch 256: one session on cuda:0 | {one:.1f} runs/s | | |",
            f"| same, one session per GPU, a thread each | {two:.1f} runs/s | | {two / one:.2f} |"]


def _ort_has_cuda() -> bool:
    return any(b.name == "onnxruntime" and b.available and "CUDAExecutionProvider" in b.details
               for b in xrt.backends())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-save", action="store_true", help="print only")
    args = parser.parse_args()
    gpus = [d for d in xrt.devices() if d.kind == "cuda"]
    if len(gpus) < 2 or torch.cuda.device_count() < 2:
        sys.exit(f"bench_multi_gpu.py needs two GPUs (xpuruntime sees {len(gpus)}, "
                 f"torch {torch.cuda.device_count()})")
    rows = copy_rows(repeats=5 if args.quick else 20)
    if _ort_has_cuda():
        rows += session_rows(runs=20 if args.quick else 200)
    else:
        print("session rows left out: onnxruntime has no CUDAExecutionProvider", file=sys.stderr)
    table = "\n".join(["| case | xpuruntime | torch | ratio |", "|---|---:|---:|---:|", *rows])
    print(table)
    if not args.no_save:
        names = ", ".join(f"{d.name} {d.description}" for d in gpus)
        save_results("multi-gpu", "Two GPUs: copies and concurrent sessions",
                     f"torch {torch.__version__}", "python bench/bench_multi_gpu.py"
                     + (" --quick" if args.quick else ""),
                     "Copy ratio: torch's time over ours (above 1: ours is faster). Session "
                     "ratio: two GPUs' runs per second over one GPU's.", table, device=names)


if __name__ == "__main__":
    main()
