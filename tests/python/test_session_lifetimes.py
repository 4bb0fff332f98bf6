"""Sessions and the memory of their inputs and outputs: outputs never share
an input's memory, a session closed in the middle of its own run finishes
that run, and odd feeds end in typed errors."""

import collections.abc
import gc

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the session tests build their models with the onnx package")
from onnx import TensorProto, helper  # noqa: E402

import xpuruntime as xrt  # noqa: E402

pytestmark = pytest.mark.skipif(
    not any(b.available and b.name == "onnxruntime" for b in xrt.backends()),
    reason="the ONNX Runtime backend is not available")


def _model(nodes, inputs, outputs):
    graph = helper.make_graph(nodes, "lifetimes", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def _value(name):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", 4])


# Output is the input itself (no node), or through an Identity ONNX Runtime
# removes; both hand back the caller's buffer from the backend.
PASS_THROUGH = {
    "graph_output_is_input": lambda: _model([], [_value("x")], [_value("x")]),
    "identity": lambda: _model([helper.make_node("Identity", ["x"], ["y"])],
                               [_value("x")], [_value("y")]),
    "two_identities": lambda: _model(
        [helper.make_node("Identity", ["x"], ["y"]), helper.make_node("Identity", ["x"], ["z"])],
        [_value("x")], [_value("y"), _value("z")]),
}


@pytest.mark.parametrize("kind", sorted(PASS_THROUGH))
def test_outputs_never_alias_inputs(kind, rng):
    session = xrt.InferenceSession(PASS_THROUGH[kind](), backend="onnxruntime")
    data = rng.standard_normal((3, 4)).astype(np.float32)
    feed = data.copy()
    outputs = session.run(None, {"x": feed})
    for out in outputs:
        assert not np.shares_memory(out, feed)
        np.testing.assert_array_equal(out, data)
    if len(outputs) == 2:
        assert not np.shares_memory(outputs[0], outputs[1])
    # The input's memory going away leaves the outputs intact.
    del feed
    gc.collect()
    for out in outputs:
        np.testing.assert_array_equal(out, data)


def test_read_only_input_stays_read_only(rng):
    session = xrt.InferenceSession(PASS_THROUGH["graph_output_is_input"](),
                                   backend="onnxruntime")
    data = rng.standard_normal((2, 4)).astype(np.float32)
    frozen = data.copy()
    frozen.flags.writeable = False
    (out,) = session.run(None, {"x": frozen})
    assert out.flags.writeable
    out[...] = 0  # the output is the caller's own array
    np.testing.assert_array_equal(frozen, data)


def test_session_closed_by_an_input_conversion_finishes_the_run(rng):
    session = xrt.InferenceSession(PASS_THROUGH["identity"](), backend="onnxruntime")
    data = rng.standard_normal((2, 4)).astype(np.float32)

    class ClosesSession:
        def __array__(self, dtype=None, copy=None):
            session.close()
            return data

    (out,) = session.run(None, {"x": ClosesSession()})
    np.testing.assert_array_equal(out, data)
    with pytest.raises(xrt.InvalidArgument, match="session is closed"):
        session.run(None, {"x": data})


def test_session_cannot_be_reinitialised_after_close():
    session = xrt.InferenceSession(PASS_THROUGH["identity"](), backend="onnxruntime")
    session.close()
    with pytest.raises(xrt.InvalidArgument, match="already initialised"):
        session.__init__(PASS_THROUGH["identity"](), backend="onnxruntime")


class _LyingMapping(collections.abc.Mapping):
    """len() says one input, items() yields two."""

    def __init__(self, items):
        self._items = dict(items)

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return 1


def test_feed_whose_len_disagrees_with_items_is_read_once(rng):
    model = _model([helper.make_node("Add", ["a", "b"], ["c"])],
                   [_value("a"), _value("b")], [_value("c")])
    session = xrt.InferenceSession(model, backend="onnxruntime")
    a = rng.standard_normal((2, 4)).astype(np.float32)
    b = rng.standard_normal((2, 4)).astype(np.float32)
    (out,) = session.run(None, _LyingMapping({"a": a, "b": b}))
    np.testing.assert_allclose(out, a + b, rtol=1e-6)
    with pytest.raises(xrt.InvalidArgument, match="unknown input 'nope'"):
        session.run(None, _LyingMapping({"a": a, "b": b, "nope": b}))
