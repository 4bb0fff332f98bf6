"""Values other than tensors through InferenceSession.run, compared exactly
with onnxruntime: string tensors, sequences, maps and optionals, each in and
out, as onnxruntime's Python API takes and gives them. run_tensors and bad
inputs raise typed errors naming the value."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the models are built with the onnx package")
ort = pytest.importorskip("onnxruntime", reason="results are compared with onnxruntime")
from onnx import TensorProto as T  # noqa: E402
from onnx import helper as h  # noqa: E402

import xpuruntime as xrt  # noqa: E402
import xpuruntime.onnxruntime as xort  # noqa: E402

pytestmark = pytest.mark.skipif(
    not any(b.name == "onnxruntime" and b.available for b in xrt.backends()),
    reason="the ONNX Runtime backend is not available")

FLOAT_SEQ = h.make_sequence_type_proto(h.make_tensor_type_proto(T.FLOAT, None))
OPTIONAL_FLOAT = h.make_optional_type_proto(h.make_tensor_type_proto(T.FLOAT, None))


def _model(nodes, inputs, outputs, ml=False):
    opsets = [h.make_opsetid("", 19)] + ([h.make_opsetid("ai.onnx.ml", 3)] if ml else [])
    model = h.make_model(h.make_graph(nodes, "values", inputs, outputs), opset_imports=opsets)
    model.ir_version = 9
    return model.SerializeToString()


def _bits(value):
    """Exact form: arrays as dtype, shape and bytes (object arrays by items)."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return ("object", value.shape, [(type(v), v) for v in value.ravel()])
        return (value.dtype.str, value.shape, np.ascontiguousarray(value).tobytes())
    if isinstance(value, list):
        return ["list"] + [_bits(v) for v in value]
    if isinstance(value, dict):
        return {(type(k), k): (type(v), v) for k, v in value.items()}
    return (type(value), value)


def _check_same(model, feed, output_names=None):
    theirs = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    ours = xrt.InferenceSession(model, backend="onnxruntime")
    assert [(a.name, a.type) for a in ours.get_inputs()] == \
        [(a.name, a.type) for a in theirs.get_inputs()]
    assert [(a.name, a.type) for a in ours.get_outputs()] == \
        [(a.name, a.type) for a in theirs.get_outputs()]
    expected = theirs.run(output_names, feed)
    got = ours.run(output_names, feed)
    assert _bits(got) == _bits(expected)
    wrapped = xort.InferenceSession(model, providers=["CPUExecutionProvider"])
    assert _bits(wrapped.run(output_names, feed)) == _bits(expected)
    return got


@pytest.fixture(autouse=True)
def quiet_onnxruntime():
    ort.set_default_logger_severity(3)
    yield
    ort.set_default_logger_severity(2)


@pytest.fixture(scope="module")
def strings_model():
    return _model([h.make_node("Identity", ["s"], ["same"]),
                   h.make_node("Equal", ["s", "t"], ["equal"])],
                  [h.make_tensor_value_info("s", T.STRING, ["n", 2]),
                   h.make_tensor_value_info("t", T.STRING, ["n", 2])],
                  [h.make_tensor_value_info("same", T.STRING, ["n", 2]),
                   h.make_tensor_value_info("equal", T.BOOL, ["n", 2])])


@pytest.mark.parametrize("make", [lambda x: np.array(x, dtype=object), np.array])
def test_string_tensors_in_and_out(strings_model, make):
    s = make([["a", "héllo wörld"], ["", "日本語"]])
    t = make([["a", "hello"], ["", "日本語"]])
    got = _check_same(strings_model, {"s": s, "t": t})
    assert got[0].dtype == object and got[0].tolist() == [["a", "héllo wörld"], ["", "日本語"]]


def test_strings_that_are_not_utf8_go_back_as_they_came(strings_model):
    """Bytes that are not UTF-8 come out as str with surrogate escapes (as
    os.fsdecode gives); given back, they are the same bytes again."""
    s = xrt.InferenceSession(strings_model, backend="onnxruntime")
    raw = np.array([[b"\xff\xfe", "ok"]], dtype=object)
    (same, _) = s.run(None, {"s": raw, "t": raw})
    assert same.tolist() == [["\udcff\udcfe", "ok"]]
    (again, equal) = s.run(None, {"s": same, "t": raw})
    assert again[0, 0].encode("utf-8", "surrogateescape") == b"\xff\xfe" and equal.all()


def test_text_utf8_cannot_hold_and_odd_names_are_named(strings_model):
    s = xrt.InferenceSession(strings_model, backend="onnxruntime")
    good = np.array([["a", "b"]], dtype=object)
    with pytest.raises(xrt.InvalidArgument, match=r"input 's': element 1 \('\\ud800'\) cannot be "
                                                  r"encoded as UTF-8 \(surrogates not allowed\)"):
        s.run(None, {"s": np.array([["a", "\ud800"]], dtype=object), "t": good})
    with pytest.raises(xrt.InvalidArgument, match=r"unknown input '\\ud800'"):
        s.run(None, {"s": good, "t": good, "\ud800": np.ones(1, np.float32)})
    with pytest.raises(xrt.InvalidArgument, match=r"unknown output '\\ud800'"):
        s.run(["\ud800"], {"s": good, "t": good})


def test_empty_string_tensor(strings_model):
    empty = np.zeros((0, 2), dtype=object)
    _check_same(strings_model, {"s": empty, "t": empty})


def test_sequences_split_and_concat():
    model = _model([h.make_node("SplitToSequence", ["x"], ["parts"], axis=0),
                    h.make_node("ConcatFromSequence", ["parts"], ["joined"], axis=1)],
                   [h.make_tensor_value_info("x", T.FLOAT, [None, 3])],
                   [h.make_value_info("parts", FLOAT_SEQ),
                    h.make_tensor_value_info("joined", T.FLOAT, None)])
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    parts, joined = _check_same(model, {"x": x})
    assert len(parts) == 4 and np.array_equal(np.concatenate(parts), x)


def test_sequence_inputs_construct_and_at():
    model = _model([h.make_node("SequenceConstruct", ["a", "b"], ["pair"]),
                    h.make_node("SequenceAt", ["items", "i"], ["picked"]),
                    h.make_node("SequenceLength", ["items"], ["count"])],
                   [h.make_value_info("items", FLOAT_SEQ),
                    h.make_tensor_value_info("i", T.INT64, []),
                    h.make_tensor_value_info("a", T.FLOAT, [2]),
                    h.make_tensor_value_info("b", T.FLOAT, [2])],
                   [h.make_value_info("pair", FLOAT_SEQ),
                    h.make_tensor_value_info("picked", T.FLOAT, None),
                    h.make_tensor_value_info("count", T.INT64, [])])
    rng = np.random.default_rng(2)
    items = [rng.standard_normal(n).astype(np.float32) for n in (3, 1, 5)]
    feed = {"items": items, "i": np.array(-1, dtype=np.int64),
            "a": np.ones(2, np.float32), "b": np.zeros(2, np.float32)}
    pair, picked, count = _check_same(model, feed)
    assert np.array_equal(picked, items[-1]) and count == 3 and len(pair) == 2


@pytest.mark.parametrize("labels", [{"classlabels_int64s": [10, 20, 30]},
                                    {"classlabels_strings": ["cat", "dog", "emu"]}])
def test_zipmap_gives_a_list_of_dicts(labels):
    key = T.INT64 if "classlabels_int64s" in labels else T.STRING
    out = h.make_sequence_type_proto(
        h.make_map_type_proto(key, h.make_tensor_type_proto(T.FLOAT, None)))
    model = _model([h.make_node("ZipMap", ["p"], ["z"], domain="ai.onnx.ml", **labels)],
                   [h.make_tensor_value_info("p", T.FLOAT, [None, 3])],
                   [h.make_value_info("z", out)], ml=True)
    p = np.random.default_rng(3).random((5, 3)).astype(np.float32)
    (maps,) = _check_same(model, {"p": p})
    assert len(maps) == 5 and all(len(m) == 3 for m in maps)


@pytest.fixture(scope="module")
def dict_model():
    """DictVectorizer: map(string, float) in, a dense row out."""
    return _model([h.make_node("DictVectorizer", ["d"], ["row"], domain="ai.onnx.ml",
                               string_vocabulary=["a", "b", "c"])],
                  [h.make_value_info("d", h.make_map_type_proto(
                      T.STRING, h.make_tensor_type_proto(T.FLOAT, None)))],
                  [h.make_tensor_value_info("row", T.FLOAT, None)], ml=True)


def test_map_inputs(dict_model):
    (row,) = _check_same(dict_model, {"d": {"c": 3.5, "a": -1.0}})
    assert row.tolist() == [[-1.0, 0.0, 3.5]]


@pytest.fixture(scope="module")
def optional_model():
    return _model([h.make_node("OptionalHasElement", ["maybe"], ["has"]),
                   h.make_node("Optional", ["x"], ["wrapped"])],
                  [h.make_value_info("maybe", OPTIONAL_FLOAT),
                   h.make_tensor_value_info("x", T.FLOAT, [2])],
                  [h.make_tensor_value_info("has", T.BOOL, []),
                   h.make_value_info("wrapped", OPTIONAL_FLOAT)])


@pytest.mark.parametrize("maybe", [None, np.arange(3, dtype=np.float32)])
def test_optionals_in_and_out(optional_model, maybe):
    has, wrapped = _check_same(optional_model, {"maybe": maybe, "x": np.ones(2, np.float32)})
    assert bool(has) == (maybe is not None)
    assert np.array_equal(wrapped, np.ones(2, np.float32))


def test_empty_optional_output():
    model = _model([h.make_node("Optional", [], ["none"], type=h.make_tensor_type_proto(
                        T.FLOAT, None)),
                    h.make_node("Identity", ["x"], ["y"])],
                   [h.make_tensor_value_info("x", T.FLOAT, [1])],
                   [h.make_value_info("none", OPTIONAL_FLOAT),
                    h.make_tensor_value_info("y", T.FLOAT, [1])])
    none, _ = _check_same(model, {"x": np.ones(1, np.float32)})
    assert none is None


def test_run_tensors_refuses_other_kinds_naming_them(strings_model, optional_model):
    s = xrt.InferenceSession(strings_model, backend="onnxruntime")
    words = np.array([["a", "b"]], dtype=object)
    with pytest.raises(xrt.Unsupported, match=r"input 's' has type tensor\(string\)"):
        s.run_tensors(None, {"s": words, "t": words})
    o = xrt.InferenceSession(optional_model, backend="onnxruntime")
    with pytest.raises(xrt.Unsupported, match=r"optional\(tensor\(float\)\)"):
        o.run_tensors(["has"], {"maybe": np.ones(1, np.float32), "x": np.ones(2, np.float32)})


def test_bad_values_raise_naming_them(strings_model, dict_model):
    seq_model = _model([h.make_node("SequenceLength", ["items"], ["count"])],
                       [h.make_value_info("items", FLOAT_SEQ)],
                       [h.make_tensor_value_info("count", T.INT64, [])])
    s = xrt.InferenceSession(seq_model, backend="onnxruntime")
    with pytest.raises(xrt.InvalidArgument, match=r"input 'items' expects seq\(tensor\(float\)\) "
                                                  r"\(a list\), got ndarray"):
        s.run(None, {"items": np.ones(3, np.float32)})
    with pytest.raises(xrt.InvalidArgument,
                       match=r"input 'items' is seq\(tensor\(int64\)\), the model expects "
                             r"seq\(tensor\(float\)\)"):
        s.run(None, {"items": [np.ones(3, np.int64)]})
    with pytest.raises(xrt.InvalidArgument, match=r"input 'items' mixes"):
        s.run(None, {"items": [np.ones(3, np.float32), np.ones(3, np.float64)]})
    with pytest.raises(xrt.InvalidArgument, match=r"input 'items' item 0 expects tensor\(float\), "
                                                  r"got an array of <U1"):
        s.run(None, {"items": [np.array(["x"])]})

    d = xrt.InferenceSession(dict_model, backend="onnxruntime")
    with pytest.raises(xrt.InvalidArgument, match=r"input 'd' expects map\(string,tensor\(float\)\)"
                                                  r": key 3 is int, not string"):
        d.run(None, {"d": {3: 1.0}})
    with pytest.raises(xrt.InvalidArgument, match=r"input 'd' expects map.* \(a dict\), got list"):
        d.run(None, {"d": [1.0]})

    words = xrt.InferenceSession(strings_model, backend="onnxruntime")
    with pytest.raises(xrt.InvalidArgument, match=r"input 's' expects tensor\(string\), got an "
                                                  r"array of float32"):
        words.run(None, {"s": np.ones((1, 2), np.float32), "t": np.ones((1, 2), np.float32)})
    with pytest.raises(xrt.InvalidArgument, match=r"input 's' expects tensor\(string\); "
                                                  r"element 1 is int"):
        words.run(None, {"s": np.array([["a", 1]], dtype=object),
                         "t": np.array([["a", "b"]], dtype=object)})
    with pytest.raises(xrt.InvalidArgument, match=r"input 't' has shape \(3,\), the model "
                                                  r"expects rank 2"):
        words.run(None, {"s": np.array([["a", "b"]]), "t": np.array(["a", "b", "c"])})
    with pytest.raises(xrt.InvalidArgument, match="unknown input 'nope'"):
        words.run(None, {"s": np.array([["a", "b"]]), "t": np.array([["a", "b"]]),
                         "nope": np.ones(1)})


def test_a_list_where_a_tensor_is_expected_names_it():
    model = _model([h.make_node("SequenceConstruct", ["a"], ["one"])],
                   [h.make_tensor_value_info("a", T.FLOAT, [2])],
                   [h.make_value_info("one", FLOAT_SEQ)])
    s = xrt.InferenceSession(model, backend="onnxruntime")
    with pytest.raises(xrt.InvalidArgument, match=r"input 'a' expects tensor\(float\), got dict"):
        s.run(None, {"a": {"x": 1}})
    with pytest.raises(xrt.InvalidArgument, match=r"input 'a' expects tensor\(float\), got "
                                                  r"NoneType"):
        s.run(None, {"a": None})


@pytest.mark.skipif(not any(b.name == "openvino" and b.available for b in xrt.backends()),
                    reason="the OpenVINO backend is not available")
def test_openvino_refuses_other_kinds_naming_the_type(strings_model):
    with pytest.raises(xrt.Unsupported, match=r"input 's' has type tensor\(string\)"):
        xrt.InferenceSession(strings_model, backend="openvino").run(
            None, {"s": np.array([["a", "b"]]), "t": np.array([["a", "b"]])})
