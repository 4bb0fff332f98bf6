"""xpuruntime.serve.deployment from Python: a model deployment composed into
a user's own Ray Serve application, called through its handle."""
from __future__ import annotations

import os
import time
import urllib.request

import numpy as np
import pytest
import xpuruntime as xrt

serve = pytest.importorskip("ray.serve", reason="needs the serve extra (ray[serve])")
pytest.importorskip("onnx", reason="the test model is written with onnx")
import ray
import xpuruntime.serve as xrt_serve
from serve_support import descendants, free_port, mlp_model

pytestmark = pytest.mark.skipif(
    not any(b.available and b.runs_models for b in xrt.backends()),
    reason="no backend runs models (onnxruntime not installed or its plugin not built)")


@pytest.fixture
def local_ray():
    """A local Ray instance; yields the port of its Prometheus metrics."""
    before = descendants(os.getpid())
    metrics_port = free_port()
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             log_to_driver=False, configure_logging=False, _metrics_export_port=metrics_port)
    try:
        yield metrics_port
    finally:
        serve.shutdown()
        ray.shutdown()
    deadline = time.monotonic() + 30
    while (left := descendants(os.getpid()) - before) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not left, f"Ray left processes behind: {sorted(left)}"


@serve.deployment(ray_actor_options={"num_cpus": 0})
class Doubler:
    """A user's deployment that calls the model deployment it was given."""

    def __init__(self, model):
        self.model = model

    async def __call__(self, x):
        outputs = await self.model.infer.remote({"x": x})
        return outputs["y"] * 2


def test_deployment_composes_into_a_users_application(local_ray, tmp_path, rng):
    path = tmp_path / "mlp.onnx"
    path.write_bytes(mlp_model(seed=3))
    # Both sides name the backend: auto's measured choice may differ between
    # the replica and this process, and outputs are compared bit for bit.
    app = Doubler.bind(xrt_serve.deployment(path, num_cpus=0, backend="onnxruntime"))
    handle = serve.run(app, name="user", route_prefix=None)
    x = rng.standard_normal((4, 8), dtype=np.float32)
    with xrt.InferenceSession(str(path), backend="onnxruntime") as session:
        want = session.run(["y"], {"x": x})[0] * 2
    np.testing.assert_array_equal(handle.remote(x).result(timeout_s=120), want)
    with pytest.raises(xrt_serve.ProtocolError, match="'FP64'|FP64"):
        handle.remote(x.astype(np.float64)).result(timeout_s=120)


def test_requests_and_batches_are_ray_metrics(local_ray, tmp_path, rng):
    path = tmp_path / "mlp.onnx"
    path.write_bytes(mlp_model(seed=4))
    handle = serve.run(xrt_serve.deployment(path, name="counted", num_cpus=0),
                       name="counted", route_prefix=None)
    for _ in range(3):
        handle.infer.remote({"x": rng.standard_normal((2, 8), dtype=np.float32)}).result(
            timeout_s=120)
    wanted = ('ray_xpuruntime_requests_total{', 'ray_xpuruntime_request_latency_ms_bucket{',
              'ray_xpuruntime_batch_size_bucket{')
    deadline = time.monotonic() + 90  # Ray exports metrics every few seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{local_ray}/metrics", timeout=10) as r:
            text = r.read().decode()
        lines = [line for line in text.splitlines() if 'model="counted"' in line]
        if all(any(line.startswith(w) for line in lines) for w in wanted):
            break
        time.sleep(2)
    else:
        pytest.fail("xpuruntime's metrics never reached Ray's Prometheus endpoint:\n"
                    + "\n".join(line for line in text.splitlines() if "xpuruntime" in line))
    count = next(line for line in lines if line.startswith(wanted[0]))
    assert float(count.rsplit(" ", 1)[1]) == 3
