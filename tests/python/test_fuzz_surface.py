"""Property-based fuzzing of the Python surface: odd arrays and misbehaving
DLPack producers into asarray/from_dlpack, ops with random shapes, dtypes and
attributes, sessions with mutated model bytes and wrong feeds. Each call must
either give the right result or raise a typed error (xrt.Error, TypeError,
ValueError); a crash takes the whole run down.

Examples per test come from XRT_FUZZ_EXAMPLES: small by default (CI), large
for the long run, e.g. XRT_FUZZ_EXAMPLES=5000 pytest -m fuzz.
"""

import ctypes
import os
import pathlib
import warnings

import ml_dtypes
import numpy as np
import pytest

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import attention_reference as aref  # noqa: E402
import reference as ref  # noqa: E402
import xpuruntime as xrt  # noqa: E402
from xpuruntime import ops  # noqa: E402

pytestmark = pytest.mark.fuzz
EXAMPLES = int(os.environ.get("XRT_FUZZ_EXAMPLES", "30"))
fuzz = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TYPED_ERRORS = (xrt.Error, TypeError, ValueError)

SUPPORTED = [np.dtype(name) if name != "bfloat16" else np.dtype(ml_dtypes.bfloat16)
             for name in ref.ALL_DTYPES]
UNSUPPORTED = [np.dtype(name) for name in ("complex64", "complex128", "U3", "V4")]
FLOATS = [np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.float16),
          np.dtype(ml_dtypes.bfloat16)]
MODELS = pathlib.Path(__file__).resolve().parents[1] / "fuzz" / "corpus" / "fuzz_session_model"


def same_contents(tensor, expected):
    got = tensor.numpy()
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert got.tobytes() == np.ascontiguousarray(expected).tobytes()


# -- asarray / from_dlpack ---------------------------------------------------

def _as_strided(base, shape, strides, **kwargs):
    """as_strided for any dtype: numpy rebuilds the view from its typestr,
    which ml_dtypes types (bfloat16, float8) lack, so those are strided as
    unsigned integers of their size and viewed back."""
    if base.dtype.type.__module__.startswith("ml_dtypes"):
        raw = base.view(f"u{base.dtype.itemsize}")
        return np.lib.stride_tricks.as_strided(raw, shape, strides, **kwargs).view(base.dtype)
    return np.lib.stride_tricks.as_strided(base, shape, strides, **kwargs)


@st.composite
def strided_views(draw, dtypes=st.sampled_from(SUPPORTED + UNSUPPORTED)):
    """A view of a real buffer with any strides that stay inside it: zero,
    negative, and huge ones on axes of length 0 or 1."""
    dtype = draw(dtypes)
    ndim = draw(st.integers(0, 5))
    shape = draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim))
    strides = []
    for extent in shape:
        if extent <= 1 and draw(st.booleans()):
            strides.append(draw(st.sampled_from([2**40, -(2**40), 2**58])))
        else:
            strides.append(draw(st.integers(-6, 6)))
    reach = [(n - 1) * s for n, s in zip(shape, strides) if n > 1]
    low = sum(r for r in reach if r < 0)
    high = sum(r for r in reach if r > 0)
    base = np.frombuffer(draw(st.binary(min_size=(high - low + 1) * dtype.itemsize,
                                        max_size=(high - low + 1) * dtype.itemsize)),
                         dtype=dtype).copy()
    if 0 in shape:
        strides = [dtype.itemsize] * ndim  # numpy's own check needs sane strides then
        return _as_strided(base[:0], shape, strides)
    start = base[-low:]
    return _as_strided(start, shape, [s * dtype.itemsize for s in strides],
                       writeable=draw(st.booleans()))


@fuzz
@given(view=strided_views(), through=st.sampled_from(["asarray", "from_dlpack"]))
def test_odd_arrays_are_shared_or_refused(view, through):
    try:
        tensor = xrt.asarray(view) if through == "asarray" else xrt.from_dlpack(view)
    except BufferError:
        assert through == "from_dlpack"  # numpy itself declines to export some views
        return
    except TYPED_ERRORS:
        assert view.dtype not in SUPPORTED, f"{view.dtype} {view.shape} {view.strides} refused"
        return
    assert view.dtype in SUPPORTED
    same_contents(tensor, view)


EXOTIC = ["<f4", ">f4", ">i8", "<i2", ">f2", "c8", "M8[s]", "m8[ms]", "S2", "U1", "O",
          [("a", "<f4")], [("a", "<i4"), ("b", "u1")], "(2,)f4"]


@fuzz
@given(data=st.data(), dtype=st.sampled_from(EXOTIC + SUPPORTED),
       shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       wrap=st.sampled_from(["array", "memoryview", "bytes"]))
def test_buffer_formats(data, dtype, shape, wrap):
    """Byte orders, structured, object and sub-array dtypes through the buffer
    protocol: converted to the same values or refused, never misread."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    raw = data.draw(st.binary(min_size=count * dtype.itemsize, max_size=count * dtype.itemsize))
    array = (np.array([None] * count, dtype).reshape(shape) if dtype.hasobject
             else np.frombuffer(raw, dtype).reshape(shape + dtype.shape).copy())
    if wrap == "memoryview":
        try:
            obj = memoryview(array)
        except ValueError:  # numpy cannot export datetimes or objects
            obj = array
    else:
        obj = array if wrap == "array" else raw
    try:
        tensor = xrt.asarray(obj)
    except TYPED_ERRORS:
        return
    except Exception as error:  # only where numpy cannot read the object either
        with pytest.raises(type(error)):
            np.asarray(obj)
        return
    expected = np.asarray(memoryview(obj) if wrap == "bytes" else obj)
    assert np.dtype(expected.dtype.newbyteorder("=")) in SUPPORTED, f"accepted {expected.dtype}"
    got = tensor.numpy()
    assert got.shape == expected.shape
    # Bit for bit (NaNs included; ml_dtypes floats have numpy kind 'V'), once
    # byte order is native.
    native = np.ascontiguousarray(expected.astype(expected.dtype.newbyteorder("=")))
    assert got.tobytes() == native.tobytes(), "values differ"


class Producer:
    """A DLPack producer that misbehaves in one chosen way."""

    def __init__(self, how, array):
        self.how, self.array = how, array

    def __dlpack_device__(self):
        if self.how == "device raises":
            raise KeyError("device")
        if self.how == "device is garbage":
            return ("cpu",)
        if self.how == "device is a missing GPU":
            return (2, 97)
        return (1, 0)

    def __dlpack__(self, **kwargs):
        if self.how == "raises":
            raise ArithmeticError("producer failed")
        if self.how == "returns None":
            return None
        if self.how == "returns an int":
            return 12345
        if self.how == "old producer" and kwargs:
            raise TypeError("unexpected keyword argument")
        if self.how == "foreign capsule":
            return _capsule(_FOREIGN_NAME)
        if self.how == "legacy capsule":
            return self.array.__dlpack__()
        if self.how == "device is a missing GPU":
            kwargs.pop("stream", None)  # the lie is the device; numpy takes no stream
        return self.array.__dlpack__(**kwargs)


_FOREIGN_NAME = b"not_a_dltensor"  # a capsule borrows its name, so it lives here
_FOREIGN_TARGET = ctypes.c_int(0)


def _capsule(name):
    new = ctypes.pythonapi.PyCapsule_New
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return new(ctypes.addressof(_FOREIGN_TARGET), name, None)


BEHAVIOURS = ["raises", "returns None", "returns an int", "old producer", "foreign capsule",
              "legacy capsule", "device raises", "device is garbage", "device is a missing GPU",
              "honest"]


@fuzz
@given(how=st.sampled_from(BEHAVIOURS),
       view=strided_views(st.sampled_from(FLOATS[:3])))  # numpy exports no bfloat16
def test_misbehaving_dlpack_producers(how, view):
    producer = Producer(how, np.array(view))  # writable: legacy capsules cannot say read-only
    try:
        tensor = xrt.from_dlpack(producer)
    except ArithmeticError:
        assert how == "raises"  # the producer's own error, not swallowed
        return
    except KeyError:
        assert how == "device raises"
        return
    except TYPED_ERRORS:
        assert how not in ("honest", "old producer", "legacy capsule")
        return
    assert how in ("honest", "old producer", "legacy capsule", "device is garbage",
                   "device is a missing GPU")
    same_contents(tensor, view)


def test_a_capsule_imports_once():
    capsule = np.arange(3.0).__dlpack__()
    assert xrt.from_dlpack(capsule).shape == (3,)
    with pytest.raises(xrt.InvalidArgument, match="already consumed"):
        xrt.from_dlpack(capsule)


# -- ops -----------------------------------------------------------------------

@st.composite
def operand(draw, dtype, shape):
    """float64 values in a tame range, rounded to dtype, maybe as a
    non-contiguous view (transposed or stepped) or at an odd address."""
    values = draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3, width=16)))
    array = values.astype(dtype)
    layout = draw(st.sampled_from(["contiguous", "transposed", "stepped", "misaligned"]))
    if layout == "misaligned" and dtype.itemsize > 1:
        odd = np.frombuffer(bytearray(array.nbytes + 1), dtype, count=array.size, offset=1)
        odd = odd.reshape(array.shape)
        odd[...] = array
        return odd
    if layout == "transposed" and array.ndim >= 2:
        array = np.ascontiguousarray(np.swapaxes(array, -1, -2)).swapaxes(-1, -2)
    elif layout == "stepped" and array.ndim >= 1:
        wide = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype)
        wide[..., ::2] = array
        array = wide[..., ::2]
    return array


shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
dtypes = st.sampled_from(FLOATS + [np.dtype(np.int32), np.dtype(np.bool_)])


def expect(call, reference, dtype):
    """The op matches numpy when numpy can compute it (and the dtype is a
    float), and raises a typed error when numpy cannot."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            expected = reference()
    except (ValueError, IndexError):
        expected = None
    try:
        got = call()
    except TYPED_ERRORS as error:
        assert expected is None or dtype not in FLOATS, f"refused a valid call: {error}"
        return
    assert expected is not None, "accepted a call numpy refuses"
    assert got.shape == expected.shape
    if dtype in FLOATS:
        np.testing.assert_allclose(got.numpy().astype(np.float64), expected,
                                   **ref.TOLERANCE[dtype.name])
    else:  # integers and bools: exact, with the dtype's own rounding
        np.testing.assert_array_equal(got.numpy(), expected.astype(dtype))


@fuzz
@given(data=st.data(), dtype=dtypes, a_shape=shapes, b_shape=shapes)
def test_binary_ops(data, dtype, a_shape, b_shape):
    op = data.draw(st.sampled_from(["add", "matmul"]))
    if data.draw(st.booleans()):
        b_shape = a_shape if op == "add" else a_shape[:-2] + a_shape[-1:][::-1] + (3,)
    a = data.draw(operand(dtype, a_shape))
    b = data.draw(operand(dtype, b_shape))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    if op == "add":
        expect(lambda: ops.add(a, b), lambda: a64 + b64, dtype)
    else:
        expect(lambda: ops.matmul(a, b), lambda: np.matmul(a64, b64), dtype)


# eps: valid ones keep the denominator away from 0, where rounding decides between huge and inf.
finite_or_not = st.one_of(st.floats(1e-6, 1), st.sampled_from([-1.0, float("nan"), float("inf")]))


@fuzz
@given(data=st.data(), dtype=dtypes, shape=shapes, axis=st.integers(-6, 6), eps=finite_or_not)
def test_unary_ops(data, dtype, shape, axis, eps):
    op = data.draw(st.sampled_from(["gelu", "softmax", "layer_norm", "rms_norm"]))
    x = data.draw(operand(dtype, shape))
    x64 = x.astype(np.float64)
    last = shape[-1:] or (1,)
    weight_shape = data.draw(st.sampled_from([None, last, (5,), ()]))
    weight = None if weight_shape is None else data.draw(operand(dtype, weight_shape))
    w64 = None if weight is None else weight.astype(np.float64)

    def norm_reference(fn, *args):
        if not shape or (w64 is not None and w64.shape != last) or not (eps >= 0 and eps < np.inf):
            raise ValueError("invalid norm call")
        return fn(x64, *args, eps=eps)

    if op == "gelu":
        expect(lambda: ops.gelu(x), lambda: ref.gelu(x64), dtype)
    elif op == "softmax":
        def softmax_reference():
            if not -len(shape) <= axis < len(shape):
                raise ValueError("axis out of range")
            return x64.copy() if x64.size == 0 else ref.softmax(x64, axis=axis)
        expect(lambda: ops.softmax(x, axis=axis), softmax_reference, dtype)
    elif op == "layer_norm":
        expect(lambda: ops.layer_norm(x, weight, None, eps=eps),
               lambda: norm_reference(ref.layer_norm, w64), dtype)
    else:
        expect(lambda: ops.rms_norm(x, weight, eps=eps),
               lambda: norm_reference(ref.rms_norm, w64), dtype)


@fuzz
@given(data=st.data(), dtype=st.sampled_from(FLOATS), causal=st.booleans(),
       scale=st.one_of(st.none(), st.floats(0.01, 2), st.sampled_from([-1.0, 0.0, float("nan")])),
       dims=st.tuples(*[st.integers(0, 3)] * 5))
def test_attention(data, dtype, causal, scale, dims):
    batch, heads, lq, lk, d = dims
    q_shape = data.draw(st.sampled_from([(batch, heads, lq, d), (batch, lq, d), (heads, lq + 1, lq, d)]))
    q = data.draw(operand(dtype, q_shape))
    k = data.draw(operand(dtype, (batch, heads, lk, d)))
    v = data.draw(operand(dtype, (batch, heads, lk, data.draw(st.integers(1, 3)))))

    def reference():
        # k's heads must divide q's (grouped-query attention).
        if (q.ndim != 4 or q.shape[0] != k.shape[0] or k.shape[1] == 0
                or q.shape[1] % k.shape[1] or q.shape[3] != k.shape[3] or d == 0):
            raise ValueError("invalid attention call")
        if scale is not None and not scale > 0:
            raise ValueError("the Python API wants scale > 0 (or None)")
        return aref.forward(q.astype(np.float64), k.astype(np.float64), v.astype(np.float64),
                            aref.visible(q.shape[2], lk, causal), scale=scale)[0]

    expect(lambda: ops.attention(q, k, v, causal=causal, scale=scale), reference, dtype)


OP_NAMES = ["add", "matmul", "gelu", "softmax", "layer_norm", "rms_norm", "layer_norm_backward",
            "rms_norm_backward", "add_layer_norm", "add_rms_norm", "add_layer_norm_backward",
            "add_rms_norm_backward", "bias_gelu", "bias_gelu_backward", "attention",
            "attention_lse", "attention_backward", "attention_varlen", "attention_varlen_backward",
            "attention_decode", "kv_cache_append"]
attr_values = st.one_of(st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=True),
                        st.booleans(), st.text(max_size=3), st.none())


@fuzz
@given(data=st.data(), op=st.one_of(st.sampled_from(OP_NAMES), st.text(max_size=12)),
       attrs=st.dictionaries(st.sampled_from(["axis", "eps", "causal", "scale", "allow_tf32", "x",
                                              "window_left", "causal_align", "max_seqlen_q"]),
                             attr_values, max_size=3))
def test_any_op_with_any_attributes(data, op, attrs):
    """ops.run with arbitrary operands and attributes: a Tensor or a typed error."""
    tensors = shapes.flatmap(lambda shape: operand(np.dtype(np.float32), shape))
    inputs = data.draw(st.lists(st.one_of(tensors, st.none()), max_size=4))
    try:
        out = ops.run(op, *inputs, **attrs)
    except TYPED_ERRORS:
        return
    assert isinstance(out, xrt.Tensor)


def test_int_attribute_beyond_int64_is_a_typed_error():
    with pytest.raises(xrt.InvalidArgument, match="axis=9223372036854775808"):
        ops.run("softmax", np.ones(2, np.float32), axis=2**63)


# -- sessions ------------------------------------------------------------------

SEED_MODELS = sorted(MODELS.glob("*.onnx"))


def feeds_for(session, draw):
    feeds = {}
    for value in session.get_inputs():
        shape = [d if isinstance(d, int) and d >= 0 else draw(st.integers(0, 3)) for d in value.shape]
        dtype = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(bool)": np.bool_,
                 "tensor(float16)": np.float16}.get(value.type, np.float32)
        feeds[value.name] = np.zeros(shape, dtype)
    return feeds


@fuzz
@given(data=st.data(), model=st.sampled_from(SEED_MODELS),
       edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255),
                                st.sampled_from(["flip", "cut", "insert"])), max_size=4))
def test_mutated_models(data, model, edits):
    blob = bytearray(model.read_bytes())
    for where, byte, kind in edits:
        at = where % (len(blob) + 1)
        if kind == "flip" and at < len(blob):
            blob[at] ^= byte or 1
        elif kind == "cut":
            del blob[at:]
        else:
            blob[at:at] = bytes([byte])
    try:
        session = xrt.InferenceSession(bytes(blob), backend="onnxruntime")
    except TYPED_ERRORS:
        return
    try:
        outputs = session.run(None, feeds_for(session, data.draw))
    except TYPED_ERRORS:
        return
    assert len(outputs) == len(session.get_outputs())


@fuzz
@given(batch=st.integers(0, 3), name=st.sampled_from(["x", "y", "", "x "]),
       dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_]),
       rank=st.integers(0, 3), extra=st.booleans(),
       value_kind=st.sampled_from(["array", "list", "string", "none", "tensor"]))
def test_feeds(batch, name, dtype, rank, extra, value_kind):
    """add_bias (y = x + [1, 2, 3, 4], x float32 (batch, 4)) with right and wrong feeds."""
    session = xrt.InferenceSession(str(MODELS / "add_bias.onnx"), backend="onnxruntime")
    x = np.arange(batch * 4, dtype=np.float64)
    x = {0: np.float64(batch), 1: x, 2: x.reshape(batch, 4), 3: x.reshape(1, batch, 4)}[rank]
    value = {"array": x.astype(dtype), "list": x.astype(dtype).tolist(), "string": "x",
             "none": None, "tensor": xrt.asarray(x.astype(dtype))}[value_kind]
    feeds = {name: value}
    if extra:
        feeds["b"] = np.zeros(4, np.float32)
    # Lists take the model's dtype (arrays and tensors must have it), but an
    # empty list has no shape to keep.
    right = (name == "x" and not extra and rank == 2 and value_kind in ("array", "list", "tensor")
             and (dtype == np.float32 or value_kind == "list")
             and not (value_kind == "list" and batch == 0))
    try:
        (y,) = session.run(None, feeds)
    except TYPED_ERRORS as error:
        assert not right, f"refused a right feed: {error}"
        return
    assert right
    fed = np.asarray(x.astype(dtype), dtype=np.float32)
    np.testing.assert_array_equal(y, fed + np.arange(1, 5, dtype=np.float32))
