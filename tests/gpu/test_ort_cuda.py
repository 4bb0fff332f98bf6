"""ONNX Runtime's CUDA execution provider through InferenceSession on cuda:0:
results against the CPU provider, device-resident inputs and outputs, the
default stream, the shared memory pool. Needs onnxruntime-gpu (skipped
without it)."""

import gc
import os
import threading

import numpy as np
import pytest

import xpuruntime as xrt

onnx = pytest.importorskip("onnx", reason="the models are built or found with the onnx package")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

DEVICE = "cuda:0"
CUDA_EP = "CUDAExecutionProvider"


def _ort_has_cuda():
    for backend in xrt.backends():
        if backend.name == "onnxruntime" and backend.available:
            return CUDA_EP in backend.details
    return False


pytestmark = pytest.mark.skipif(not _ort_has_cuda(),
                                reason="onnxruntime has no CUDAExecutionProvider "
                                       "(pip install onnxruntime-gpu)")

LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
LIGHT_CNNS = ["light_resnet50", "light_squeezenet", "light_densenet121", "light_shufflenet"]
DEMO = os.path.join(os.path.dirname(xrt.__file__), "models", "demo_encoder.onnx")


def _linear_model(width, rng):
    """y = relu(x @ w + b) with a dynamic batch: a product big enough that a
    run out of stream order would read or write unfinished data."""
    w = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
    b = rng.standard_normal(width).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]),
         helper.make_node("Add", ["xw", "b"], ["z"]),
         helper.make_node("Relu", ["z"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", width])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString(), w.astype(np.float64), b.astype(np.float64)


def _reference(x, w, b):
    return np.maximum(x.astype(np.float64) @ w + b, 0)


# The CUDA provider multiplies float32 in TF32 by default (10-bit mantissa);
# a run out of order would be off by O(1), far outside this.
TF32 = {"rtol": 1e-2, "atol": 1e-2}


def _feed(session, rng):
    feed = {}
    for arg in session.get_inputs():
        shape = [d if isinstance(d, int) else 4 for d in arg.shape]
        feed[arg.name] = rng.standard_normal(shape).astype(arg.dtype)
    return feed


def _relative_error(got, want):
    want = np.asarray(want, np.float64)
    return float(np.max(np.abs(np.asarray(got, np.float64) - want)) / max(np.max(np.abs(want)),
                                                                          1e-30))


@pytest.mark.parametrize("name", ["demo"] + LIGHT_CNNS)
def test_models_agree_with_the_cpu_provider(name, rng):
    path = DEMO if name == "demo" else os.path.join(LIGHT, name + ".onnx")
    if not os.path.exists(path):
        pytest.skip(f"{path} is not in this onnx package")
    cpu = xrt.InferenceSession(path)
    gpu = xrt.InferenceSession(path, device=DEVICE)
    feed = _feed(cpu, rng)
    for got, want, arg in zip(gpu.run(None, feed), cpu.run(None, feed), gpu.get_outputs()):
        assert got.shape == want.shape and got.dtype == want.dtype, arg.name
        assert _relative_error(got, want) <= 1e-3, arg.name


def test_session_reports_backend_device_and_providers(rng):
    model, _, _ = _linear_model(64, rng)
    session = xrt.InferenceSession(model, device=DEVICE)
    assert session.backend == "onnxruntime"
    assert session.device.name == DEVICE
    assert session.get_providers() == [CUDA_EP, "CPUExecutionProvider"]


def test_device_inputs_and_outputs_without_copies(rng):
    model, w, b = _linear_model(256, rng)
    session = xrt.InferenceSession(model, device=DEVICE)
    x = rng.standard_normal((8, 256)).astype(np.float32)
    x_dev = xrt.asarray(x, device=DEVICE)
    session.run_tensors(None, {"x": x_dev})  # first run: ORT's one-time setup
    with xrt.Profiler() as prof:
        (y,) = session.run_tensors(None, {"x": x_dev})
    copies = [e for e in prof.events() if e.get("cat") == "copy"]
    assert copies == [], copies
    assert y.device.name == DEVICE
    np.testing.assert_allclose(y.numpy(), _reference(x, w, b), **TF32)


def test_runs_are_ordered_on_the_default_stream_without_waiting(rng):
    # An op produces the input, the session consumes it, an op consumes the
    # output: nothing synchronises in between.
    model, w, b = _linear_model(2048, rng)
    session = xrt.InferenceSession(model, device=DEVICE)
    half = rng.standard_normal((4096, 2048)).astype(np.float32)
    a, c = xrt.asarray(half, device=DEVICE), xrt.asarray(-0.5 * half, device=DEVICE)
    for _ in range(3):
        x = xrt.ops.add(a, c)  # 0.5 * half, queued on the default stream
        (y,) = session.run_tensors(None, {"x": x})
        doubled = xrt.ops.add(y, y)
        np.testing.assert_allclose(doubled.numpy() / 2, _reference(0.5 * half, w, b),
                                   **TF32)


def test_numpy_and_host_tensor_inputs_are_copied_once(rng):
    model, w, b = _linear_model(128, rng)
    session = xrt.InferenceSession(model, device=DEVICE)
    x = rng.standard_normal((5, 128)).astype(np.float32)
    (y,) = session.run(None, {"x": x})
    assert isinstance(y, np.ndarray)
    np.testing.assert_allclose(y, _reference(x, w, b), **TF32)
    (t,) = session.run_tensors(None, {"x": xrt.asarray(x)})
    assert t.device.name == DEVICE
    np.testing.assert_allclose(t.numpy(), _reference(x, w, b), **TF32)


def test_torch_and_cupy_tensors_through_dlpack(rng):
    torch = pytest.importorskip("torch")
    model, w, b = _linear_model(128, rng)
    session = xrt.InferenceSession(model, device=DEVICE)
    x = rng.standard_normal((7, 128)).astype(np.float32)
    (y,) = session.run_tensors(None, {"x": torch.from_numpy(x).cuda()})
    y_torch = torch.from_dlpack(y)
    assert y_torch.is_cuda
    np.testing.assert_allclose(y_torch.cpu().numpy(), _reference(x, w, b), **TF32)
    try:
        import cupy
    except ImportError:
        return
    (y,) = session.run_tensors(None, {"x": cupy.asarray(x)})
    np.testing.assert_allclose(cupy.asnumpy(cupy.from_dlpack(y)), _reference(x, w, b), **TF32)


def test_a_tensor_on_another_gpu_is_refused(rng):
    try:
        other = xrt.Device("cuda:1")
    except xrt.Error:
        pytest.skip("one GPU")
    model, _, _ = _linear_model(16, rng)
    session = xrt.InferenceSession(model, device=DEVICE)
    x = xrt.asarray(np.ones((2, 16), np.float32), device=other)
    with pytest.raises(xrt.InvalidArgument, match="cuda:1.*cuda:0"):
        session.run_tensors(None, {"x": x})


def test_allocations_come_from_the_pool_and_are_given_back(rng):
    model, _, _ = _linear_model(1024, rng)
    x = xrt.asarray(rng.standard_normal((4096, 1024)).astype(np.float32), device=DEVICE)
    xrt.synchronize(DEVICE)
    gc.collect()
    xrt.empty_cache(DEVICE)
    before = xrt.memory_stats(DEVICE)
    session = xrt.InferenceSession(model, device=DEVICE)
    (y,) = session.run_tensors(None, {"x": x})
    during = xrt.memory_stats(DEVICE)
    # The weights (4 MiB) and the 16 MiB output at least.
    grown = during["allocated_bytes"] - before["allocated_bytes"]
    assert grown >= 16 << 20, (before, during)
    del y
    session.close()
    del session
    gc.collect()
    xrt.synchronize(DEVICE)
    xrt.empty_cache(DEVICE)
    after = xrt.memory_stats(DEVICE)
    assert during["allocated_bytes"] - after["allocated_bytes"] >= 16 << 20, (during, after)
    assert after["reserved_bytes"] < during["reserved_bytes"], (during, after)


def test_many_threads_share_one_session(rng):
    model, w, b = _linear_model(512, rng)
    session = xrt.InferenceSession(model, device=DEVICE)
    inputs = [rng.standard_normal((64, 512)).astype(np.float32) for _ in range(4)]
    errors = []

    def work(x):
        try:
            x_dev = xrt.asarray(x, device=DEVICE)
            for _ in range(20):
                (y,) = session.run_tensors(None, {"x": x_dev})
                np.testing.assert_allclose(y.numpy(), _reference(x, w, b), **TF32)
        except Exception as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(x,)) for x in inputs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
