"""Install size of xpuruntime against what a user would otherwise install:
for each set of requirements, pip resolves and downloads every wheel it
would install (on this platform and Python), and the table gives the
download size and the installed size (every file the wheels unpack, before
bytecode compilation).

    python bench/install_size.py dist/xpuruntime-*.whl [--no-save]

Prints a Markdown table and writes it to bench/results/<date>-install-size.md.
Wheels are downloaded into a cache folder (XRT_SIZE_CACHE, default
build-install-size/) so a second run reuses them.
"""
from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import zipfile
from pathlib import Path


GIB = 1 << 30
MIB = 1 << 20


def download(requirements: list[str], folder: Path) -> list[Path]:
    """Every wheel pip would install for `requirements` (one folder per set,
    so a rerun finds them already there)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("xpuruntime-*.whl"):  # an earlier build of ours
        stale.unlink()
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--only-binary=:all:",
                    "-d", str(folder), *requirements], check=True)
    return sorted(folder.glob("*.whl"))


def unpacked(wheel: Path) -> int:
    with zipfile.ZipFile(wheel) as z:
        return sum(info.file_size for info in z.infolist())


def sizes(wheels: list[Path]) -> tuple[int, int]:
    return sum(w.stat().st_size for w in wheels), sum(unpacked(w) for w in wheels)


def largest(wheels: list[Path], count: int = 3) -> str:
    by_size = sorted(wheels, key=unpacked, reverse=True)[:count]
    return ", ".join(f"{w.name.split('-')[0]} {human(unpacked(w))}" for w in by_size)


def human(n: int) -> str:
    return f"{n / GIB:.2f} GiB" if n >= GIB else f"{n / MIB:.0f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("wheel", type=Path, help="the xpuruntime wheel (tools/build-wheels)")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    ours = f"xpuruntime @ {args.wheel.resolve().as_uri()}"
    root = Path(__file__).resolve().parents[1]
    cache = Path(os.environ.get("XRT_SIZE_CACHE", root / "build-install-size")).resolve()
    rows = [
        ("xpuruntime (CPU; numpy, ml_dtypes, scipy-openblas32, onnxruntime)", [ours]),
        ("xpuruntime[cuda] (+ cuBLAS, cuDNN, CUDA runtime wheels)",
         [ours.replace("xpuruntime @", "xpuruntime[cuda] @")]),
        ("xpuruntime[openvino]", [ours.replace("xpuruntime @", "xpuruntime[openvino] @")]),
        ("onnxruntime", ["onnxruntime"]),
        ("onnxruntime-gpu", ["onnxruntime-gpu"]),
        # The torch the tests pin, as the CPU build and as the default (CUDA) build.
        ("torch, CPU build", ["torch==2.13.0+cpu"]),
        ("torch, CUDA build", ["torch==2.13.0,!=2.13.0+cpu"]),
    ]
    measured = {}
    lines = ["| install | wheels | download | installed | largest wheels, installed |",
             "| --- | ---: | ---: | ---: | --- |"]
    own = sizes([args.wheel])
    lines.append(f"| {args.wheel.name} alone | 1 | {human(own[0])} | {human(own[1])} | |")
    for label, requirements in rows:
        slug = label.split(" (")[0].replace(" ", "-").replace(",", "").replace("[", "-").strip("]")
        try:
            wheels = download(requirements, cache / slug)
        except subprocess.CalledProcessError:
            lines.append(f"| {label} | - | not available to pip here | | |")
            continue
        measured[label] = sizes(wheels)
        lines.append(f"| {label} | {len(wheels)} | {human(measured[label][0])} | "
                     f"{human(measured[label][1])} | {largest(wheels)} |")
    table = "\n".join(lines)
    print(table)
    ratio_lines = []
    for ours_label, theirs_label in ((rows[0][0], rows[5][0]), (rows[1][0], rows[6][0])):
        if ours_label in measured and theirs_label in measured:
            ratio = measured[theirs_label][1] / measured[ours_label][1]
            ratio_lines.append(f"- {theirs_label.split(' (')[0]} installs {ratio:.1f}x the bytes of "
                               f"{ours_label.split(' (')[0]}")
    print("\n".join(ratio_lines))
    if not args.no_save:
        today = datetime.date.today().isoformat()
        out = Path(__file__).resolve().parent / "results" / f"{today}-install-size.md"
        out.write_text(f"# Install size, {today}\n\n"
                       f"Wheels pip resolves for Linux x86_64, CPython {sys.version_info.major}."
                       f"{sys.version_info.minor}; installed = every file the wheels unpack.\n\n"
                       f"Command: `python bench/install_size.py {args.wheel.name}`\n\n"
                       f"{table}\n\n" + "\n".join(ratio_lines) + "\n")
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
