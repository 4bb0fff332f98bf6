"""What the soak and fault tests share: a small ONNX model with its numpy
reference, the backends that run models here, the test size and RSS."""

import os

import numpy as np
import pytest

import xpuruntime as xrt

# CI runs the slow tests at scale 1; XRT_SOAK_SCALE=20 soaks for real.
SCALE = max(1, int(os.environ.get("XRT_SOAK_SCALE", "1")))

FEATURES, HIDDEN, OUTPUTS = 16, 32, 8


def needs_backend(name):
    """A mark that skips a test, saying why, where backend `name` is unavailable."""
    info = next((b for b in xrt.backends() if b.name == name), None)
    reason = "plugin not built" if info is None else info.reason
    return pytest.mark.skipif(info is None or not info.available,
                              reason=f"backend {name} unavailable: {reason}")


MODEL_BACKENDS = [pytest.param(name, marks=needs_backend(name))
                  for name in ("onnxruntime", "openvino")]


class Mlp:
    """y = relu(x @ w1 + b1) @ w2 with x float32 (batch, FEATURES)."""

    def __init__(self, rng):
        onnx = pytest.importorskip("onnx", reason="the model is built with the onnx package")
        from onnx import TensorProto, helper, numpy_helper

        self.w1 = rng.standard_normal((FEATURES, HIDDEN)).astype(np.float32)
        self.b1 = rng.standard_normal(HIDDEN).astype(np.float32)
        self.w2 = rng.standard_normal((HIDDEN, OUTPUTS)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w1"], ["h"]),
             helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]),
             helper.make_node("MatMul", ["r", "w2"], ["y"])],
            "mlp",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", OUTPUTS])],
            [numpy_helper.from_array(self.w1, "w1"), numpy_helper.from_array(self.b1, "b1"),
             numpy_helper.from_array(self.w2, "w2")])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        self.bytes = model.SerializeToString()

    def reference(self, x):
        h = x.astype(np.float64) @ self.w1 + self.b1
        return np.maximum(h, 0) @ self.w2

    def check(self, y, x):
        np.testing.assert_allclose(np.asarray(y, np.float64), self.reference(x),
                                   rtol=1e-4, atol=1e-4)


def rss_bytes():
    """Resident set size of this process, from /proc/self/statm. Skips the
    test under AddressSanitizer (tools/sanitize preloads it): its quarantine
    keeps freed memory resident, so growth there says nothing about leaks,
    which its own leak checker covers in the C tests."""
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        pytest.skip("RSS growth is meaningless under AddressSanitizer (freed memory is "
                    "quarantined)")
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
