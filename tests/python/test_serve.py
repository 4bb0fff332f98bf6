"""`xpuruntime serve` end to end: the official Triton HTTP client against a
repository served on a local Ray instance bound to 127.0.0.1."""
from __future__ import annotations

import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xpuruntime as xrt

pytest.importorskip("ray.serve", reason="needs the serve extra (ray[serve])")
httpclient = pytest.importorskip("tritonclient.http", reason="needs tritonclient[http]")
pytest.importorskip("onnx", reason="the test models are written with onnx")
import gevent
from serve_support import DEMO_MODEL, Server, command_line, descendants, make_repository
from tritonclient.utils import InferenceServerException

pytestmark = pytest.mark.skipif(
    not any(b.available and b.runs_models for b in xrt.backends()),
    reason="no backend runs models (onnxruntime not installed or its plugin not built)")

MAX_REQUEST_BYTES = 1 << 20


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    return make_repository(tmp_path_factory.mktemp("repository"))


@pytest.fixture(scope="module")
def server(repository):
    # A wait long enough for concurrent requests to meet on a loaded 2-core box.
    server = Server(repository, "--max-batch", 8, "--batch-wait-ms", 20,
                    "--max-request-bytes", MAX_REQUEST_BYTES)
    yield server
    if server.process.poll() is None:
        server.stop()


@pytest.fixture
def client(server):
    client = httpclient.InferenceServerClient(server.url[len("http://"):], concurrency=16)
    yield client
    client.close()


def served_backend(client, model, version=""):
    """The backend the server's auto chose for a model: a local session on
    another backend could differ in the last bit."""
    return client.get_model_metadata(model, version)["parameters"]["backend"]


def local_outputs(client, repository, model, version, feed):
    path = repository / model / version / "model.onnx"
    backend = served_backend(client, model, version)
    with xrt.InferenceSession(str(path), backend=backend) as session:
        names = [o.name for o in session.get_outputs()]
        return dict(zip(names, session.run(None, feed)))


def infer_input(name, array, binary):
    tensor = httpclient.InferInput(name, list(array.shape), _datatype(array))
    tensor.set_data_from_numpy(array, binary_data=binary)
    return tensor


def _datatype(array):
    return {"float32": "FP32", "float64": "FP64", "int64": "INT64", "int32": "INT32"}[
        array.dtype.name]


def post(server, path, body, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("POST", path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# ---- health and metadata ----------------------------------------------------

def test_import_xpuruntime_does_not_import_ray():
    code = "import sys, xpuruntime; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_health_and_server_metadata(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    metadata = client.get_server_metadata()
    assert metadata["name"] == "xpuruntime"
    assert metadata["version"] == xrt.__version__
    assert "binary_tensor_data" in metadata["extensions"]


def test_model_metadata_comes_from_the_session(client, repository):
    metadata = client.get_model_metadata("mlp")
    assert metadata["versions"] == ["1", "2"]
    assert metadata["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 8]}]
    assert metadata["outputs"] == [{"name": "y", "datatype": "FP32", "shape": [-1, 4]},
                                   {"name": "s", "datatype": "FP32", "shape": [-1, 1]}]
    assert metadata["parameters"]["dynamic_batching"] is True
    encoder = client.get_model_metadata("encoder", "1")
    assert encoder["inputs"] == [{"name": "tokens", "datatype": "FP32", "shape": [-1, -1, 64]}]
    assert client.is_model_ready("mlp") and client.is_model_ready("mlp", "1")
    assert client.is_model_ready("encoder")


def test_model_that_fails_to_load_is_not_ready_and_says_why(client):
    assert not client.is_model_ready("broken")
    metadata = client.get_model_metadata("broken")
    assert metadata["state"] == "UNAVAILABLE"
    assert "broken" in metadata["reason"] or "model" in metadata["reason"].lower()
    index = {m["name"]: m for m in client.get_model_repository_index()}
    assert index["mlp"]["state"] == "READY" and index["broken"]["state"] == "UNAVAILABLE"
    with pytest.raises(InferenceServerException) as error:
        client.infer("broken", [infer_input("x", np.zeros((1, 8), np.float32), True)])
    assert error.value.status() == "400" and "not ready" in error.value.message()


# ---- inference ---------------------------------------------------------------

@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
def test_outputs_equal_a_local_session(client, repository, rng, binary):
    x = rng.standard_normal((3, 8), dtype=np.float32)
    want = local_outputs(client, repository, "mlp", "2", {"x": x})
    outputs = [httpclient.InferRequestedOutput(n, binary_data=binary) for n in ("y", "s")]
    result = client.infer("mlp", [infer_input("x", x, binary)], outputs=outputs)
    assert result.get_response()["model_version"] == "2"
    for name in ("y", "s"):
        np.testing.assert_array_equal(result.as_numpy(name), want[name])


def test_versions_are_served_apart(client, repository, rng):
    x = rng.standard_normal((2, 8), dtype=np.float32)
    for version in ("1", "2"):
        want = local_outputs(client, repository, "mlp", version, {"x": x})
        result = client.infer("mlp", [infer_input("x", x, True)], model_version=version)
        np.testing.assert_array_equal(result.as_numpy("y"), want["y"])
        assert result.get_response()["model_version"] == version


def test_second_model_in_two_sequence_lengths(client, rng):
    backend = served_backend(client, "encoder")
    with xrt.InferenceSession(str(DEMO_MODEL), backend=backend) as session:
        for shape in ((2, 16, 64), (1, 5, 64)):
            tokens = rng.standard_normal(shape, dtype=np.float32)
            want = session.run(None, {"tokens": tokens})[0]
            result = client.infer("encoder", [infer_input("tokens", tokens, True)])
            np.testing.assert_array_equal(result.as_numpy("hidden"), want)


def test_requested_output_only(client, rng):
    x = rng.standard_normal((1, 8), dtype=np.float32)
    result = client.infer("mlp", [infer_input("x", x, False)],
                          outputs=[httpclient.InferRequestedOutput("s", binary_data=False)])
    assert [o["name"] for o in result.get_response()["outputs"]] == ["s"]
    np.testing.assert_allclose(result.as_numpy("s"), x.sum(1, keepdims=True), rtol=1e-5)


def test_compressed_request(client, repository, rng):
    x = rng.standard_normal((2, 8), dtype=np.float32)
    want = local_outputs(client, repository, "mlp", "2", {"x": x})
    for algorithm in ("gzip", "deflate"):
        result = client.infer("mlp", [infer_input("x", x, True)],
                              request_compression_algorithm=algorithm)
        np.testing.assert_array_equal(result.as_numpy("y"), want["y"])


def test_concurrent_clients_are_batched(client, repository, rng):
    rows = [rng.standard_normal((1, 8), dtype=np.float32) for _ in range(96)]
    before = client.get_inference_statistics("mlp", "2")["model_stats"][0]
    pending = [client.async_infer("mlp", [infer_input("x", x, True)]) for x in rows]
    results = [p.get_result() for p in pending]
    want = local_outputs(client, repository, "mlp", "2", {"x": np.concatenate(rows)})
    got = np.concatenate([r.as_numpy("y") for r in results])
    np.testing.assert_allclose(got, want["y"], rtol=1e-6, atol=1e-6)
    after = client.get_inference_statistics("mlp", "2")["model_stats"][0]
    every = client.get_inference_statistics()["model_stats"]
    assert {(m["name"], m["version"]) for m in every} >= {("mlp", "1"), ("mlp", "2"),
                                                          ("encoder", "1")}
    requests = after["inference_count"] - before["inference_count"]
    runs = after["execution_count"] - before["execution_count"]
    assert requests == len(rows)
    assert runs < requests, f"{requests} requests took {runs} session runs: nothing batched"


def test_profile_parameter_returns_a_trace(client, rng):
    x = rng.standard_normal((1, 8), dtype=np.float32)
    result = client.infer("mlp", [infer_input("x", x, True)], parameters={"profile": True})
    path = result.get_response()["parameters"]["profile_trace"]
    with open(path, encoding="utf-8") as f:
        trace = json.load(f)
    os.remove(path)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    assert [e for e in events if e.get("name") == "session.run"], events


# ---- bad requests: an error status that names the problem, and still serving ----

def expect_error(call, status, *words):
    with pytest.raises(InferenceServerException) as error:
        call()
    assert error.value.status() == str(status), error.value.message()
    for word in words:
        assert word in error.value.message(), error.value.message()


def test_bad_requests_name_the_bad_value(client, rng):
    x = rng.standard_normal((1, 8), dtype=np.float32)
    expect_error(lambda: client.infer("nope", [infer_input("x", x, True)]), 404, "'nope'")
    expect_error(lambda: client.infer("mlp", [infer_input("x", x, True)], model_version="7"),
                 404, "'7'")
    expect_error(lambda: client.infer("mlp", [infer_input("q", x, True)]), 400, "'q'", "x")
    expect_error(lambda: client.infer("mlp", [infer_input("x", x.astype(np.float64), False)]),
                 400, "FP64", "FP32")
    expect_error(lambda: client.infer("mlp", [infer_input("x", x[:, :5].copy(), True)]),
                 400, "[1, 5]", "[-1, 8]")
    expect_error(lambda: client.infer("mlp", [infer_input("x", x, True)],
                                      outputs=[httpclient.InferRequestedOutput("zz")]),
                 400, "'zz'")
    expect_error(lambda: client.get_model_metadata("nope"), 404, "'nope'")
    assert not client.is_model_ready("nope")


def test_malformed_bodies(server, client):
    status, body = post(server, "/v2/models/mlp/infer", b"{not json")
    assert status == 400 and "not valid JSON" in json.loads(body)["error"]
    status, body = post(server, "/v2/models/mlp/infer", b"[1, 2]")
    assert status == 400 and "JSON object" in json.loads(body)["error"]
    request = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 8], "data": [1.0] * 7}]}
    status, body = post(server, "/v2/models/mlp/infer", json.dumps(request).encode())
    assert status == 400 and "7 values" in json.loads(body)["error"]
    request["inputs"][0].update(datatype="FP99")
    status, body = post(server, "/v2/models/mlp/infer", json.dumps(request).encode())
    assert status == 400 and "'FP99'" in json.loads(body)["error"]
    status, body = post(server, "/v2/models/mlp/infer", gzip.compress(b"x")[:5],
                        {"Content-Encoding": "gzip"})
    assert status == 400 and "gzip" in json.loads(body)["error"]
    assert client.is_server_live() and client.is_model_ready("mlp")


def test_binary_sizes_that_disagree(server, client):
    header = json.dumps({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 8],
                                     "parameters": {"binary_data_size": 32}}]}).encode()
    data = np.zeros(8, np.float32).tobytes()
    cases = [  # (binary part, header length, words in the message)
        (data, 10 ** 9, ["Inference-Header-Content-Length"]),
        (data[:-4], len(header), ["28"]),
        (data + b"\0" * 4, len(header), ["36", "32"]),
    ]
    for binary, length, words in cases:
        status, body = post(server, "/v2/models/mlp/infer", header + binary,
                            {"Inference-Header-Content-Length": str(length)})
        message = json.loads(body)["error"]
        assert status == 400, message
        for word in words:
            assert word in message, message
    wrong_size = header.replace(b'"binary_data_size": 32', b'"binary_data_size": 16')
    status, body = post(server, "/v2/models/mlp/infer", wrong_size + data[:16],
                        {"Inference-Header-Content-Length": str(len(wrong_size))})
    assert status == 400 and "binary_data_size 16" in json.loads(body)["error"]
    assert client.is_model_ready("mlp")


def test_body_over_the_limit_is_413(server, client):
    big = np.zeros((MAX_REQUEST_BYTES // 32 + 1, 8), np.float32)
    expect_error(lambda: client.infer("mlp", [infer_input("x", big, True)]), 413, "limit")
    assert client.is_model_ready("mlp")


# ---- a replica killed under load, then shutdown --------------------------------

def _replicas(server, app):
    return [p for p in descendants(server.process.pid)
            if f"ServeReplica:{app}:" in command_line(p)]


@pytest.mark.slow
def test_replica_killed_mid_load(server, repository, client, rng):
    xs = rng.standard_normal((64, 1, 8), dtype=np.float32)
    want = local_outputs(client, repository, "mlp", "2", {"x": xs[:, 0]})["y"]
    (victim,) = _replicas(server, "xpuruntime-mlp")
    outcomes = []  # (row, output or None, error or None, sent after the kill)
    state = {"killed": False, "stop": False}

    def load(worker):  # a greenlet: tritonclient's HTTP client runs on gevent
        i = worker
        while not state["stop"]:
            after = state["killed"]
            try:
                y = client.infer("mlp", [infer_input("x", xs[i % len(xs)], True)]).as_numpy("y")
                outcomes.append((i % len(xs), y, None, after))
            except InferenceServerException as error:
                outcomes.append((i % len(xs), None, error, after))
            i += 8

    workers = [gevent.spawn(load, w) for w in range(8)]
    gevent.sleep(1.0)
    before = len(outcomes)
    os.kill(victim, signal.SIGKILL)
    state["killed"] = True
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until the new replica has answered a while
        gevent.sleep(0.5)
        served_again = [o for o in outcomes if o[3] and o[2] is None]
        if len(served_again) >= 20:
            break
    state["stop"] = True
    gevent.joinall(workers, timeout=60)
    assert before > 0, "no load before the kill"
    assert len(served_again) >= 20, "the model never served again after its replica was killed"
    for i, y, error, _after in outcomes:
        if error is None:  # no wrong answer, ever
            np.testing.assert_allclose(y, want[i:i + 1], rtol=1e-6, atol=1e-6)
        else:  # a clear status (Ray's proxy answers 500 for a replica that died)
            assert error.status() in ("500", "502", "503"), (error.status(), error.message())
            assert error.message()
    assert victim not in _replicas(server, "xpuruntime-mlp")


def test_sigterm_stops_cleanly_and_leaves_no_process(server):
    code, left = server.stop(signal.SIGTERM)
    assert code == 0, "".join(server.output)
    assert not left, left


def test_sigint_on_a_single_file_serves_it_under_its_name():
    server = Server(DEMO_MODEL)
    try:
        client = httpclient.InferenceServerClient(server.url[len("http://"):])
        assert client.is_model_ready("demo_encoder")
        client.close()
    finally:
        code, left = server.stop(signal.SIGINT)
    assert code == 0, "".join(server.output)
    assert not left, left
