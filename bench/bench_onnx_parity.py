"""Counts of the ONNX backend test cases that give bit-identical outputs
through xpuruntime.onnxruntime and onnxruntime.

    python bench/bench_onnx_parity.py [--no-save]

Writes bench/results/<date>-onnx-parity.md.
"""
from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))

import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402

import xpuruntime.onnxruntime as xort  # noqa: E402
from benchlib import save_results  # noqa: E402
from onnx_backend_cases import cases, compare_case  # noqa: E402
from test_onnx_backend_parity import NON_TENSOR  # noqa: E402

COLUMNS = ("same", "non-tensor", "wrong", "skip")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args()
    ort.set_default_logger_severity(3)
    xort.set_default_logger_severity(3)
    counts = collections.defaultdict(collections.Counter)
    wrong = []
    for case in cases():
        result = compare_case(case, ort, xort)
        kind = result if result in ("same", "skip") else \
            "non-tensor" if NON_TENSOR.match(result) else "wrong"
        counts[case.suite][kind] += 1
        if kind == "wrong":
            wrong.append(f"{case.id}: {result}")
    total = collections.Counter()
    lines = ["| suite | bit-identical | refused: empty sequence inputs | wrong or failed "
             "| onnxruntime cannot run |", "|---|---|---|---|---|"]
    for suite, row in counts.items():
        total.update(row)
        lines.append(f"| {suite} | " + " | ".join(str(row[c]) for c in COLUMNS) + " |")
    lines.append("| **all** | " + " | ".join(f"**{total[c]}**" for c in COLUMNS) + " |")
    table = "\n".join(lines)
    if wrong:
        table += "\n\nWrong or failed:\n\n" + "\n".join(f"- {w}" for w in wrong)
    print(table)
    if not args.no_save:
        save_results(
            "onnx-parity", "ONNX backend test cases: xpuruntime.onnxruntime vs onnxruntime",
            f"onnx {onnx.__version__}, onnxruntime {ort.__version__}",
            "python bench/bench_onnx_parity.py",
            "Each case runs through `onnxruntime.InferenceSession` and "
            "`xpuruntime.onnxruntime.InferenceSession` (CPUExecutionProvider, the ONNX "
            "Runtime backend) on every data set; outputs must match bit for bit "
            "(dtype, shape, bytes). Cases onnxruntime itself refuses are not counted "
            "against us. Node cases are built by onnx.backend.test.case.node; the other "
            "suites are the onnx wheel's test data folders.", table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
