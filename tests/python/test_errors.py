"""Bad inputs raise the typed error, and the message names the bad value."""

import pathlib

import numpy as np
import pytest

import xpuruntime as xrt
from xpuruntime import ops


def f32(*shape):
    return np.ones(shape, np.float32)


BAD_CALLS = [
    ("negative dim", lambda: xrt.empty((2, -3)), xrt.InvalidArgument, "-3"),
    ("too many dims", lambda: xrt.zeros((1,) * 9), xrt.InvalidArgument, "9"),
    ("element count overflow", lambda: xrt.empty((2**40, 2**40)), xrt.InvalidArgument,
     "1099511627776"),
    ("extent beyond int64", lambda: xrt.empty((2**70,)), xrt.InvalidArgument,
     str(2**70)),
    ("unknown dtype", lambda: xrt.empty(2, dtype="float7"), xrt.InvalidArgument, "float7"),
    ("unsupported dtype", lambda: xrt.zeros(2, dtype="complex64"), xrt.Unsupported,
     "complex64"),
    ("unsupported array", lambda: xrt.asarray(np.ones(2, np.complex128)), xrt.Unsupported,
     "complex128"),
    ("unknown device", lambda: xrt.zeros(2, device="tpu:0"), xrt.NotFound, "tpu:0"),
    ("missing GPU", lambda: xrt.asarray([1.0], device="cuda:7"), xrt.NotFound, "cuda:7"),
    ("matmul inner dims", lambda: ops.matmul(f32(2, 3), f32(4, 5)), xrt.InvalidArgument,
     "(4, 5)"),
    ("layer_norm weight", lambda: ops.layer_norm(f32(2, 3), f32(4)), xrt.InvalidArgument,
     "(4,)"),
    ("mixed dtypes", lambda: ops.add(f32(3), np.ones(3, np.float64)), xrt.InvalidArgument,
     "float64"),
    ("add shapes", lambda: ops.add(f32(3), f32(4)), xrt.InvalidArgument, "(4,)"),
    ("unknown op", lambda: ops.run("no_such_op", f32(2)), xrt.NotFound, "no_such_op"),
    ("attention rank", lambda: ops.attention(f32(2, 3), f32(2, 3), f32(2, 3)),
     xrt.InvalidArgument, "(2, 3)"),
    # Attributes: an integer is never truncated from a float, and each
    # message names the op, the attribute and the value.
    ("softmax axis float", lambda: ops.softmax(f32(2, 3), axis=1.5), xrt.InvalidArgument,
     "softmax: axis must be an integer, got 1.5"),
    ("softmax axis beyond int32", lambda: ops.softmax(f32(2, 3), axis=2**40),
     xrt.InvalidArgument, f"softmax: axis {2**40} is out of range"),
    ("layer_norm eps text", lambda: ops.layer_norm(f32(2, 3), eps="1e-5"), xrt.InvalidArgument,
     "layer_norm: eps must be a number, got '1e-5'"),
    ("rms_norm_backward eps None", lambda: ops.rms_norm_backward(f32(2, 3), f32(2, 3), eps=None),
     xrt.InvalidArgument, "rms_norm_backward: eps must be a number, got None"),
    ("attention window float", lambda: ops.attention(f32(1, 1, 2, 4), f32(1, 1, 2, 4),
                                                     f32(1, 1, 2, 4), True, window_left=1.5),
     xrt.InvalidArgument, "attention: window_left must be an integer, got 1.5"),
    ("attention scale text", lambda: ops.attention(f32(1, 1, 2, 4), f32(1, 1, 2, 4),
                                                   f32(1, 1, 2, 4), scale="0.5"),
     xrt.InvalidArgument, "attention: scale must be a number > 0 or None, got '0.5'"),
    ("varlen max_seqlen float",
     lambda: ops.attention_varlen(f32(3, 1, 4), f32(3, 1, 4), f32(3, 1, 4), [0, 3], [0, 3],
                                  max_seqlen_q=3.0),
     xrt.InvalidArgument, "attention_varlen: max_seqlen_q must be an integer, got 3.0"),
]


@pytest.mark.parametrize("call, error, named", [c[1:] for c in BAD_CALLS],
                         ids=[c[0] for c in BAD_CALLS])
def test_bad_input(call, error, named):
    with pytest.raises(error) as info:
        call()
    assert named in str(info.value)
    assert isinstance(info.value, xrt.Error)


def test_errors_derive_from_the_builtins():
    assert issubclass(xrt.Error, RuntimeError)
    assert issubclass(xrt.InvalidArgument, ValueError)
    assert issubclass(xrt.OutOfMemory, MemoryError)
    assert issubclass(xrt.NotFound, LookupError)
    assert issubclass(xrt.Unsupported, NotImplementedError)
    assert issubclass(xrt.FileError, OSError)
    for cls in (xrt.BackendError, xrt.InternalError, xrt.FileError):
        assert issubclass(cls, xrt.Error)


def test_huge_allocation_is_out_of_memory():
    with pytest.raises(xrt.OutOfMemory, match="bytes"):
        xrt.empty((2**61,), "uint8")


def test_export_to_a_missing_folder_is_a_file_error(tmp_path):
    with xrt.Profiler() as profiler:
        pass
    with pytest.raises(xrt.FileError, match="missing"):
        profiler.export_chrome_trace(tmp_path / "missing" / "trace.json")


MODEL = pathlib.Path(__file__).parent.parent / "data" / "add_bias.onnx"

# A NUL ends a C string early: each of these ran on the text before it.
NUL_CALLS = [
    ("op name", lambda: ops.run("gelu\0junk", f32(2))),
    ("attribute name", lambda: ops.run("softmax", f32(2), **{"axis\0": 0})),
    ("device name", lambda: xrt.zeros(2, device="cpu\0junk")),
    ("model path", lambda: xrt.InferenceSession(f"{MODEL}\0junk")),
    ("backend name", lambda: xrt.InferenceSession(MODEL, backend="onnxruntime\0")),
    ("option intra_op_num_threads", lambda: xrt.InferenceSession(MODEL,
                                                                  intra_op_num_threads="1\0 2")),
    ("input name", lambda: xrt.InferenceSession(MODEL).run(None, {"x\0junk": f32(2, 4)})),
    ("output name", lambda: xrt.InferenceSession(MODEL).run(["y\0"], {"x": f32(2, 4)})),
    ("trace path", lambda: xrt.Profiler().export_chrome_trace("/tmp/trace\0.json")),
]


@pytest.mark.parametrize("what, call", NUL_CALLS, ids=[c[0] for c in NUL_CALLS])
def test_text_with_a_nul_is_refused_by_name(what, call):
    with pytest.raises(xrt.InvalidArgument, match=rf"^{what} '.*\\x00.*' contains a NUL character$"):
        call()


def test_text_utf8_cannot_hold_is_named():
    with pytest.raises(xrt.InvalidArgument, match=r"^option logid '\\ud800' cannot be encoded as "
                                                  r"UTF-8 \(surrogates not allowed\)$"):
        xrt.InferenceSession(MODEL, logid="\ud800")
    # A name the runtime looks up reaches its own "not found", naming it.
    with pytest.raises(xrt.NotFound, match=r"no device named 'cpu\\ud800'"):
        xrt.zeros(2, device="cpu\ud800")
