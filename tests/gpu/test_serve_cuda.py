"""`xpuruntime serve --gpus-per-replica`: each replica's session on the GPU
Ray gives it, answers equal to a local cuda:0 session's and a float64
reference. Needs the serve extra, tritonclient and onnxruntime-gpu."""
from __future__ import annotations

import signal

import numpy as np
import pytest
import xpuruntime as xrt

pytest.importorskip("ray.serve", reason="needs the serve extra (ray[serve])")
httpclient = pytest.importorskip("tritonclient.http", reason="needs tritonclient[http]")
pytest.importorskip("onnx", reason="the test models are written with onnx")

from serve_support import Server, make_repository


def _ort_has_cuda():
    return any(b.name == "onnxruntime" and b.available and "CUDAExecutionProvider" in b.details
               for b in xrt.backends())


pytestmark = pytest.mark.skipif(not _ort_has_cuda(),
                                reason="onnxruntime has no CUDAExecutionProvider "
                                       "(pip install onnxruntime-gpu)")


def _gpu_count():
    count = 0
    while True:
        try:
            xrt.Device(f"cuda:{count}")
        except xrt.Error:
            return count
        count += 1


@pytest.mark.parametrize("replicas", [1, 2])
def test_replicas_on_gpus_answer_like_a_local_session(tmp_path, rng, replicas):
    if replicas > _gpu_count():
        pytest.skip(f"{replicas} replicas of one GPU each need {replicas} GPUs")
    repository = make_repository(tmp_path)
    server = Server(repository, "--gpus-per-replica", 1, "--replicas", replicas)
    try:
        client = httpclient.InferenceServerClient(server.url[len("http://"):], concurrency=16)
        metadata = client.get_model_metadata("mlp")
        assert metadata["parameters"]["device"] == "cuda:0"
        rows = [rng.standard_normal((1, 8), dtype=np.float32) for _ in range(64)]
        pending = []
        for x in rows:
            tensor = httpclient.InferInput("x", [1, 8], "FP32")
            tensor.set_data_from_numpy(x, binary_data=True)
            pending.append(client.async_infer("mlp", [tensor]))
        got = np.concatenate([p.get_result().as_numpy("y") for p in pending])
        x = np.concatenate(rows)
        with xrt.InferenceSession(str(repository / "mlp" / "2" / "model.onnx"),
                                  device="cuda:0") as session:
            local = session.run(None, {"x": x})[0]
        np.testing.assert_allclose(got, local, rtol=1e-5, atol=1e-5)
        with xrt.InferenceSession(str(repository / "mlp" / "2" / "model.onnx")) as cpu:
            np.testing.assert_allclose(got, cpu.run(None, {"x": x})[0], rtol=1e-3, atol=1e-4)
        stats = client.get_inference_statistics("mlp", "2")["model_stats"][0]
        assert stats["inference_count"] > 0
        client.close()
    finally:
        code, left = server.stop(signal.SIGTERM)
    assert code == 0, "".join(server.output)
    assert not left, left
