"""One severity knob for the runtimes' own logs: log_severity_level,
onnxruntime's set_default_logger_severity and XPURUNTIME_LOG_SEVERITY govern
OpenVINO's LOG_LEVEL as they govern ONNX Runtime's logger. OpenVINO's level
is read back from the compiled model, so the test sees what OpenVINO took."""

import subprocess
import sys

import pytest

onnx = pytest.importorskip("onnx", reason="the models are built with the onnx package")
from onnx import TensorProto, helper  # noqa: E402

import xpuruntime as xrt  # noqa: E402

HAVE_OPENVINO = any(b.name == "openvino" and b.available for b in xrt.backends())
pytestmark = pytest.mark.skipif(not HAVE_OPENVINO, reason="the OpenVINO backend is unavailable")

OV_LEVELS = ["LOG_TRACE", "LOG_INFO", "LOG_WARNING", "LOG_ERROR", "LOG_NONE"]


def _model():
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@pytest.mark.parametrize("severity", range(5))
def test_log_severity_level_sets_openvinos_level(severity):
    sess = xrt.InferenceSession(_model(), backend="openvino", log_severity_level=severity)
    assert sess._property("log_level") == OV_LEVELS[severity]


def test_a_bad_severity_names_it_and_the_range():
    with pytest.raises(xrt.InvalidArgument, match=r"log_severity_level.*0 \(verbose\) to 4.*'7'"):
        xrt.InferenceSession(_model(), backend="openvino", log_severity_level=7)


@pytest.mark.parametrize("value, level", [(None, "LOG_WARNING"), ("error", "LOG_ERROR"),
                                          ("0", "LOG_TRACE")])
def test_the_environment_sets_the_default(value, level):
    """A fresh process: the default is read once, when the first session logs."""
    import os
    env = {k: v for k, v in os.environ.items() if k != "XPURUNTIME_LOG_SEVERITY"}
    if value is not None:
        env["XPURUNTIME_LOG_SEVERITY"] = value
    code = ("import sys, xpuruntime as xrt; "
            "s = xrt.InferenceSession(sys.stdin.buffer.read(), backend='openvino'); "
            "print(s._property('log_level'))")
    result = subprocess.run([sys.executable, "-c", code], input=_model(), capture_output=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().split() == [level]


def test_onnxruntime_api_knobs_reach_openvino():
    import xpuruntime.onnxruntime as ort
    from xpuruntime.onnxruntime import _logging
    try:
        ort.set_default_logger_severity(3)
        sess = ort.InferenceSession(_model(), providers=["OpenVINOExecutionProvider"])
        assert sess._sess._property("log_level") == "LOG_ERROR"
        options = ort.SessionOptions()
        options.log_severity_level = 1
        sess = ort.InferenceSession(_model(), options, providers=["OpenVINOExecutionProvider"])
        assert sess._sess._property("log_level") == "LOG_INFO"
    finally:
        _logging._severity = None
