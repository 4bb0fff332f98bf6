"""Parity with onnxruntime on the ONNX backend test cases: every case that
onnxruntime's own Python API runs gives bit-identical outputs (values,
dtypes, shapes) through xpuruntime.onnxruntime on the ONNX Runtime backend.

String, sequence, map and optional inputs and outputs run too; the one
kind of value refused is an empty sequence as an input, which ONNX Runtime's
C API cannot build (Unsupported naming the input): such cases are counted
apart. bench/bench_onnx_parity.py prints the full counts.
"""

import re

import pytest

pytest.importorskip("onnx", reason="the cases come from the onnx package")
ort = pytest.importorskip("onnxruntime", reason="parity is measured against onnxruntime")

import xpuruntime as xrt  # noqa: E402
import xpuruntime.onnxruntime as xort  # noqa: E402
from onnx_backend_cases import FILE_SUITES, cases, compare_case  # noqa: E402

pytestmark = pytest.mark.skipif(
    not any(b.name == "onnxruntime" and b.available for b in xrt.backends()),
    reason="the ONNX Runtime backend is not available")

NON_TENSOR = re.compile(r"^Unsupported: onnxruntime: input '.*' is an empty sequence")


def _sweep(selected):
    outcomes = {"same": [], "skip": [], "non-tensor": [], "wrong": []}
    for case in selected:
        result = compare_case(case, ort, xort)
        if result in ("same", "skip"):
            outcomes[result].append(case.id)
        elif NON_TENSOR.match(result):
            outcomes["non-tensor"].append(case.id)
        else:
            outcomes["wrong"].append(f"{case.id}: {result}")
    return outcomes


def _check(outcomes):
    assert not outcomes["wrong"], "\n".join(outcomes["wrong"][:20])
    assert outcomes["same"], "no case ran"


@pytest.fixture(autouse=True)
def quiet_onnxruntime():
    ort.set_default_logger_severity(3)
    xort.set_default_logger_severity(3)
    yield
    ort.set_default_logger_severity(2)
    xort.set_default_logger_severity(2)


@pytest.mark.parametrize("suite", FILE_SUITES)
def test_onnx_wheel_cases_match_onnxruntime(suite):
    _check(_sweep([c for c in cases(node=False) if c.suite == suite]))


@pytest.mark.slow
def test_node_cases_match_onnxruntime():
    _check(_sweep([c for c in cases() if c.suite == "node"]))
