"""Helpers of the GPU tests: data on cuda:0, poisoned memory, busy streams, checks."""

import numpy as np
import pytest
import reference as ref

import xpuruntime as xrt

torch = pytest.importorskip("torch")

DEVICE = "cuda:0"
GPU_FLOATS = ["float32", "float16", "bfloat16"]  # every CUDA kernel's dtypes
TORCH_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16,
                "float32": torch.float32, "float64": torch.float64}
# torch.cuda._sleep spins this many clock cycles: ~0.1 s at H200 clocks, far
# longer than the few host calls a test makes while the spin holds a stream.
SPIN_CYCLES = 200_000_000


def random(rng, shape, dtype):
    """Normal data rounded to dtype: an xrt tensor on cuda:0 and the float64 values."""
    data, data64 = ref.random(rng, shape, dtype)
    return xrt.asarray(data, device=DEVICE), data64


def torch_tensor(data64, dtype):
    """float64 values (already representable in dtype) as a torch CUDA tensor."""
    return torch.from_numpy(np.ascontiguousarray(data64)).to(DEVICE, TORCH_DTYPES[dtype])


def bf16_leaf(*shape):
    """A random bf16 tensor on cuda:0 that requires grad."""
    return torch.randn(*shape, device=DEVICE, dtype=torch.bfloat16, requires_grad=True)


def relative_error(got, want):
    """||got - want|| / max(||want||, 1), in float32."""
    got, want = got.float(), want.float()
    return ((got - want).norm() / want.norm().clamp_min(1.0)).item()


def float64(tensor):
    """A torch tensor's values as a float64 numpy array."""
    return tensor.detach().to("cpu", torch.float64).numpy()


def address(tensor):
    """Device address of an xrt CUDA tensor's first element."""
    return tensor.__cuda_array_interface__["data"][0]


def poison(tensor):
    """Sets every byte of a contiguous xrt CUDA tensor to 0xFF, a NaN in every float dtype."""
    torch.from_dlpack(tensor).reshape(-1).view(torch.uint8).fill_(0xFF)


def poison_pool(*outputs):
    """Leaves NaN in the blocks the next allocations of these (shape, dtype)
    outputs on the default stream get: allocating and then releasing them in
    reverse order restores the allocator's state, so an op that allocates the
    same sizes in the same order is handed the same, now poisoned, blocks."""
    held = [xrt.empty(shape, dtype, DEVICE) for shape, dtype in outputs]
    for tensor in held:
        poison(tensor)
    for tensor in reversed(held):
        tensor.release()


def spin(torch_stream):
    """Keeps a stream busy for ~0.1 s, so work queued after it stays pending."""
    with torch.cuda.stream(torch_stream):
        torch.cuda._sleep(SPIN_CYCLES)


def values(got, dtype, shape):
    """A result's values as float64 after checking where it is, its dtype,
    its shape, and that every element was written (no poison left)."""
    assert got.device == DEVICE
    assert got.dtype == np.dtype(dtype)
    assert got.shape == tuple(shape)
    array = got.numpy().astype(np.float64)
    assert np.isfinite(array).all(), "the result has unwritten (NaN) elements"
    return array


def check(got, expected, dtype):
    """Elementwise against a float64 reference, with the dtype's tolerance."""
    expected = np.asarray(expected)
    np.testing.assert_allclose(values(got, dtype, expected.shape), expected,
                               **ref.TOLERANCE[np.dtype(dtype).name])


def check_norm(got, expected, dtype, tolerance):
    """‖got - expected‖ against tolerance × ‖expected‖ (absolute below 1): for
    sums over many terms, whose single elements may nearly cancel."""
    expected = np.asarray(expected)
    array = values(got, dtype, expected.shape)
    error = np.linalg.norm(array - expected) / max(np.linalg.norm(expected), 1.0)
    assert error < tolerance, f"relative error {error:.2e} >= {tolerance:.0e}"
