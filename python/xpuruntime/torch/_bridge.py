"""How torch tensors reach xpuruntime's ops. With DLPack's C exchange API
(torch >= 2.10: ``torch.Tensor.__dlpack_c_exchange_api__``) an op is an
:class:`xpuruntime._core.ExchangeOp`: inputs, outputs and torch's current
stream cross over in C, with no Python object per tensor. Older torch
takes :class:`DLPackOp`, the same call through ``torch.utils.dlpack``.
Either way on CUDA the kernels run on torch's current stream, so no
device-wide synchronisation is ever needed."""

import torch
from torch.utils import dlpack as _dlpack

import xpuruntime as xrt
from xpuruntime._core import ExchangeOp, _attribute_value

HAS_EXCHANGE_API = hasattr(torch.Tensor, "__dlpack_c_exchange_api__")


def op(name, inputs, attrs=(), num_outputs=1):
    """A callable running xpuruntime's op ``name`` on torch tensors:
    arguments are the ``inputs`` (tensors or None), then the ``attrs``
    ((name, kind) pairs, kind "int", "bool" (any value, by its truth),
    "float", or "scale": a float > 0 or None for the op's default);
    returns a tensor, or a tuple of ``num_outputs`` tensors."""
    if HAS_EXCHANGE_API:
        return ExchangeOp(name, tuple(inputs), tuple(attrs), num_outputs)
    return DLPackOp(name, tuple(inputs), tuple(attrs), num_outputs)


class DLPackOp:
    """The same call as ExchangeOp through Python-level DLPack, for torch
    without the C exchange API."""

    def __init__(self, name, inputs, attrs=(), num_outputs=1):
        self._name = name
        self._inputs = inputs
        self._num_inputs = len(inputs)
        self._attrs = attrs
        self._num_outputs = num_outputs

    def __call__(self, *args):
        n = self._num_inputs
        if len(args) != n + len(self._attrs):
            raise TypeError(f"{self._name}() takes {n} inputs and {len(self._attrs)} "
                            f"attributes, got {len(args)} arguments")
        tensors = args[:n]
        for input_name, t in zip(self._inputs, tensors):
            if t is not None and not isinstance(t, torch.Tensor):
                raise TypeError(f"{self._name}: {input_name} must be a torch.Tensor or None, "
                                f"got {type(t).__module__}.{type(t).__qualname__}")
        lead = next((t for t in tensors if t is not None), None)
        if lead is None:
            raise xrt.InvalidArgument(f"{self._name}: every input is None")
        attrs = {}
        for (name, kind), value in zip(self._attrs, args[n:]):
            attrs[name] = _attribute_value(self._name, name, kind, value)
        out = xrt.ops.run(self._name, *(to_xrt(t) for t in tensors), stream=stream_for(lead),
                          num_outputs=self._num_outputs, **attrs)
        if self._num_outputs == 1:
            return to_torch(out)
        return tuple(to_torch(t) for t in out)


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
