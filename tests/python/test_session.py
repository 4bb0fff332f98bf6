"""InferenceSession: models built here with the onnx helper API, run through
the runtime's model backends (the ONNX Runtime plugin on a CPU-only host)."""

import importlib.util
import pathlib
import threading

import ml_dtypes
import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the session tests build their models with the onnx package")
from onnx import TensorProto, helper  # noqa: E402

import xpuruntime as xrt  # noqa: E402
from soak_support import rss_bytes  # noqa: E402

HAVE_ORT_PACKAGE = importlib.util.find_spec("onnxruntime") is not None
MODEL_BACKENDS = [b.name for b in xrt.backends() if b.available and b.runs_models]

# Without the onnxruntime package nothing here can run; with it, a plugin that
# fails to load is a bug the tests must show, so they run (and fail).
pytestmark = pytest.mark.skipif(
    not MODEL_BACKENDS and not HAVE_ORT_PACKAGE,
    reason="no backend runs models and onnxruntime is not installed")

DEMO_MODEL = pathlib.Path(xrt.__file__).parent / "models" / "demo_encoder.onnx"

# Tests of ONNX Runtime's behaviour (its type strings, symbolic dimensions,
# providers, dtypes) name it: backend auto's choice is a measurement and may
# change with the machine's load. The error tests keep auto, where every
# candidate fails and the first one's error is reported.
ORT = "onnxruntime"

# (onnx element type, numpy dtype, ORT type string) for every runtime dtype.
DTYPES = [
    (TensorProto.FLOAT, np.dtype(np.float32), "tensor(float)"),
    (TensorProto.FLOAT16, np.dtype(np.float16), "tensor(float16)"),
    (TensorProto.BFLOAT16, np.dtype(ml_dtypes.bfloat16), "tensor(bfloat16)"),
    (TensorProto.DOUBLE, np.dtype(np.float64), "tensor(double)"),
    (TensorProto.INT64, np.dtype(np.int64), "tensor(int64)"),
    (TensorProto.INT32, np.dtype(np.int32), "tensor(int32)"),
    (TensorProto.INT16, np.dtype(np.int16), "tensor(int16)"),
    (TensorProto.INT8, np.dtype(np.int8), "tensor(int8)"),
    (TensorProto.UINT8, np.dtype(np.uint8), "tensor(uint8)"),
    (TensorProto.BOOL, np.dtype(np.bool_), "tensor(bool)"),
    (TensorProto.UINT16, np.dtype(np.uint16), "tensor(uint16)"),
    (TensorProto.UINT32, np.dtype(np.uint32), "tensor(uint32)"),
    (TensorProto.UINT64, np.dtype(np.uint64), "tensor(uint64)"),
    (TensorProto.FLOAT8E4M3FN, np.dtype(ml_dtypes.float8_e4m3fn), "tensor(float8e4m3fn)"),
    (TensorProto.FLOAT8E5M2, np.dtype(ml_dtypes.float8_e5m2), "tensor(float8e5m2)"),
    (TensorProto.FLOAT8E4M3FNUZ, np.dtype(ml_dtypes.float8_e4m3fnuz), "tensor(float8e4m3fnuz)"),
    (TensorProto.FLOAT8E5M2FNUZ, np.dtype(ml_dtypes.float8_e5m2fnuz), "tensor(float8e5m2fnuz)"),
]
FLOAT8 = [row for row in DTYPES if row[1].name.startswith("float8")]


def _model(nodes, inputs, outputs, opset=17, domains=()):
    graph = helper.make_graph(nodes, "test", inputs, outputs)
    opsets = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, 1) for d in domains]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    return model.SerializeToString()


@pytest.fixture(scope="module")
def add_model():
    """c = a + b, float32 (batch, 4) with a symbolic batch; d = a unnamed-dim Identity."""
    return _model(
        [helper.make_node("Add", ["a", "b"], ["c"]), helper.make_node("Identity", ["a"], ["d"])],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["batch", 4]),
         helper.make_tensor_value_info("d", TensorProto.FLOAT, ["batch", 4])])


@pytest.fixture(scope="module")
def unnamed_model():
    return _model([helper.make_node("Relu", ["x"], ["y"])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])])


@pytest.fixture(scope="module")
def add_path(add_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("models") / "add.onnx"
    path.write_bytes(add_model)
    return path


@pytest.fixture
def session(add_model):
    with xrt.InferenceSession(add_model, backend=ORT) as s:
        yield s


def _ab(rng, batch=3):
    return (rng.standard_normal((batch, 4), dtype=np.float32),
            rng.standard_normal((batch, 4), dtype=np.float32))


# ---- running ---------------------------------------------------------------

def test_add_matches_numpy_for_every_batch(session, rng):
    for batch in (1, 3, 17):
        a, b = _ab(rng, batch)
        c, d = session.run(None, {"a": a, "b": b})
        assert isinstance(c, np.ndarray) and c.dtype == np.float32 and c.shape == (batch, 4)
        np.testing.assert_array_equal(c, a + b)
        np.testing.assert_array_equal(d, a)


def test_output_names_select_and_order(session, rng):
    a, b = _ab(rng)
    d, c = session.run(["d", "c"], {"a": a, "b": b})
    np.testing.assert_array_equal(c, a + b)
    np.testing.assert_array_equal(d, a)
    (only,) = session.run(["c"], {"a": a, "b": b})
    np.testing.assert_array_equal(only, a + b)


def test_repeated_runs_see_what_changed(session, rng):
    """The backend keeps its binding between runs: memory rewritten in
    place, the same memory under another shape, and another choice of
    outputs must each reach the next run, and no run may write into an
    earlier run's outputs."""
    memory = rng.standard_normal(5 * 4, dtype=np.float32)
    b = rng.standard_normal((5, 4), dtype=np.float32)
    a2 = memory[:8].reshape(2, 4)
    (c1,) = session.run_tensors(["c"], {"a": a2, "b": b[:2]})
    first = a2 + b[:2]
    memory[:] = rng.standard_normal(memory.size, dtype=np.float32)
    (c2,) = session.run_tensors(["c"], {"a": a2, "b": b[:2]})
    np.testing.assert_array_equal(c2.numpy(), a2 + b[:2])
    np.testing.assert_array_equal(c1.numpy(), first)
    a3 = memory[:12].reshape(3, 4)  # the same address, one row more
    (d,) = session.run_tensors(["d"], {"a": a3, "b": b[:3]})
    np.testing.assert_array_equal(d.numpy(), a3)
    c, d = session.run(None, {"a": a3, "b": b[:3]})
    np.testing.assert_array_equal(c, a3 + b[:3])
    np.testing.assert_array_equal(d, a3)
    np.testing.assert_array_equal(c1.numpy(), first)


def test_outputs_outlive_the_session(add_model, rng):
    # Outputs are ORT's own buffers handed over, kept until the tensor goes.
    a, b = _ab(rng, 5)
    session = xrt.InferenceSession(add_model, backend=ORT)
    c, d = session.run_tensors(None, {"a": a, "b": b})
    session.close()
    del session
    np.testing.assert_array_equal(c.numpy(), a + b)
    np.testing.assert_array_equal(np.asarray(d), a)


def test_an_output_asked_for_twice(session, rng):
    a, b = _ab(rng)
    with pytest.raises(xrt.InvalidArgument, match="'c' is asked for twice"):
        session.run(["c", "c"], {"a": a, "b": b})


def test_providers_in_priority_order(add_model):
    with xrt.InferenceSession(add_model, backend=ORT) as s:
        assert s.get_providers() == ["CPUExecutionProvider"]
    with xrt.InferenceSession(add_model, providers=["CPUExecutionProvider"]) as s:
        assert s.get_providers() == ["CPUExecutionProvider"]


def test_inputs_of_every_kind(session, rng):
    a, b = _ab(rng, 4)
    readonly = b.copy()
    readonly.setflags(write=False)
    strided = np.ascontiguousarray(np.repeat(a, 2, axis=1))[:, ::2]  # a, not contiguous
    for feed_a, feed_b in [
        (xrt.asarray(a), xrt.asarray(b)),   # Tensors
        (a.tolist(), b.tolist()),           # anything asarray takes
        (strided, readonly),                # strided and read-only arrays
        (memoryview(a), b),                 # buffer protocol
    ]:
        (c,) = session.run(["c"], {"a": feed_a, "b": feed_b})
        np.testing.assert_array_equal(c, a + b)


def test_run_tensors_returns_tensors_on_the_session_device(session, rng):
    a, b = _ab(rng)
    c, d = session.run_tensors(None, {"a": a, "b": b})
    assert isinstance(c, xrt.Tensor) and isinstance(d, xrt.Tensor)
    assert c.device == session.device == xrt.Device("cpu")
    assert c.shape == (3, 4) and c.dtype == np.float32
    np.testing.assert_array_equal(c.numpy(), a + b)


def _random_values(rng, shape, dtype):
    """Every bit pattern for most dtypes (NaNs included); bool takes 0 and 1."""
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    raw = rng.integers(0, 256, tuple(shape) + (dtype.itemsize,), dtype=np.uint8)
    return raw.view(dtype).reshape(shape)


@pytest.mark.parametrize("elem, dtype, ort_type", DTYPES, ids=[d[1].name for d in DTYPES])
def test_identity_every_dtype(elem, dtype, ort_type, rng):
    # Opset 19: Identity's float8 types.
    model = _model([helper.make_node("Identity", ["x"], ["y"])],
                   [helper.make_tensor_value_info("x", elem, [2, "n"])],
                   [helper.make_tensor_value_info("y", elem, [2, "n"])], opset=19)
    # ONNX Runtime by name: backend auto may pick OpenVINO, whose inputs
    # carry no symbolic dimension names.
    with xrt.InferenceSession(model, backend=ORT) as s:
        (arg,) = s.get_inputs()
        assert arg.type == ort_type and arg.shape == [2, "n"] and arg.dtype == dtype
        assert s.get_outputs()[0].type == ort_type
        x = _random_values(rng, (2, 5), dtype)
        (y,) = s.run(None, {"x": x})
        assert y.dtype == dtype and y.shape == (2, 5)
        np.testing.assert_array_equal(y.view(np.uint8), x.view(np.uint8))
        # A strided input is packed on the host before the run.
        wide = _random_values(rng, (2, 10), dtype)
        (y,) = s.run(None, {"x": wide[:, ::2]})
        np.testing.assert_array_equal(y.view(np.uint8),
                                      np.ascontiguousarray(wide[:, ::2]).view(np.uint8))
        (t,) = s.run_tensors(None, {"x": x})
        assert t.dtype == dtype
        np.testing.assert_array_equal(t.numpy().view(np.uint8), x.view(np.uint8))


def _cast_model(from_elem, to_elem):
    # Opset 19: Cast to and from float8 (saturating by default).
    return _model([helper.make_node("Cast", ["x"], ["y"], to=to_elem)],
                  [helper.make_tensor_value_info("x", from_elem, ["n"])],
                  [helper.make_tensor_value_info("y", to_elem, ["n"])], opset=19)


def _assert_same_floats(got, want):
    """Bit-equal, except that a NaN may come back as any NaN."""
    nan = np.isnan(want.astype(np.float32))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(np.isnan(got.astype(np.float32)), nan)
    bits = f"u{want.dtype.itemsize}"
    np.testing.assert_array_equal(got.view(bits)[~nan], want.view(bits)[~nan])


@pytest.mark.parametrize("elem, dtype, ort_type", FLOAT8, ids=[d[1].name for d in FLOAT8])
def test_cast_float8_matches_ml_dtypes(elem, dtype, ort_type, rng):
    # float32 → float8 within the finite range, where saturation never applies.
    limit = float(ml_dtypes.finfo(dtype).max)
    x = np.clip(rng.standard_normal(4096) * limit / 8, -limit, limit).astype(np.float32)
    with xrt.InferenceSession(_cast_model(TensorProto.FLOAT, elem), backend=ORT) as s:
        (y,) = s.run(None, {"x": x})
    _assert_same_floats(y, x.astype(dtype))
    # float8 → float32: every one of the 256 codes.
    codes = np.arange(256, dtype=np.uint8).view(dtype)
    with xrt.InferenceSession(_cast_model(elem, TensorProto.FLOAT), backend=ORT) as s:
        (y,) = s.run(None, {"x": codes})
    _assert_same_floats(y, codes.astype(np.float32))


@pytest.mark.parametrize("elem, dtype", [(TensorProto.UINT16, np.uint16),
                                         (TensorProto.UINT32, np.uint32),
                                         (TensorProto.UINT64, np.uint64)])
def test_cast_unsigned_matches_numpy(elem, dtype, rng):
    info = np.iinfo(dtype)
    x = rng.integers(0, info.max, 1000, dtype=dtype, endpoint=True)
    with xrt.InferenceSession(_cast_model(elem, TensorProto.DOUBLE), backend=ORT) as s:
        (y,) = s.run(None, {"x": x})
    np.testing.assert_array_equal(y.view(np.uint64), x.astype(np.float64).view(np.uint64))
    with xrt.InferenceSession(_cast_model(TensorProto.INT64, elem), backend=ORT) as s:
        small = rng.integers(0, min(info.max, 2**62), 1000, dtype=np.int64)
        (y,) = s.run(None, {"x": small})
    assert y.dtype == dtype
    np.testing.assert_array_equal(y, small.astype(dtype))


def test_inputs_and_outputs_describe_the_model(session, unnamed_model):
    inputs, outputs = session.get_inputs(), session.get_outputs()
    assert [(i.name, i.shape, i.type) for i in inputs] == [
        ("a", ["batch", 4], "tensor(float)"), ("b", ["batch", 4], "tensor(float)")]
    assert [(o.name, o.shape, o.type) for o in outputs] == [
        ("c", ["batch", 4], "tensor(float)"), ("d", ["batch", 4], "tensor(float)")]
    with xrt.InferenceSession(unnamed_model, backend=ORT) as s:
        assert s.get_inputs()[0].shape == [None, 3]
        (y,) = s.run(None, {"x": np.array([[-1, 0, 2]] * 5, np.float32)})
        np.testing.assert_array_equal(y, [[0, 0, 2]] * 5)


def test_session_properties(session):
    assert session.backend in MODEL_BACKENDS
    assert isinstance(session.device, xrt.Device) and session.device.name == "cpu"
    assert "InferenceSession" in repr(session)


def test_model_from_bytes_str_and_pathlike(add_model, add_path, rng):
    a, b = _ab(rng)
    for model in (add_model, bytearray(add_model), str(add_path), add_path):
        with xrt.InferenceSession(model, backend="auto", device="cpu") as s:
            (c,) = s.run(["c"], {"a": a, "b": b})
            np.testing.assert_array_equal(c, a + b)


def test_named_backend_and_device_object(add_model, rng):
    a, b = _ab(rng)
    for backend in MODEL_BACKENDS:
        with xrt.InferenceSession(add_model, backend=backend, device=xrt.Device("cpu")) as s:
            assert s.backend == backend
            np.testing.assert_array_equal(s.run(["c"], {"a": a, "b": b})[0], a + b)


def test_onnxruntime_option_names(add_model, rng, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # profiling writes its file into the working folder
    a, b = _ab(rng)
    level_enum = None
    try:
        import onnxruntime
        level_enum = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    except ImportError:
        pass
    variants = [
        dict(intra_op_num_threads=1, inter_op_num_threads=1),
        dict(graph_optimization_level=0),
        dict(graph_optimization_level="ORT_ENABLE_ALL"),
        dict(enable_profiling=True),
        dict(providers=["CPUExecutionProvider"]),
        dict(providers=[("CPUExecutionProvider", {})]),
        dict(providers=["CPUExecutionProvider"], provider_options=[{}]),
    ]
    if level_enum is not None:
        variants.append(dict(graph_optimization_level=level_enum))
    for options in variants:
        with xrt.InferenceSession(add_model, backend=ORT, **options) as s:
            np.testing.assert_array_equal(s.run(["c"], {"a": a, "b": b})[0], a + b)


def test_profiling_puts_onnxruntime_node_spans_in_the_trace(add_model, rng):
    a, b = _ab(rng)
    with xrt.Profiler() as prof:
        with xrt.InferenceSession(add_model, backend=ORT, enable_profiling=True) as s:
            s.run(None, {"a": a, "b": b})
    events = prof.events()
    runs = [e for e in events if e.get("name") == "session.run"]
    nodes = [e for e in events if e.get("cat") == "onnxruntime.Node"]
    assert len(runs) == 1
    assert nodes and all(e["args"]["provider"] == "CPUExecutionProvider" for e in nodes)
    assert any(e["args"]["op"] == "Add" for e in nodes)
    # ORT's node spans fall inside our run span (clocks aligned to the trace).
    run = runs[0]
    for node in nodes:
        assert run["ts"] - 1000 <= node["ts"] <= run["ts"] + run["dur"] + 1000


def test_threads_share_one_session(session, rng):
    a, b = _ab(rng, 64)
    expected = a + b
    results, errors = [], []
    barrier = threading.Barrier(16)

    def work():
        try:
            barrier.wait()
            for _ in range(50):
                results.append(session.run(["c"], {"a": a, "b": b})[0])
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 16 * 50
    for r in results:
        np.testing.assert_array_equal(r, expected)


def test_close_is_idempotent_and_final(add_model, rng):
    s = xrt.InferenceSession(add_model, backend=ORT)
    a, b = _ab(rng)
    s.close()
    s.close()
    with pytest.raises(xrt.InvalidArgument, match="session is closed"):
        s.run(None, {"a": a, "b": b})
    with pytest.raises(xrt.InvalidArgument, match="session is closed"):
        s.run_tensors(None, {"a": a, "b": b})


def test_backend_list_has_onnxruntime_with_providers():
    if not HAVE_ORT_PACKAGE:
        pytest.skip("onnxruntime is not installed")
    by_name = {b.name: b for b in xrt.backends()}
    assert "onnxruntime" in by_name, list(by_name)
    ort = by_name["onnxruntime"]
    assert ort.available, ort.reason
    assert ort.runs_models
    assert "CPUExecutionProvider" in ort.details
    assert not by_name["cpu"].runs_models


def test_demo_model_agrees_with_onnxruntime(rng):
    ort = pytest.importorskip("onnxruntime")
    tokens = rng.standard_normal((2, 9, 64), dtype=np.float32)
    reference = ort.InferenceSession(str(DEMO_MODEL), providers=["CPUExecutionProvider"])
    (expected,) = reference.run(None, {"tokens": tokens})
    with xrt.InferenceSession(DEMO_MODEL, backend=ORT) as s:
        assert [(i.name, i.shape, i.type) for i in s.get_inputs()] == [
            ("tokens", ["batch", "seq", 64], "tensor(float)")]
        (got,) = s.run(None, {"tokens": tokens})
    assert got.shape == (2, 9, 64)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


# ---- errors: each a typed error naming what was wrong ----------------------

def test_missing_file(tmp_path):
    path = tmp_path / "no_such_model.onnx"
    with pytest.raises(xrt.NotFound, match="no_such_model.onnx"):
        xrt.InferenceSession(path)


@pytest.mark.parametrize("backend", ["auto", "onnxruntime"])
def test_a_folder_for_a_model_is_named(tmp_path, backend):
    """A folder for a model path: the backend's own message, not an
    InternalError from reading the folder as a file for the cache key."""
    with pytest.raises(xrt.InvalidArgument, match="directory"):
        xrt.InferenceSession(tmp_path, backend=backend)


def test_empty_bytes():
    with pytest.raises(xrt.InvalidArgument, match="empty"):
        xrt.InferenceSession(b"")


def test_corrupt_bytes(add_model):
    with pytest.raises((xrt.InvalidArgument, xrt.BackendError)) as info:
        xrt.InferenceSession(b"\x08\x07garbage, not a model" + add_model[:10])
    assert type(info.value) is not xrt.Error
    assert str(info.value)


def test_op_the_backend_lacks():
    model = _model([helper.make_node("FrobnicateXyz", ["x"], ["y"], domain="com.example")],
                   [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                   [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
                   domains=["com.example"])
    with pytest.raises(xrt.Error, match="FrobnicateXyz") as info:
        xrt.InferenceSession(model)
    assert type(info.value) is not xrt.Error


def test_model_type_errors(add_model):
    with pytest.raises(TypeError):
        xrt.InferenceSession(12345)
    with pytest.raises(TypeError):
        xrt.InferenceSession(add_model, backend=3)


@pytest.mark.parametrize("feed, pattern", [
    (lambda a, b: {"a": a, "zzz_unknown": b}, "zzz_unknown"),          # unknown name
    (lambda a, b: {"a": a}, "'?b'?"),                                 # missing input
    (lambda a, b: {"a": a, "b": b, "extra_input": a}, "extra_input"),  # extra input
    (lambda a, b: {"a": a.astype(np.float64), "b": b}, "float64|double"),  # wrong dtype
    (lambda a, b: {"a": a[0], "b": b}, "rank|dim"),                   # wrong rank
    (lambda a, b: {"a": np.zeros((3, 5), np.float32), "b": b}, "5"),  # wrong static dim
], ids=["unknown-name", "missing", "extra", "dtype", "rank", "static-dim"])
def test_bad_inputs(session, rng, feed, pattern):
    a, b = _ab(rng)
    with pytest.raises(xrt.InvalidArgument, match=pattern):
        session.run(None, feed(a, b))


def test_unknown_output_name(session, rng):
    a, b = _ab(rng)
    with pytest.raises((xrt.InvalidArgument, xrt.NotFound), match="no_such_output"):
        session.run(["c", "no_such_output"], {"a": a, "b": b})


def test_unknown_backend(add_model):
    with pytest.raises(xrt.NotFound, match="tensorrtx"):
        xrt.InferenceSession(add_model, backend="tensorrtx")


def test_unknown_option(add_model):
    with pytest.raises(xrt.InvalidArgument, match="no_such_option"):
        xrt.InferenceSession(add_model, no_such_option=1)


def test_cuda_provider_on_a_cpu_build(add_model):
    by_name = {b.name: b for b in xrt.backends()}
    if "onnxruntime" in by_name and "CUDAExecutionProvider" in by_name["onnxruntime"].details:
        pytest.skip("this onnxruntime has the CUDA execution provider")
    with pytest.raises(xrt.Unsupported, match="onnxruntime-gpu"):
        xrt.InferenceSession(add_model, providers=["CUDAExecutionProvider"])


def test_failing_runs_do_not_leak(session, rng):
    a, b = _ab(rng)
    wrong = a.astype(np.float64)
    for _ in range(100):  # warm up allocator caches
        with pytest.raises(xrt.InvalidArgument):
            session.run(None, {"a": wrong, "b": b})
    before = rss_bytes()
    for i in range(1000):
        feed = {"a": wrong, "b": b} if i % 2 else {"a": a, "zzz": b}
        try:
            session.run(None, feed)
        except xrt.InvalidArgument:
            pass
        else:
            raise AssertionError("a bad run succeeded")
    growth = rss_bytes() - before
    assert growth < 4 * 1024 * 1024, f"RSS grew by {growth / 1024:.0f} KiB over 1000 failing runs"
