"""xpuruntime.onnxruntime on cuda:0: onnxruntime's GPU usage from its docs
(CUDAExecutionProvider, IO binding with device-resident inputs and
outputs, OrtValues on the device), checked against the CPU provider.
onnxruntime's own CUDA sessions are not run in the same process (the two
would share one CUDA provider library; see README). Needs onnxruntime-gpu
(skipped without it)."""

import numpy as np
import pytest

import xpuruntime as xrt
import xpuruntime.onnxruntime as xort

onnx = pytest.importorskip("onnx", reason="the model is built with the onnx package")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

CUDA_EP = "CUDAExecutionProvider"
PROVIDERS = [CUDA_EP, "CPUExecutionProvider"]

pytestmark = pytest.mark.skipif(CUDA_EP not in xort.get_available_providers(),
                                reason="onnxruntime has no CUDAExecutionProvider "
                                       "(pip install onnxruntime-gpu)")

WIDTH = 256


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(3)
    w = (rng.standard_normal((WIDTH, WIDTH)) / np.sqrt(WIDTH)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]), helper.make_node("Relu", ["xw"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", WIDTH])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", WIDTH])],
        [numpy_helper.from_array(w, "w")])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m.SerializeToString()


@pytest.fixture
def x(rng):
    return rng.standard_normal((8, WIDTH)).astype(np.float32)


def _cpu_reference(model, x):
    return xort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]


def test_cuda_provider_session_runs_on_the_gpu(model, x):
    sess = xort.InferenceSession(model, providers=PROVIDERS)
    assert sess.get_providers()[0] == CUDA_EP
    assert sess.xrt_session.device.name == "cuda:0"
    assert xort.get_device() == "GPU"
    np.testing.assert_allclose(sess.run(None, {"x": x})[0], _cpu_reference(model, x),
                               rtol=1e-3, atol=1e-3)


def test_iobinding_keeps_outputs_on_the_device(model, x):
    sess = xort.InferenceSession(model, providers=PROVIDERS)
    x_value = xort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)
    assert x_value.device_name() == "cuda"
    binding = sess.io_binding()
    binding.bind_ortvalue_input("x", x_value)
    binding.bind_output("y", "cuda", 0)
    sess.run_with_iobinding(binding)
    (y,) = binding.get_outputs()
    assert y.device_name() == "cuda" and y.tensor.device.name == "cuda:0"
    np.testing.assert_allclose(binding.copy_outputs_to_cpu()[0], _cpu_reference(model, x),
                               rtol=1e-3, atol=1e-3)


def test_iobinding_writes_into_the_kept_device_output(model, x):
    """As onnxruntime does, a run writes into the previous run's device
    output (same address) while copy_outputs_to_cpu's arrays stay."""
    sess = xort.InferenceSession(model, providers=PROVIDERS)
    first_x = xort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)
    binding = sess.io_binding()
    binding.bind_ortvalue_input("x", first_x)
    binding.bind_output("y", "cuda", 0)
    sess.run_with_iobinding(binding)
    address = binding.get_outputs()[0].data_ptr()
    first = binding.copy_outputs_to_cpu()[0]
    first_x.update_inplace(-x)
    sess.run_with_iobinding(binding)
    assert binding.get_outputs()[0].data_ptr() == address
    np.testing.assert_allclose(binding.copy_outputs_to_cpu()[0], _cpu_reference(model, -x),
                               rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(first, _cpu_reference(model, x), rtol=1e-3, atol=1e-3)


def test_bound_device_pointers_are_used_in_place(model, x):
    """bind_input / bind_output with raw device pointers (torch's data_ptr()
    pattern): the output lands in the caller's buffer; poisoned first."""
    sess = xort.InferenceSession(model, providers=PROVIDERS)
    x_dev = xrt.asarray(x, device="cuda:0")
    y_dev = xrt.asarray(np.full((x.shape[0], WIDTH), np.nan, np.float32), device="cuda:0")
    binding = sess.io_binding()
    binding.bind_input("x", "cuda", 0, np.float32, x.shape,
                       x_dev.__cuda_array_interface__["data"][0])
    binding.bind_output("y", "cuda", 0, np.float32, y_dev.shape,
                        y_dev.__cuda_array_interface__["data"][0])
    sess.run_with_iobinding(binding)
    binding.synchronize_outputs()
    np.testing.assert_allclose(y_dev.numpy(), _cpu_reference(model, x), rtol=1e-3, atol=1e-3)


def test_output_bound_to_the_cpu_is_copied_there(model, x):
    sess = xort.InferenceSession(model, providers=PROVIDERS)
    binding = sess.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_output("y", "cpu", 0)
    sess.run_with_iobinding(binding)
    (y,) = binding.get_outputs()
    assert y.device_name() == "cpu"
    np.testing.assert_allclose(y.numpy(), _cpu_reference(model, x), rtol=1e-3, atol=1e-3)


def test_input_on_another_gpu_is_refused(model, x):
    if len([d for d in xrt.devices() if d.kind == "cuda"]) < 2:
        pytest.skip("needs two GPUs")
    sess = xort.InferenceSession(model, providers=PROVIDERS)
    with pytest.raises(xrt.InvalidArgument, match="cuda:1"):
        sess.io_binding().bind_ortvalue_input("x", xort.OrtValue.ortvalue_from_numpy(x, "cuda", 1))


def test_run_with_ort_values_stays_on_the_device(model, x):
    sess = xort.InferenceSession(model, providers=PROVIDERS)
    out = sess.run_with_ort_values(["y"], {"x": xort.OrtValue.ortvalue_from_numpy(x, "cuda", 0)})
    assert out[0].device_name() == "cuda"
    np.testing.assert_allclose(out[0].numpy(), _cpu_reference(model, x), rtol=1e-3, atol=1e-3)
