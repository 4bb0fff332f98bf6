"""The OpenVINO backend plugin: models built with the onnx helper API, run
through backend="openvino" and checked against ONNX Runtime / numpy."""

import pathlib
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

pytest.importorskip("openvino", reason="the OpenVINO plugin needs the openvino package")
onnx = pytest.importorskip("onnx", reason="the tests build their models with the onnx package")
from onnx import TensorProto, helper  # noqa: E402

import xpuruntime as xrt  # noqa: E402

_OV = [b for b in xrt.backends() if b.name == "openvino"]
pytestmark = pytest.mark.skipif(
    not _OV or not _OV[0].available,
    reason="the openvino backend is not listed available: "
    + (_OV[0].reason if _OV else "plugin not built"))

DEMO_MODEL = pathlib.Path(xrt.__file__).parent / "models" / "demo_encoder.onnx"


def _model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "test", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@pytest.fixture(scope="module")
def add_model():
    return _model([helper.make_node("Add", ["a", "b"], ["c"])],
                  [helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 4]),
                   helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 4])],
                  [helper.make_tensor_value_info("c", TensorProto.FLOAT, ["batch", 4])])


def test_listed_with_version_and_devices():
    (info,) = _OV
    assert info.runs_models and info.version
    assert info.details.startswith("devices: ") and "CPU" in info.details


def test_add_with_batch_dim(add_model):
    rng = np.random.default_rng(0)
    with xrt.InferenceSession(add_model, backend="openvino") as s:
        assert [(i.name, i.shape, i.type) for i in s.get_inputs()] == [
            ("a", [None, 4], "tensor(float)"), ("b", [None, 4], "tensor(float)")] or \
            [i.name for i in s.get_inputs()] == ["a", "b"]
        for batch in (1, 3, 7):
            a = rng.standard_normal((batch, 4), dtype=np.float32)
            b = rng.standard_normal((batch, 4), dtype=np.float32)
            (c,) = s.run(None, {"a": a, "b": b})
            np.testing.assert_allclose(c, a + b, rtol=1e-6)


def test_mlp(add_model):
    rng = np.random.default_rng(1)
    w1 = rng.standard_normal((8, 16), dtype=np.float32)
    b1 = rng.standard_normal(16, dtype=np.float32)
    w2 = rng.standard_normal((16, 3), dtype=np.float32)
    model = _model(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("Add", ["h", "b1"], ["hb"]),
         helper.make_node("Relu", ["hb"], ["r"]), helper.make_node("MatMul", ["r", "w2"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
        [onnx.numpy_helper.from_array(w1, "w1"), onnx.numpy_helper.from_array(b1, "b1"),
         onnx.numpy_helper.from_array(w2, "w2")])
    x = rng.standard_normal((5, 8), dtype=np.float32)
    with xrt.InferenceSession(model, backend="openvino") as s:
        (y,) = s.run(["y"], {"x": x})
    np.testing.assert_allclose(y, np.maximum(x @ w1 + b1, 0) @ w2, rtol=1e-4, atol=1e-4)


def _mlp_as_ir(tmp_path):
    """The demo encoder converted to OpenVINO IR: model.xml and model.bin."""
    import openvino

    xml = tmp_path / "model.xml"
    openvino.save_model(openvino.Core().read_model(str(DEMO_MODEL)), str(xml),
                        compress_to_fp16=False)
    return xml, tmp_path / "model.bin"


def _identity_model(elem):
    # Opset 19: Identity's float8 types.
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "identity",
                              [helper.make_tensor_value_info("x", elem, [3, "n"])],
                              [helper.make_tensor_value_info("y", elem, [3, "n"])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    return model.SerializeToString()


@pytest.mark.parametrize("elem, dtype, ort_type", [
    (TensorProto.UINT16, np.dtype(np.uint16), "tensor(uint16)"),
    (TensorProto.UINT32, np.dtype(np.uint32), "tensor(uint32)"),
    (TensorProto.UINT64, np.dtype(np.uint64), "tensor(uint64)"),
    (TensorProto.FLOAT8E4M3FN, np.dtype(ml_dtypes.float8_e4m3fn), "tensor(float8e4m3fn)"),
    (TensorProto.FLOAT8E5M2, np.dtype(ml_dtypes.float8_e5m2), "tensor(float8e5m2)"),
], ids=lambda v: v.name if isinstance(v, np.dtype) else "")
def test_identity_of_the_newer_dtypes_is_bit_exact(elem, dtype, ort_type, rng):
    with xrt.InferenceSession(_identity_model(elem), backend="openvino") as s:
        assert s.get_inputs()[0].type == s.get_outputs()[0].type == ort_type
        x = rng.integers(0, 256, (3, 7 * dtype.itemsize), dtype=np.uint8).view(dtype)
        (y,) = s.run(None, {"x": x})
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.view(np.uint8), x.view(np.uint8))


@pytest.mark.parametrize("elem, name", [(TensorProto.FLOAT8E4M3FNUZ, "float8_e4m3fnuz"),
                                        (TensorProto.FLOAT8E5M2FNUZ, "float8_e5m2fnuz")])
def test_fnuz_float8_is_unsupported_by_name(elem, name):
    with pytest.raises(xrt.Unsupported, match=f"dtype {name}, which OpenVINO does not support"):
        xrt.InferenceSession(_identity_model(elem), backend="openvino")


def test_ir_from_path_and_from_bytes_with_weights(tmp_path):
    xml, weights = _mlp_as_ir(tmp_path)
    tokens = np.random.default_rng(3).standard_normal((1, 5, 64), dtype=np.float32)
    with xrt.InferenceSession(DEMO_MODEL, backend="openvino") as s:
        (expected,) = s.run(None, {"tokens": tokens})
    with xrt.InferenceSession(str(xml), backend="openvino") as s:  # finds model.bin beside it
        np.testing.assert_allclose(s.run(None, {"tokens": tokens})[0], expected, atol=1e-5)
    with xrt.InferenceSession(xml.read_bytes(), backend="openvino",
                              weights_path=str(weights), cache_dir=str(tmp_path / "cache")) as s:
        np.testing.assert_allclose(s.run(None, {"tokens": tokens})[0], expected, atol=1e-5)
    with pytest.raises(xrt.NotFound, match="cannot read weights_path '/nonexistent.bin': No such"):
        xrt.InferenceSession(xml.read_bytes(), backend="openvino", weights_path="/nonexistent.bin")
    with pytest.raises(xrt.NotFound, match=f"cannot read weights_path '{tmp_path}': it is a "
                                           "directory"):
        xrt.InferenceSession(xml.read_bytes(), backend="openvino", weights_path=str(tmp_path))


def test_a_folder_for_a_cached_model_is_named(tmp_path):
    """With a cache the model is read for its key first; a folder there
    reaches OpenVINO's own refusal, not an InternalError."""
    with pytest.raises(xrt.InvalidArgument, match="openvino"):
        xrt.InferenceSession(tmp_path, backend="openvino", cache_dir=str(tmp_path / "cache"))


def test_demo_model_agrees_with_onnxruntime():
    tokens = np.random.default_rng(2).standard_normal((2, 9, 64), dtype=np.float32)
    with xrt.InferenceSession(DEMO_MODEL, backend="onnxruntime") as s:
        (expected,) = s.run(None, {"tokens": tokens})
    with xrt.InferenceSession(DEMO_MODEL, backend="openvino") as s:
        (got,) = s.run(None, {"tokens": tokens})
    assert got.shape == expected.shape == (2, 9, 64)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-4)


def test_cache_dir(add_model, tmp_path):
    a = np.ones((2, 4), np.float32)
    with xrt.InferenceSession(add_model, backend="openvino", cache_dir=str(tmp_path)) as s:
        (c,) = s.run(None, {"a": a, "b": a})
    np.testing.assert_array_equal(c, 2 * a)
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 1


def test_profiling_puts_openvino_node_spans_in_the_trace():
    rng = np.random.default_rng()
    with xrt.Profiler() as prof:
        with xrt.InferenceSession(str(DEMO_MODEL), backend="openvino",
                                  enable_profiling=True) as s:
            inputs = {i.name: rng.standard_normal([d or 2 for d in i.shape]).astype(np.float32)
                      for i in s.get_inputs()}
            s.run(None, inputs)
            s.run(None, inputs)
    events = prof.events()
    runs = [e for e in events if e.get("name") == "session.run"]
    nodes = [e for e in events if e.get("cat") == "openvino.Node"]
    assert len(runs) == 2 and nodes
    assert all(e["args"]["device"] == "CPU" and e["args"]["op"] for e in nodes)
    # OpenVINO names the ops it compiled to (a MatMul becomes FullyConnected).
    assert any(e["args"]["op"] in ("MatMul", "FullyConnected") for e in nodes)
    # Each run's spans lie within that run, one after another.
    for run in runs:
        inside = [n for n in nodes if run["ts"] - 1 <= n["ts"] <= run["ts"] + run["dur"]]
        assert inside and all(n["ts"] + n["dur"] <= run["ts"] + run["dur"] + 50 for n in inside)
    assert all(int(n["args"]["real_time_us"]) >= 0 for n in nodes)


def test_every_option_at_once(add_model, tmp_path):
    a = np.ones((2, 4), np.float32)
    with xrt.InferenceSession(add_model, backend="openvino", openvino_device="CPU",
                              cache_dir=str(tmp_path), precision_hint="f32", num_streams=1,
                              inference_num_threads=1, enable_profiling=True) as s:
        np.testing.assert_array_equal(s.run(None, {"a": a, "b": a})[0], 2 * a)


def test_profiling_option_is_checked(add_model):
    with pytest.raises(xrt.InvalidArgument, match="enable_profiling must be 0 or 1"):
        xrt.InferenceSession(add_model, backend="openvino", enable_profiling="yes")


def test_unknown_device(add_model):
    with pytest.raises(xrt.NotFound, match="NO_SUCH_DEVICE.*CPU"):
        xrt.InferenceSession(add_model, backend="openvino", openvino_device="NO_SUCH_DEVICE")


def test_corrupt_bytes(add_model):
    with pytest.raises(xrt.InvalidArgument, match="openvino"):
        xrt.InferenceSession(b"\x08\x07garbage, not a model" + add_model[:10], backend="openvino")


def test_unknown_option(add_model):
    with pytest.raises(xrt.InvalidArgument, match="no_such_option.*openvino_device"):
        xrt.InferenceSession(add_model, backend="openvino", no_such_option=1)


def test_compare_includes_openvino():
    result = subprocess.run(
        [sys.executable, "-m", "xpuruntime", "compare", str(DEMO_MODEL), "--dim", "seq=4"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "openvino" in result.stdout and "FAIL" not in result.stdout


def test_openvino_devices_are_registered_as_found(add_model):
    # The plugin lists OpenVINO's NPUs and Intel GPUs as devices "npu:N" and
    # "gpu:N", one per device OpenVINO has, and nothing where it has none.
    import openvino as ov
    have = ov.Core().available_devices
    for kind, family in (("npu", "NPU"), ("gpu", "GPU")):
        found = [d for d in have if d.split(".")[0] == family]
        listed = [d for d in xrt.devices() if d.kind == kind]
        assert [d.name for d in listed] == [f"{kind}:{i}" for i in range(len(found))]
        assert all(d.host_memory and d.description == f"OpenVINO {name}"
                   for d, name in zip(listed, found))
        if found:
            with xrt.InferenceSession(add_model, device=f"{kind}:0") as s:
                assert s.backend == "openvino" and s.device == f"{kind}:0"
                a = np.ones((2, 4), np.float32)
                np.testing.assert_allclose(s.run(None, {"a": a, "b": a})[0], 2 * a, rtol=1e-3)
        else:
            # An absent kind is not registered: the device lookup says so,
            # naming the kind, before any backend is asked.
            with pytest.raises(xrt.NotFound, match=rf"no loaded backend brings device kind '{kind}'"):
                xrt.InferenceSession(add_model, device=f"{kind}:0")

