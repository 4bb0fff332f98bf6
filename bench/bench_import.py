"""What `import xpuruntime` costs, next to `import onnxruntime`, each in a
fresh interpreter (median of several), and the modules that take the most
of it according to `python -X importtime`.

    python bench/bench_import.py [--runs N] [--no-save]

Prints a table and writes it to bench/results/<date>-import.md.
"""
from __future__ import annotations

import argparse
import datetime
import platform
import statistics
import subprocess
import sys
from pathlib import Path

TIMED = "import time; t = time.perf_counter(); import {0}; print(time.perf_counter() - t)"


def import_seconds(module: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", TIMED.format(module)], check=True,
                             capture_output=True, text=True).stdout
        samples.append(float(out))
    return statistics.median(samples)


def heaviest(module: str, count: int = 4) -> list[tuple[str, float]]:
    """The packages `import module` pulls in, by cumulative import time
    (-X importtime; a package counts at its outermost import)."""
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         check=True, capture_output=True, text=True).stderr
    totals: dict[str, float] = {}
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not cumulative.strip().isdigit():
            continue
        package = name.strip().split(".")[0]
        if package != module and not package.startswith("_"):
            totals[package] = max(totals.get(package, 0.0), int(cumulative) / 1e6)
    return sorted(totals.items(), key=lambda item: -item[1])[:count]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    rows = ["| import | median of {} fresh interpreters | packages it loads, slowest first (-X importtime) |"
            .format(args.runs), "| --- | ---: | --- |"]
    seconds = {}
    for module in ("numpy", "xpuruntime", "onnxruntime"):
        seconds[module] = import_seconds(module, args.runs)
        top = ", ".join(f"{name} {t * 1e3:.0f} ms" for name, t in heaviest(module))
        rows.append(f"| `import {module}` | {seconds[module] * 1e3:.0f} ms | {top} |")
    ratio = seconds["xpuruntime"] / seconds["onnxruntime"]
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, xpuruntime; print(' '.join(sorted(m for m in "
         "('ml_dtypes', 'torch', 'onnxruntime', 'openvino', 'onnx') if m in sys.modules)))"],
        check=True, capture_output=True, text=True).stdout.strip()
    table = "\n".join(rows) + (
        f"\n\nxpuruntime / onnxruntime: {ratio:.2f}x. Heavy packages `import xpuruntime` "
        f"loaded: {loaded or 'none'}.")
    print(table)
    if not args.no_save:
        today = datetime.date.today().isoformat()
        out = Path(__file__).resolve().parent / "results" / f"{today}-import.md"
        import numpy
        import onnxruntime
        import xpuruntime
        out.write_text(
            f"# Import cost, {today}\n\n{platform.processor() or platform.machine()}, Python "
            f"{platform.python_version()}, numpy {numpy.__version__}, onnxruntime "
            f"{onnxruntime.__version__}, xpuruntime {xpuruntime.__version__}.\n\n"
            f"Command: `python bench/bench_import.py --runs {args.runs}`\n\n{table}\n")
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
