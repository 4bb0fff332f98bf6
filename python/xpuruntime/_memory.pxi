# The caching allocator's counters and controls, per device.

def memory_stats(device="cpu"):
    """Allocator counters of ``device`` as a dict (bytes and counts)."""
    cdef xrt_device_t* dev = _device_handle(device)
    cdef xrt_memory_stats_t stats
    memset(&stats, 0, sizeof(stats))
    stats.struct_size = sizeof(stats)
    with nogil:
        check(xrt_memory_stats(dev, &stats))
    return {
        "allocated_bytes": stats.allocated_bytes,
        "reserved_bytes": stats.reserved_bytes,
        "peak_allocated_bytes": stats.peak_allocated_bytes,
        "peak_reserved_bytes": stats.peak_reserved_bytes,
        "num_allocs": stats.num_allocs,
        "num_frees": stats.num_frees,
        "num_cache_hits": stats.num_cache_hits,
        "num_device_allocs": stats.num_device_allocs,
    }


def empty_cache(device="cpu"):
    """Returns cached, unused blocks of ``device`` to the system."""
    cdef xrt_device_t* dev = _device_handle(device)
    with nogil:
        check(xrt_memory_empty_cache(dev))


def reset_peak_memory_stats(device="cpu"):
    """Restarts the peak counters of ``device`` from the current values."""
    cdef xrt_device_t* dev = _device_handle(device)
    with nogil:
        check(xrt_memory_reset_peak(dev))
