# Streams and events. On the CPU work is complete when a call returns; these
# exist so code can be written once for every device. On a GPU, work queued
# on a stream runs in order, asynchronously to the caller.

cdef class Stream:
    """A queue of work on one device."""

    cdef xrt_stream_t* handle
    cdef readonly Device device

    def __init__(self, device="cpu"):
        # The handle is fixed for the object's life, so a call using it
        # (without the GIL, on another thread) never sees it freed.
        if self.handle != NULL:
            raise InvalidArgument("Stream is already initialised")
        cdef xrt_device_t* dev = _device_handle(device)
        cdef xrt_stream_t* created = NULL
        with nogil:
            check(xrt_stream_create(dev, &created))
        self.handle = created
        self.device = _device_from_handle(dev)

    def __dealloc__(self):
        xrt_stream_release(self.handle)

    @staticmethod
    def wrap(device, native_handle):
        """A Stream for a stream created elsewhere, e.g.
        ``Stream.wrap("cuda:0", torch.cuda.current_stream().cuda_stream)``.
        The caller keeps it alive: it must outlive the work and the tensors
        queued on it."""
        cdef xrt_device_t* dev = _device_handle(device)
        cdef xrt_stream_t* wrapped = NULL
        # A handle is an address: it needs all 64 bits (a C int would not do).
        handle = operator_index(native_handle)
        cdef uintptr_t max_address = UINTPTR_MAX
        if not 0 <= handle <= max_address:
            raise InvalidArgument(f"Stream.wrap: native_handle must be an address from 0 to "
                                  f"{max_address:#x}, got {native_handle!r}")
        cdef void* native = <void*><uintptr_t>handle
        with nogil:
            check(xrt_stream_wrap(dev, native, &wrapped))
        cdef Stream stream = Stream.__new__(Stream)
        stream.handle = wrapped
        stream.device = _device_from_handle(dev)
        return stream

    @property
    def native_handle(self):
        """The backend's handle as an int (a cudaStream_t; 0 for the default stream)."""
        cdef void* native = NULL
        check(xrt_stream_native(self.handle, &native))
        return <uintptr_t>native

    def wait_event(self, Event event not None):
        """Work queued on this stream from now on waits for ``event``'s point."""
        with nogil:
            check(xrt_stream_wait_event(self.handle, event.handle))

    def synchronize(self):
        """Waits until all work queued on the stream has finished."""
        with nogil:
            check(xrt_stream_synchronize(self.handle))

    def __repr__(self):
        return f"Stream(device={self.device.name!r})"


cdef xrt_stream_t* _stream_handle(object stream) except? NULL:
    """NULL (the device's default stream) for None."""
    if stream is None:
        return NULL
    if isinstance(stream, Stream):
        return (<Stream>stream).handle
    raise TypeError(f"stream must be an xpuruntime.Stream or None, not {type(stream).__name__}")


cdef class Event:
    """A point in a stream's work; two recorded events give the time between them."""

    cdef xrt_event_t* handle
    cdef readonly Device device

    def __init__(self, device="cpu"):
        # The handle is fixed for the object's life, so a call using it
        # (without the GIL, on another thread) never sees it freed.
        if self.handle != NULL:
            raise InvalidArgument("Event is already initialised")
        cdef xrt_device_t* dev = _device_handle(device)
        cdef xrt_event_t* created = NULL
        with nogil:
            check(xrt_event_create(dev, &created))
        self.handle = created
        self.device = _device_from_handle(dev)

    def __dealloc__(self):
        xrt_event_release(self.handle)

    def record(self, stream=None):
        """Marks the current end of ``stream`` (None: the device's default stream)."""
        cdef xrt_stream_t* s = _stream_handle(stream)
        with nogil:
            check(xrt_event_record(self.handle, s))

    def synchronize(self):
        """Waits until the work before the recorded point has finished."""
        with nogil:
            check(xrt_event_synchronize(self.handle))

    def query(self):
        """True when the work before the recorded point has finished."""
        cdef int32_t done = 0
        with nogil:
            check(xrt_event_query(self.handle, &done))
        return bool(done)

    def elapsed_time(self, Event end not None):
        """Milliseconds from this event to ``end``; both must have been recorded."""
        cdef float ms = 0
        with nogil:
            check(xrt_event_elapsed_time(self.handle, end.handle, &ms))
        return ms

    def __repr__(self):
        return f"Event(device={self.device.name!r})"


def synchronize(device="cpu"):
    """Waits until the work queued on ``device``'s default stream has finished."""
    cdef xrt_device_t* dev = _device_handle(device)
    with nogil:
        check(xrt_device_synchronize(dev))


cdef int _order_after_default_stream(xrt_device_t* device, uintptr_t consumer) except -1:
    """Makes the foreign stream ``consumer`` wait for the work queued so far on
    the device's default stream, without blocking the host."""
    cdef xrt_event_t* event = NULL
    cdef xrt_stream_t* wrapped = NULL
    cdef xrt_status_t status
    with nogil:
        check(xrt_event_create(device, &event))
        status = xrt_event_record(event, NULL)
        if status == XRT_OK:
            status = xrt_stream_wrap(device, <void*>consumer, &wrapped)
        if status == XRT_OK:
            status = xrt_stream_wait_event(wrapped, event)
        xrt_stream_release(wrapped)
        xrt_event_release(event)
        check(status)
    return 0
