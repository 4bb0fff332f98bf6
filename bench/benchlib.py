"""What the bench/ scripts share: interleaved timing, the results file
each writes to bench/results/<date>-<slug>.md, and the setup of the CPU
comparisons with torch."""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import xpuruntime as xrt

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def c_figures(device: str = "cpu") -> dict[str, float]:
    """Builds bench_core.c against the installed package, runs it on
    `device` and returns its figures (ns)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc or not shutil.which("pkg-config"):
        print("skipping C figures: no C compiler or pkg-config", file=sys.stderr)
        return {}
    env = dict(os.environ, PKG_CONFIG_PATH=xrt.get_pkgconfig_dir())
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "xpuruntime"], env=env,
                           check=True, capture_output=True, text=True).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "bench_core"
        subprocess.run([cc, "-O2", str(HERE / "bench_core.c"), "-o", str(exe), *flags], check=True)
        out = subprocess.run([str(exe), device], check=True, capture_output=True,
                             text=True).stdout
    figures = {}
    for line in out.splitlines():
        name, value, _unit = line.split()
        figures[name] = float(value)
    return figures


def interleaved_medians(fns, calls: int, repeats: int, warmup: int = 0,
                        after_batch=None) -> list[float]:
    """Median seconds per call of each fn; batches of `calls` alternate between
    them, after `warmup` untimed calls of each. `after_batch` (e.g. waiting
    for the GPU) runs inside each timed batch, at its end."""
    for fn in fns:
        for _ in range(warmup):
            fn()
    if after_batch:
        after_batch()
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            if after_batch:
                after_batch()
            out.append((time.perf_counter() - start) / calls)
    return [statistics.median(s) for s in samples]


def save_results(slug: str, title: str, versions: str, command: str, method: str,
                 table: str, device: str | None = None) -> None:
    """Writes the table with the date, the device (the CPU unless given), the
    versions that produced it and the command that did."""
    today = datetime.date.today().isoformat()
    cpu = xrt.Device("cpu").description or platform.processor()
    where = f"{device}, host {cpu}" if device else cpu
    text = (f"# {title}, {today}\n\n"
            f"Device: {where} ({os.cpu_count()} logical cores), "
            f"Python {platform.python_version()}, {versions}, xpuruntime {xrt.__version__}.\n\n"
            f"Command: `{command}`\n\n{method}\n\n{table}\n")
    out = RESULTS / f"{today}-{slug}.md"
    out.write_text(text)
    print(f"written to {out.relative_to(RESULTS.parent.parent)}")


def cpu_torch_arguments(doc: str) -> argparse.Namespace:
    """--quick and --no-save for a CPU comparison with torch; torch gets
    every core, as the runtime's pool does, and a fixed seed."""
    import torch

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    return args


def check_against_torch(ours, theirs, what: str, tolerance: dict) -> None:
    """Exits naming `what` unless our output (any DLPack tensor) is within
    tolerance[torch's dtype] of torch's, norm-wise."""
    import torch

    got = torch.from_dlpack(ours).double()
    want = theirs.detach().double()
    err = ((got - want).norm() / want.norm().clamp_min(1.0)).item()
    if err > tolerance[theirs.dtype]:
        raise SystemExit(f"{what}: outputs differ from torch's (relative error {err:.2e})")
