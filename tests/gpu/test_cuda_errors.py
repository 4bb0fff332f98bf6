"""Errors on CUDA devices: typed, naming what is wrong."""

import numpy as np
import pytest
from cuda_util import DEVICE, torch

import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu


def test_device_properties_match_torch():
    device = xrt.Device(DEVICE)
    props = torch.cuda.get_device_properties(0)
    assert (device.name, device.kind, device.index) == ("cuda:0", "cuda", 0)
    assert device.description == props.name
    assert device.total_memory == props.total_memory
    assert device.compute_units == props.multi_processor_count
    assert device.compute_capability == props.major * 10 + props.minor
    assert device in xrt.devices()


def test_missing_device_is_not_found():
    with pytest.raises(xrt.NotFound, match="cuda:99"):
        xrt.Device("cuda:99")
    with pytest.raises(xrt.NotFound, match="cuda:99"):
        xrt.empty(4, "float32", "cuda:99")


def test_inputs_on_different_devices():
    on_gpu = xrt.zeros(4, "float32", DEVICE)
    on_cpu = xrt.zeros(4, "float32")
    with pytest.raises(xrt.InvalidArgument) as caught:
        ops.add(on_gpu, on_cpu)
    assert "cuda:0" in str(caught.value) and "cpu" in str(caught.value)


def test_stream_of_another_device():
    on_cpu = xrt.zeros(4, "float32")
    with pytest.raises(xrt.InvalidArgument) as caught:
        ops.add(on_cpu, on_cpu, stream=xrt.Stream(DEVICE))
    assert "cuda:0" in str(caught.value) and "cpu" in str(caught.value)


def test_attention_has_no_cuda_kernel():
    q = xrt.zeros((1, 2, 5, 8), "float32", DEVICE)
    with pytest.raises(xrt.Unsupported) as caught:
        ops.attention(q, q, q)
    message = str(caught.value)
    assert "attention" in message and "float32" in message and "cuda:0" in message


CALLS = {
    "matmul": lambda x: ops.matmul(x, x),
    "add": lambda x: ops.add(x, x),
    "gelu": ops.gelu,
    "softmax": ops.softmax,
    "layer_norm": ops.layer_norm,
}


@pytest.mark.parametrize("op, dtype", [("matmul", "int32"), ("gelu", "int32"), ("add", "int64"),
                                       ("matmul", "float64"), ("softmax", "float64"),
                                       ("layer_norm", "float64")])
def test_dtypes_without_a_cuda_kernel(op, dtype):
    x = xrt.asarray(np.ones((4, 4), dtype), device=DEVICE)
    with pytest.raises(xrt.Unsupported) as caught:
        CALLS[op](x)
    message = str(caught.value)
    assert op in message and dtype in message and "cuda:0" in message
