"""The CUDA caching allocator: counters, stream-ordered reuse, out of memory, pinned memory."""

import gc

import numpy as np
import pytest
from cuda_util import DEVICE, address, spin, torch

import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

MiB = 1 << 20


@pytest.fixture(autouse=True)
def settled():
    """Tensors of earlier tests are gone and their work is done."""
    gc.collect()
    xrt.synchronize(DEVICE)


def test_stats_count_allocations_and_frees():
    before = xrt.memory_stats(DEVICE)
    tensor = xrt.empty(1000, "float32", DEVICE)
    held = xrt.memory_stats(DEVICE)
    assert held["num_allocs"] == before["num_allocs"] + 1
    assert held["allocated_bytes"] >= before["allocated_bytes"] + 4000
    assert held["peak_allocated_bytes"] >= held["allocated_bytes"]
    assert held["reserved_bytes"] >= held["allocated_bytes"]
    tensor.release()
    after = xrt.memory_stats(DEVICE)
    assert after["num_frees"] == before["num_frees"] + 1
    assert after["allocated_bytes"] == before["allocated_bytes"]


def test_reset_peak_restarts_from_the_current_value():
    xrt.empty(4 * MiB, "uint8", DEVICE).release()
    before = xrt.memory_stats(DEVICE)
    assert before["peak_allocated_bytes"] > before["allocated_bytes"]
    xrt.reset_peak_memory_stats(DEVICE)
    stats = xrt.memory_stats(DEVICE)
    assert stats["peak_allocated_bytes"] == stats["allocated_bytes"]
    assert stats["peak_reserved_bytes"] == stats["reserved_bytes"]


def test_a_freed_block_serves_the_next_request_of_its_size():
    xrt.empty(64 * 1024, "uint8", DEVICE).release()
    before = xrt.memory_stats(DEVICE)
    tensor = xrt.empty(64 * 1024, "uint8", DEVICE)
    after = xrt.memory_stats(DEVICE)
    assert after["num_cache_hits"] == before["num_cache_hits"] + 1
    assert after["num_device_allocs"] == before["num_device_allocs"]
    assert after["reserved_bytes"] == before["reserved_bytes"]
    tensor.release()


def test_empty_cache_returns_free_segments():
    # Larger than anything else the suite allocates, so it gets a segment of its own.
    size = 256 * MiB
    before = xrt.memory_stats(DEVICE)
    tensor = xrt.empty(size, "uint8", DEVICE)
    held = xrt.memory_stats(DEVICE)
    assert held["num_device_allocs"] == before["num_device_allocs"] + 1
    assert held["reserved_bytes"] >= before["reserved_bytes"] + size
    tensor.release()
    assert xrt.memory_stats(DEVICE)["reserved_bytes"] == held["reserved_bytes"]  # still cached
    xrt.empty_cache(DEVICE)
    assert xrt.memory_stats(DEVICE)["reserved_bytes"] <= held["reserved_bytes"] - size


def test_out_of_memory_is_reported_and_survived():
    too_big = 2 * xrt.Device(DEVICE).total_memory
    with pytest.raises(xrt.OutOfMemory) as caught:
        xrt.empty(too_big, "uint8", DEVICE)
    assert "bytes" in str(caught.value)
    assert isinstance(caught.value, MemoryError)
    x = xrt.asarray(np.arange(1000, dtype=np.float32), device=DEVICE)
    np.testing.assert_array_equal(ops.add(x, x).numpy(), 2 * np.arange(1000, dtype=np.float32))


def operand(rng):
    # 256 KiB: served from the small-block pool, where no size rule gets in the way.
    return xrt.asarray(rng.standard_normal((256, 256)).astype(np.float32), device=DEVICE)


def test_a_block_freed_on_a_busy_stream_waits_for_that_stream(rng):
    x = operand(rng)
    a, b = xrt.Stream(DEVICE), xrt.Stream(DEVICE)
    spin(torch.cuda.ExternalStream(a.native_handle))
    first = ops.add(x, x, stream=a)  # queued behind the spin: still pending
    freed = address(first)
    first.release()
    on_b = ops.add(x, x, stream=b)
    assert address(on_b) != freed, "another stream got memory its stream still uses"
    on_a = ops.add(x, x, stream=a)
    assert address(on_a) == freed, "stream order makes the block safe to reuse at once"
    a.synchronize()
    b.synchronize()
    expected = 2 * x.numpy()
    np.testing.assert_array_equal(on_a.numpy(), expected)
    np.testing.assert_array_equal(on_b.numpy(), expected)


def test_a_block_freed_on_a_finished_stream_serves_other_streams(rng):
    x = operand(rng)
    a, b = xrt.Stream(DEVICE), xrt.Stream(DEVICE)
    first = ops.add(x, x, stream=a)
    a.synchronize()
    first.release()
    before = xrt.memory_stats(DEVICE)
    on_b = ops.add(x, x, stream=b)
    after = xrt.memory_stats(DEVICE)
    assert after["num_cache_hits"] == before["num_cache_hits"] + 1
    assert after["num_device_allocs"] == before["num_device_allocs"]
    b.synchronize()
    np.testing.assert_array_equal(on_b.numpy(), 2 * x.numpy())


def test_pinned_round_trip(rng):
    data = rng.standard_normal((3, 1000)).astype(np.float32)
    pinned = xrt.empty((3, 1000), "float32", pinned=True)
    assert pinned.device == "cpu"
    pinned.numpy()[...] = data
    stream = xrt.Stream(DEVICE)
    on_device = pinned.to(DEVICE, stream=stream)  # asynchronous from pinned memory
    stream.synchronize()
    np.testing.assert_array_equal(on_device.numpy(), data)


def test_pinned_memory_is_host_memory():
    with pytest.raises(xrt.InvalidArgument, match="cpu"):
        xrt.empty(4, "float32", DEVICE, pinned=True)
