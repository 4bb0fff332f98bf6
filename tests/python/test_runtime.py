"""Memory statistics, streams and events, the profiler."""

import json

import numpy as np
import pytest

import xpuruntime as xrt
from xpuruntime import ops

STAT_FIELDS = {"allocated_bytes", "reserved_bytes", "peak_allocated_bytes", "peak_reserved_bytes",
               "num_allocs", "num_frees", "num_cache_hits", "num_device_allocs"}


def test_memory_stats_go_up_and_back_down():
    xrt.empty_cache()
    before = xrt.memory_stats()
    assert set(before) == STAT_FIELDS
    t = xrt.empty((1 << 20,), "float32")
    during = xrt.memory_stats("cpu")
    assert during["allocated_bytes"] >= before["allocated_bytes"] + (4 << 20)
    assert during["reserved_bytes"] >= during["allocated_bytes"]
    assert during["peak_allocated_bytes"] >= during["allocated_bytes"]
    assert during["num_allocs"] == before["num_allocs"] + 1
    del t
    after = xrt.memory_stats()
    assert after["allocated_bytes"] == before["allocated_bytes"]
    assert after["num_frees"] == before["num_frees"] + 1
    assert after["reserved_bytes"] >= 4 << 20  # kept in the cache
    xrt.empty_cache(xrt.Device("cpu"))
    assert xrt.memory_stats()["reserved_bytes"] < after["reserved_bytes"]


def test_cached_blocks_are_reused():
    xrt.empty((1000,))
    before = xrt.memory_stats()
    xrt.empty((1000,))
    assert xrt.memory_stats()["num_cache_hits"] == before["num_cache_hits"] + 1


def test_reset_peak():
    big = xrt.empty((1 << 18,))
    del big
    xrt.reset_peak_memory_stats()
    stats = xrt.memory_stats()
    assert stats["peak_allocated_bytes"] == stats["allocated_bytes"]


def test_stream_and_events():
    stream = xrt.Stream()
    assert stream.device == xrt.Device("cpu")
    start, end = xrt.Event(), xrt.Event("cpu")
    start.record(stream)
    ops.matmul(np.ones((64, 64), np.float32), np.ones((64, 64), np.float32))
    end.record()
    end.synchronize()
    stream.synchronize()
    assert start.query() and end.query()
    elapsed = start.elapsed_time(end)
    assert isinstance(elapsed, float) and elapsed >= 0.0
    assert "cpu" in repr(stream) and "cpu" in repr(end)


def test_stream_argument_type():
    with pytest.raises(TypeError, match="Stream"):
        xrt.Event().record("default")


def test_profiler_records_op_spans_with_the_kernel(tmp_path):
    a = xrt.asarray(np.ones((8, 8), np.float32))
    with xrt.Profiler() as profiler:
        ops.matmul(a, a)
        ops.softmax(a)
    spans = [e for e in profiler.events() if e.get("ph") == "X"]
    by_name = {e["name"]: e for e in spans}
    assert {"matmul", "softmax"} <= set(by_name)
    assert by_name["matmul"]["args"]["impl"].startswith("cpu.matmul")
    assert by_name["softmax"]["args"]["impl"] == "cpu.softmax"
    assert all(e["dur"] >= 0 for e in spans)

    path = tmp_path / "trace.json"
    profiler.export_chrome_trace(path)
    trace = json.loads(path.read_text())
    assert any(e.get("name") == "matmul" for e in trace["traceEvents"])

    summary = profiler.summary()
    assert "matmul" in summary and "softmax" in summary


def test_profiler_stops_recording():
    with xrt.Profiler() as profiler:
        ops.gelu(np.ones(4, np.float32))
    ops.gelu(np.ones(4, np.float32))
    assert sum(e.get("name") == "gelu" for e in profiler.events()) == 1


def test_only_one_profiler_records():
    with xrt.Profiler():
        with pytest.raises(xrt.Error):
            xrt.Profiler().start()
