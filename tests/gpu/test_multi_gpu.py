"""Two GPUs of one host: each device with its own properties and memory pool,
copies between them in both directions (contiguous and strided) ordered by
streams and events of both, ops refusing operands on two GPUs, kernels and
ONNX Runtime sessions on cuda:1, torch's cuda:1 tensors through DLPack.
Skipped with fewer than two GPUs."""

import numpy as np
import pytest
import reference as ref
from cuda_util import SPIN_CYCLES, address, torch

import xpuruntime as xrt
from xpuruntime import ops

GPUS = [d for d in xrt.devices() if d.kind == "cuda"]
pytestmark = pytest.mark.skipif(len(GPUS) < 2,
                                reason=f"needs two GPUs, this host has {len(GPUS)}")
PAIRS = [("cuda:0", "cuda:1"), ("cuda:1", "cuda:0")]


def _poison_pool(device, shape, dtype):
    """Leaves 0xFF bytes (NaN) in the block the next allocation of this size
    on `device` gets, so a copy that writes nothing is caught."""
    block = xrt.empty(shape, dtype, device)
    torch.from_dlpack(block).reshape(-1).view(torch.uint8).fill_(0xFF)
    torch.cuda.synchronize(xrt.Device(device).index)
    block.release()


def test_devices_enumerate_with_their_own_properties():
    for index in (0, 1):
        device = xrt.Device(f"cuda:{index}")
        props = torch.cuda.get_device_properties(index)
        assert (device.kind, device.index, device.name) == ("cuda", index, f"cuda:{index}")
        assert device.total_memory == props.total_memory
        assert device.compute_units == props.multi_processor_count
        assert device.compute_capability == props.major * 10 + props.minor
    assert xrt.Device("cuda:0") != xrt.Device("cuda:1")


def test_memory_is_pooled_per_device():
    before = {d: xrt.memory_stats(d) for d in ("cuda:0", "cuda:1")}
    held = xrt.empty((1 << 20,), "float32", "cuda:1")
    during = {d: xrt.memory_stats(d) for d in ("cuda:0", "cuda:1")}
    assert during["cuda:1"]["allocated_bytes"] >= before["cuda:1"]["allocated_bytes"] + (4 << 20)
    assert during["cuda:1"]["num_allocs"] == before["cuda:1"]["num_allocs"] + 1
    assert during["cuda:0"]["allocated_bytes"] == before["cuda:0"]["allocated_bytes"]
    assert during["cuda:0"]["num_allocs"] == before["cuda:0"]["num_allocs"]
    held.release()
    after = xrt.memory_stats("cuda:1")
    assert after["allocated_bytes"] == before["cuda:1"]["allocated_bytes"]
    xrt.empty_cache("cuda:1")
    assert xrt.memory_stats("cuda:0")["reserved_bytes"] == during["cuda:0"]["reserved_bytes"]


@pytest.mark.parametrize("source,target", PAIRS)
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "int64", "uint8"])
def test_contiguous_copies_between_gpus(source, target, dtype, rng):
    data, data64 = ref.random(rng, (3, 1000, 17), dtype)
    x = xrt.asarray(data, device=source)
    _poison_pool(target, x.shape, dtype)
    y = x.to(target)
    assert y.device == target and y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(y.numpy().astype(np.float64), data64)


@pytest.mark.parametrize("source,target", PAIRS)
def test_strided_copies_between_gpus(source, target, rng):
    base = torch.from_numpy(rng.standard_normal((64, 48)).astype(np.float32))
    view = base.to(source)[::2, 5:].t()  # a transposed, sliced view: non-contiguous
    x = xrt.from_dlpack(view)
    assert x.device == source and x.strides != (32, 1)
    _poison_pool(target, x.shape, "float32")
    y = x.to(target)
    assert y.device == target
    np.testing.assert_array_equal(y.numpy(), base[::2, 5:].t().numpy())


@pytest.mark.parametrize("source,target", PAIRS)
def test_a_copy_waits_for_the_event_of_the_source_gpu(source, target):
    """torch fills a tensor on a busy side stream of the source GPU; a stream
    of the target GPU that waits for an event recorded after the fill copies
    the filled values, not the earlier ones."""
    src_index, dst_index = xrt.Device(source).index, xrt.Device(target).index
    x = torch.zeros(1 << 20, device=source)
    torch.cuda.synchronize(src_index)
    producer = torch.cuda.Stream(device=src_index)
    with torch.cuda.stream(producer):
        torch.cuda._sleep(SPIN_CYCLES)
        x.fill_(3.0)
    filled = xrt.Event(source)
    filled.record(xrt.Stream.wrap(source, producer.cuda_stream))
    consumer = xrt.Stream(target)
    consumer.wait_event(filled)
    y = xrt.from_dlpack(x).to(target, stream=consumer)
    # And back: the source GPU's default stream waits for the target's copy.
    copied = xrt.Event(target)
    copied.record(consumer)
    back_stream = xrt.Stream(source)
    back_stream.wait_event(copied)
    z = y.to(source, stream=back_stream)
    back_stream.synchronize()
    np.testing.assert_array_equal(y.numpy(), 3.0)
    np.testing.assert_array_equal(z.numpy(), 3.0)
    torch.cuda.synchronize(dst_index)


def test_ops_refuse_operands_on_two_gpus():
    a = xrt.asarray(np.ones((4, 8), np.float32), device="cuda:0")
    b = xrt.asarray(np.ones((4, 8), np.float32), device="cuda:1")
    with pytest.raises(xrt.InvalidArgument, match="different devices"):
        ops.add(a, b)
    w = xrt.asarray(np.ones(8, np.float32), device="cuda:0")
    with pytest.raises(xrt.InvalidArgument, match="different devices: x on cuda:1, weight on cuda:0"):
        ops.layer_norm(b, w, None, eps=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
def test_kernels_run_on_the_second_gpu(dtype, rng):
    x, x64 = ref.random(rng, (64, 256), dtype)
    w, w64 = ref.random(rng, (256,), dtype)
    xd, wd = xrt.asarray(x, device="cuda:1"), xrt.asarray(w, device="cuda:1")
    summed = ops.add(xd, xd)
    normed = ops.layer_norm(xd, wd, None, eps=1e-5)
    product = ops.matmul(xd, xrt.asarray(x.T.copy(), device="cuda:1"))
    for got in (summed, normed, product):
        assert got.device == "cuda:1"
    tol = ref.TOLERANCE[np.dtype(dtype).name]
    np.testing.assert_allclose(summed.numpy().astype(np.float64), 2 * x64, **tol)
    np.testing.assert_allclose(normed.numpy().astype(np.float64),
                               ref.layer_norm(x64, w64, None, 1e-5), **tol)
    # Products of 256 terms, rounded once to the output dtype.
    want = x64 @ x64.T
    scale = {"float32": 1e-5, "float16": 2e-3, "bfloat16": 1e-2}[dtype] * np.abs(want).max()
    np.testing.assert_allclose(product.numpy().astype(np.float64), want, rtol=0, atol=scale)


def test_torch_tensors_on_the_second_gpu_cross_without_copies():
    t = torch.arange(12, dtype=torch.float32, device="cuda:1").reshape(3, 4)
    x = xrt.from_dlpack(t)
    assert x.device == "cuda:1" and address(x) == t.data_ptr()
    back = torch.from_dlpack(x)
    assert back.device == torch.device("cuda:1") and back.data_ptr() == t.data_ptr()
    mine = xrt.asarray(np.ones((2, 2), np.float32), device="cuda:1")
    shared = torch.from_dlpack(mine)
    assert shared.device == torch.device("cuda:1") and shared.data_ptr() == address(mine)


def _ort_has_cuda():
    for backend in xrt.backends():
        if backend.name == "onnxruntime" and backend.available:
            return "CUDAExecutionProvider" in backend.details
    return False


@pytest.mark.skipif(not _ort_has_cuda(), reason="onnxruntime has no CUDAExecutionProvider "
                                                "(pip install onnxruntime-gpu)")
def test_a_session_on_the_second_gpu_keeps_outputs_there(rng):
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    w = rng.standard_normal((64, 32)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 32])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    session = xrt.InferenceSession(model.SerializeToString(), device="cuda:1")
    x = rng.standard_normal((8, 64)).astype(np.float32)
    before0 = xrt.memory_stats("cuda:0")["num_allocs"]
    (y,) = session.run_tensors(None, {"x": xrt.asarray(x, device="cuda:1")})
    assert y.device == "cuda:1"
    # TF32 by default in the CUDA provider.
    np.testing.assert_allclose(y.numpy(), x.astype(np.float64) @ w, rtol=1e-2, atol=1e-2)
    assert xrt.memory_stats("cuda:0")["num_allocs"] == before0
    with pytest.raises(xrt.InvalidArgument, match="cuda:0.*cuda:1"):
        session.run_tensors(None, {"x": xrt.asarray(x, device="cuda:0")})
