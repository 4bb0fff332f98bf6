from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Any, Literal, NamedTuple, SupportsIndex, overload

import numpy as np

_DeviceLike = str | Device
_ShapeLike = SupportsIndex | Sequence[SupportsIndex]

def version() -> str: ...
def api_version() -> int: ...

class Device:
    name: str
    kind: str
    index: int
    description: str
    total_memory: int
    compute_units: int
    compute_capability: int
    host_memory: bool
    def __init__(self, name: _DeviceLike) -> None: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def devices() -> list[Device]: ...

class BackendInfo(NamedTuple):
    name: str
    available: bool
    version: str
    reason: str
    path: str
    builtin: bool
    runs_models: bool
    details: str

def backends() -> list[BackendInfo]: ...

class Stream:
    device: Device
    def __init__(self, device: _DeviceLike = "cpu") -> None: ...
    @staticmethod
    def wrap(device: _DeviceLike, native_handle: int) -> Stream: ...
    @property
    def native_handle(self) -> int: ...
    def wait_event(self, event: Event) -> None: ...
    def synchronize(self) -> None: ...

class Event:
    device: Device
    def __init__(self, device: _DeviceLike = "cpu") -> None: ...
    def record(self, stream: Stream | None = None) -> None: ...
    def synchronize(self) -> None: ...
    def query(self) -> bool: ...
    def elapsed_time(self, end: Event) -> float: ...

class Tensor:
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def strides(self) -> tuple[int, ...]:
        """Strides in elements, not bytes."""
    @property
    def dtype(self) -> np.dtype[Any]: ...
    @property
    def device(self) -> Device: ...
    @property
    def ndim(self) -> int: ...
    @property
    def size(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    def __len__(self) -> int: ...
    def numpy(self) -> np.ndarray[Any, np.dtype[Any]]: ...
    def __array__(
        self, dtype: Any = None, copy: bool | None = None
    ) -> np.ndarray[Any, np.dtype[Any]]: ...
    def to(self, device: _DeviceLike, stream: Stream | None = None) -> Tensor: ...
    def release(self) -> None: ...
    def __dlpack__(
        self,
        *,
        stream: int | None = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> Any: ...
    def __dlpack_device__(self) -> tuple[int, int]: ...
    @property
    def __cuda_array_interface__(self) -> dict[str, Any]: ...

def asarray(obj: Any, device: _DeviceLike | None = None, dtype: Any = None) -> Tensor: ...
def from_dlpack(obj: Any) -> Tensor: ...
def empty(
    shape: _ShapeLike, dtype: Any = "float32", device: _DeviceLike = "cpu", *, pinned: bool = False
) -> Tensor: ...
def zeros(shape: _ShapeLike, dtype: Any = "float32", device: _DeviceLike = "cpu") -> Tensor: ...

def memory_stats(device: _DeviceLike = "cpu") -> dict[str, int]: ...
def empty_cache(device: _DeviceLike = "cpu") -> None: ...
def reset_peak_memory_stats(device: _DeviceLike = "cpu") -> None: ...
def synchronize(device: _DeviceLike = "cpu") -> None: ...

def matmul(a: Any, b: Any, *, stream: Stream | None = None, allow_tf32: bool = False) -> Tensor: ...
def add(a: Any, b: Any, *, stream: Stream | None = None) -> Tensor: ...
def gelu(x: Any, *, stream: Stream | None = None) -> Tensor: ...
def softmax(x: Any, axis: int = -1, *, stream: Stream | None = None) -> Tensor: ...
def layer_norm(
    x: Any, weight: Any = None, bias: Any = None, eps: float = 1e-5, *, stream: Stream | None = None
) -> Tensor: ...
def rms_norm(x: Any, weight: Any = None, eps: float = 1e-6, *, stream: Stream | None = None) -> Tensor: ...
def layer_norm_backward(
    grad: Any, x: Any, weight: Any = None, eps: float = 1e-5, *, stream: Stream | None = None
) -> tuple[Tensor, Tensor, Tensor]: ...
def rms_norm_backward(
    grad: Any, x: Any, weight: Any = None, eps: float = 1e-6, *, stream: Stream | None = None
) -> tuple[Tensor, Tensor]: ...
def attention(
    q: Any,
    k: Any,
    v: Any,
    causal: bool = False,
    scale: float | None = None,
    *,
    attn_mask: Any = None,
    key_lengths: Any = None,
    window_left: int | None = None,
    causal_align: Literal["top_left", "bottom_right"] = "top_left",
    impl: Literal["xrt", "xrt_sm90", "xrt_sm80", "cudnn"] | None = None,
    stream: Stream | None = None,
    return_lse: bool = False,
) -> Tensor | tuple[Tensor, Tensor]: ...
def attention_backward(
    grad: Any,
    q: Any,
    k: Any,
    v: Any,
    causal: bool = False,
    scale: float | None = None,
    *,
    output: Any = None,
    lse: Any = None,
    attn_mask: Any = None,
    key_lengths: Any = None,
    window_left: int | None = None,
    causal_align: Literal["top_left", "bottom_right"] = "top_left",
    impl: Literal["xrt", "xrt_sm90", "xrt_sm80", "cudnn"] | None = None,
    stream: Stream | None = None,
) -> tuple[Tensor, Tensor, Tensor]: ...
def attention_varlen(
    q: Any,
    k: Any,
    v: Any,
    cu_seqlens_q: Any,
    cu_seqlens_k: Any,
    max_seqlen_q: int | None = None,
    max_seqlen_k: int | None = None,
    causal: bool = False,
    scale: float | None = None,
    *,
    window_left: int | None = None,
    causal_align: Literal["top_left", "bottom_right"] = "top_left",
    impl: Literal["xrt", "cudnn"] | None = None,
    stream: Stream | None = None,
    return_lse: bool = False,
) -> Tensor | tuple[Tensor, Tensor]: ...
def attention_varlen_backward(
    grad: Any,
    q: Any,
    k: Any,
    v: Any,
    cu_seqlens_q: Any,
    cu_seqlens_k: Any,
    max_seqlen_q: int | None = None,
    max_seqlen_k: int | None = None,
    causal: bool = False,
    scale: float | None = None,
    *,
    output: Any = None,
    lse: Any = None,
    window_left: int | None = None,
    causal_align: Literal["top_left", "bottom_right"] = "top_left",
    impl: Literal["xrt", "cudnn"] | None = None,
    stream: Stream | None = None,
) -> tuple[Tensor, Tensor, Tensor]: ...
def attention_decode(
    q: Any,
    k_cache: Any,
    v_cache: Any,
    cache_seqlens: Any,
    block_table: Any = None,
    scale: float | None = None,
    *,
    causal: bool = True,
    window_left: int | None = None,
    stream: Stream | None = None,
) -> Tensor: ...
def kv_cache_append(
    k_cache: Any,
    v_cache: Any,
    k: Any,
    v: Any,
    cache_seqlens: Any,
    block_table: Any = None,
    *,
    stream: Stream | None = None,
) -> Tensor: ...
@overload
def run(
    op: str,
    *inputs: Any,
    stream: Stream | None = None,
    num_outputs: Literal[1] = 1,
    **attrs: int | float | bool,
) -> Tensor: ...
@overload
def run(
    op: str, *inputs: Any, stream: Stream | None = None, num_outputs: int, **attrs: int | float | bool
) -> Tensor | tuple[Tensor, ...]: ...

class ExchangeOp:
    def __init__(
        self,
        op: str,
        inputs: tuple[str, ...],
        attrs: tuple[tuple[str, Literal["int", "float", "scale"]], ...] = (),
        num_outputs: int = 1,
        impl: str | None = None,
    ) -> None: ...
    def __call__(self, *args: Any) -> Any: ...

class Profiler:
    def __init__(self) -> None: ...
    def __enter__(self) -> Profiler: ...
    def __exit__(self, *exc_info: object) -> bool: ...
    def start(self) -> None: ...
    def stop(self) -> None: ...
    def export_chrome_trace(self, path: str | PathLike[str]) -> None: ...
    def summary(self) -> str: ...
    def events(self) -> list[dict[str, Any]]: ...

class NodeArg:
    name: str
    shape: list[int | str | None]
    type: str
    dtype: np.dtype[Any] | None

class InferenceSession:
    backend: str
    device: Device
    def __init__(
        self,
        model: str | PathLike[str] | bytes | bytearray | memoryview,
        backend: str = "auto",
        device: _DeviceLike = "cpu",
        **options: Any,
    ) -> None: ...
    def get_inputs(self) -> list[NodeArg]: ...
    def get_outputs(self) -> list[NodeArg]: ...
    def get_providers(self) -> list[str]: ...
    def end_profiling(self, path: str | PathLike[str]) -> None: ...
    def run(
        self,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        run_options: Any = None,
    ) -> list[Any]: ...
    def run_tensors(
        self,
        output_names: Sequence[str] | None,
        input_feed: Mapping[str, Any],
        run_options: Any = None,
    ) -> list[Tensor]: ...
    def close(self) -> None: ...
    def __enter__(self) -> InferenceSession: ...
    def __exit__(self, *exc_info: object) -> bool: ...
