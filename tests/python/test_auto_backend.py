"""backend="auto": every backend that can serve the device runs the model,
the policy picks, the choice is cached beside the engine caches. Real
backends (ONNX Runtime, OpenVINO where installed), no stand-ins."""

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="the models are built with the onnx package")
from onnx import TensorProto, helper  # noqa: E402

import xpuruntime as xrt  # noqa: E402

MODEL_BACKENDS = [b.name for b in xrt.backends() if b.available and b.runs_models]
pytestmark = pytest.mark.skipif(not MODEL_BACKENDS, reason="no backend runs models here")
TWO_BACKENDS = pytest.mark.skipif(
    len(MODEL_BACKENDS) < 2, reason=f"needs two backends that run models, have {MODEL_BACKENDS}")


def _model(scale):
    """y = relu(x * scale) + x, x (batch, 8): `scale` makes each model's bytes
    (and so its cache key) its own."""
    nodes = [
        helper.make_node("Mul", ["x", "s"], ["m"]),
        helper.make_node("Relu", ["m"], ["r"]),
        helper.make_node("Add", ["r", "x"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "auto",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])],
        [helper.make_tensor("s", TensorProto.FLOAT, [1], [scale])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XRT_CACHE_DIR", str(tmp_path))
    return tmp_path


def _check_runs(sess, scale, rng):
    x = rng.standard_normal((3, 8)).astype(np.float32)
    (y,) = sess.run(None, {"x": x})
    expect = np.maximum(x.astype(np.float64) * scale, 0) + x
    np.testing.assert_allclose(y, expect, rtol=1e-6, atol=1e-6)


@TWO_BACKENDS
@pytest.mark.parametrize("policy", ["latency", "throughput"])
def test_measures_every_candidate_and_keeps_the_best(cache_dir, rng, policy):
    sess = xrt.InferenceSession(_model(1.5), policy=policy)
    report = sess.selection
    assert report["policy"] == policy and report["cached"] is False
    assert report["cost_ms"] > 0
    measured = {c["candidate"]: c for c in report["candidates"]}
    assert set(MODEL_BACKENDS) <= set(measured)
    for c in measured.values():
        assert "error" not in c, c
        assert c["runs"] >= 3 and c["median_us"] > 0 and c["runs_per_s"] > 0
    key = "median_us" if policy == "latency" else "runs_per_s"
    pick = min if policy == "latency" else max
    best = pick(measured.values(), key=lambda c: c[key])
    assert report["chosen"] == best["candidate"] == sess.backend
    _check_runs(sess, 1.5, rng)


@TWO_BACKENDS
def test_the_second_session_reads_the_cache(cache_dir, rng):
    first = xrt.InferenceSession(_model(2.0))
    second = xrt.InferenceSession(_model(2.0))
    assert second.selection["cached"] is True
    assert second.backend == first.backend == second.selection["chosen"]
    assert second.selection["candidates"] == first.selection["candidates"]
    assert list((cache_dir / "auto").iterdir()), "the choice was not stored"
    _check_runs(second, 2.0, rng)


@TWO_BACKENDS
def test_the_key_changes_with_model_and_policy(cache_dir):
    xrt.InferenceSession(_model(3.0))
    assert xrt.InferenceSession(_model(3.5)).selection["cached"] is False
    assert xrt.InferenceSession(_model(3.0), policy="throughput").selection["cached"] is False
    assert len(list((cache_dir / "auto").iterdir())) == 3


@TWO_BACKENDS
def test_a_candidate_that_refuses_the_options_is_reported(cache_dir):
    # intra_op_num_threads is ONNX Runtime's option; OpenVINO refuses it.
    sess = xrt.InferenceSession(_model(4.0), intra_op_num_threads=1)
    assert sess.backend == "onnxruntime"
    refused = [c for c in sess.selection["candidates"] if "error" in c]
    assert refused and all("intra_op_num_threads" in c["error"] for c in refused)


@TWO_BACKENDS
@pytest.mark.skipif("onnxruntime" not in MODEL_BACKENDS, reason="needs ONNX Runtime")
def test_a_sequence_input_is_not_measured_and_the_model_still_runs(cache_dir):
    # No zero value stands for a sequence: ONNX Runtime loads the model but
    # is not timed; OpenVINO (tensors only) cannot load it. The one that
    # loaded serves, and the report says why nothing was measured.
    graph = helper.make_graph(
        [helper.make_node("SequenceLength", ["xs"], ["n"])], "seq",
        [helper.make_tensor_sequence_value_info("xs", TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info("n", TensorProto.INT64, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    sess = xrt.InferenceSession(model.SerializeToString())
    assert sess.backend == "onnxruntime"
    ort = next(c for c in sess.selection["candidates"] if c["candidate"] == "onnxruntime")
    assert "'xs'" in ort["error"] and "not measured" in ort["error"]
    (n,) = sess.run(None, {"xs": [np.zeros(3, np.float32), np.ones(2, np.float32)]})
    assert n == 2
    assert not (cache_dir / "auto").exists()  # nothing measured, nothing cached


def test_first_policy_takes_the_first_backend_unmeasured(cache_dir):
    sess = xrt.InferenceSession(_model(5.0), policy="first")
    assert sess.backend == MODEL_BACKENDS[0]
    (only,) = sess.selection["candidates"]
    assert "median_us" not in only
    assert not (cache_dir / "auto").exists()


def test_prefer_npu_without_an_npu_is_latency(cache_dir):
    sess = xrt.InferenceSession(_model(6.0), policy="prefer_npu")
    measured = [c for c in sess.selection["candidates"] if "median_us" in c]
    if len(measured) > 1:
        assert sess.backend == min(measured, key=lambda c: c["median_us"])["candidate"]


def test_unknown_policy_names_it_and_the_allowed_ones(cache_dir):
    with pytest.raises(xrt.InvalidArgument) as info:
        xrt.InferenceSession(_model(7.0), policy="fastest")
    for word in ("'fastest'", "latency", "throughput", "prefer_npu", "first"):
        assert word in str(info.value)


def test_policy_with_a_named_backend_is_refused():
    with pytest.raises(xrt.InvalidArgument, match="needs backend 'auto'"):
        xrt.InferenceSession(_model(8.0), backend=MODEL_BACKENDS[0], policy="latency")


def test_a_named_backend_has_no_selection():
    assert xrt.InferenceSession(_model(9.0), backend=MODEL_BACKENDS[0]).selection is None


@TWO_BACKENDS
def test_an_unusable_cache_folder_still_gives_a_session(tmp_path, monkeypatch, capfd):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XRT_CACHE_DIR", str(blocker))
    sess = xrt.InferenceSession(_model(10.0))
    assert sess.selection["cached"] is False
    assert "measures again next time" in capfd.readouterr().err


@TWO_BACKENDS
def test_candidates_span_the_profiler_trace(cache_dir, tmp_path):
    with xrt.Profiler() as prof:
        sess = xrt.InferenceSession(_model(11.0))
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    events = json.loads(path.read_text())
    events = events["traceEvents"] if isinstance(events, dict) else events
    spans = [e for e in events if e.get("name") == "session.auto_candidate"]
    assert {e["args"]["candidate"] for e in spans} == {
        c["candidate"] for c in sess.selection["candidates"]}
    assert all(float(e["args"]["median_us"]) > 0 for e in spans)
    (choice,) = [e for e in events if e.get("name") == "session.auto_select"]
    assert choice["args"]["chosen"] == sess.backend
