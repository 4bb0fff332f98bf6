"""Zero-copy passage of tensors between torch and xpuruntime, and the stream
xpuruntime's kernels run on: torch's current stream, so no device-wide
synchronisation is ever needed."""

import torch
from torch.utils import dlpack as _dlpack

import xpuruntime as xrt


def to_xrt(tensor):
    """The same memory as an xpuruntime tensor (None stays None)."""
    if tensor is None:
        return None
    # A DLPack capsule carries no stream promise: the kernel runs on the
    # stream that produced the data (see stream_for).
    return xrt.from_dlpack(_dlpack.to_dlpack(tensor.detach()))


def to_torch(tensor):
    """An xpuruntime result as a torch tensor sharing its memory."""
    return _dlpack.from_dlpack(tensor.__dlpack__(stream=-1))


# xrt.Stream wrappers of torch's streams by (device index, cudaStream_t): a
# wrapper is only the handle, so one per stream serves every call, and a
# reused address gets a wrapper that is still right for it.
_wrapped_streams: dict = {}


def stream_for(tensor):
    """torch's current stream on the tensor's GPU, or None on the CPU."""
    if tensor.device.type != "cuda":
        return None
    index = tensor.device.index
    native = torch.cuda.current_stream(index).cuda_stream
    stream = _wrapped_streams.get((index, native))
    if stream is None:
        if len(_wrapped_streams) >= 256:  # programs that make streams without end
            _wrapped_streams.clear()
        stream = _wrapped_streams[index, native] = xrt.Stream.wrap(f"cuda:{index}", native)
    return stream
