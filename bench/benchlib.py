"""What the bench/ scripts share: interleaved timing and the results file
each writes to bench/results/<date>-<slug>.md."""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import time
from pathlib import Path

import xpuruntime as xrt

RESULTS = Path(__file__).resolve().parent / "results"


def interleaved_medians(fns, calls: int, repeats: int) -> list[float]:
    """Median seconds per call of each fn; batches of `calls` alternate between them."""
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            out.append((time.perf_counter() - start) / calls)
    return [statistics.median(s) for s in samples]


def save_results(slug: str, title: str, versions: str, command: str, method: str,
                 table: str) -> None:
    """Writes the table with the date, the CPU, the versions that produced it
    and the command that did."""
    today = datetime.date.today().isoformat()
    cpu = xrt.Device("cpu").description or platform.processor()
    text = (f"# {title}, {today}\n\n"
            f"Device: {cpu} ({os.cpu_count()} logical cores), "
            f"Python {platform.python_version()}, {versions}, xpuruntime {xrt.__version__}.\n\n"
            f"Command: `{command}`\n\n{method}\n\n{table}\n")
    out = RESULTS / f"{today}-{slug}.md"
    out.write_text(text)
    print(f"written to {out.relative_to(RESULTS.parent.parent)}")
