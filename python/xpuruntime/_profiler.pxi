# The process-wide profiler: spans of ops, copies and sessions from every thread.

class Profiler:
    """Records runtime spans while active; use as a context manager.

    The profiler is process-wide: starting one clears what an earlier run
    recorded, and only one may record at a time.
    """

    def __init__(self):
        self._recording = False

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()
        return False

    def start(self):
        check(xrt_profiler_start())
        self._recording = True

    def stop(self):
        if self._recording:
            self._recording = False
            check(xrt_profiler_stop())

    def export_chrome_trace(self, path):
        """Writes the spans as Chrome-trace JSON (chrome://tracing, Perfetto)."""
        cdef bytes c_path = _c_path(path, "trace path")
        cdef const char* p = c_path
        with nogil:
            check(xrt_profiler_export(p))

    def summary(self):
        """A text table: per span name, count, total, mean and max time."""
        cdef size_t length = 0
        cdef size_t capacity
        cdef bytearray buffer
        check(xrt_profiler_summary(NULL, 0, &length))
        capacity = length + 1
        buffer = bytearray(capacity)
        # Spans recorded since the sizing call are cut off, never overrun.
        check(xrt_profiler_summary(buffer, capacity, &length))
        return buffer[:min(length, capacity - 1)].decode("utf-8", "replace")

    def events(self):
        """The recorded spans as Chrome-trace event dicts (name, ts, dur, args, ...)."""
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "trace.json")
            self.export_chrome_trace(path)
            with open(path, encoding="utf-8") as f:
                trace = json.load(f)
        return trace["traceEvents"] if isinstance(trace, dict) else trace
