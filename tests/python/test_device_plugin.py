"""The Python layer and the command line on plugin devices, without a GPU:
the test device plugin puts host memory behind "cuda:0" and "cuda:1" (with
no kernels), loaded through XRT_PLUGIN_PATH in a child process. Tensors,
copies, pinned memory, streams, events, DLPack and the CUDA array interface
take the same paths as on a GPU; `info` lists the devices and `demo` says
which ops it could not run instead of failing."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import xpuruntime as xrt

PLUGIN_SOURCE = Path(__file__).resolve().parents[1] / "plugins" / "device" / "testdevice_plugin.c"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    if not shutil.which("cc"):
        pytest.skip("needs a C compiler")
    plugin = tmp_path_factory.mktemp("plugin") / "libxrt_testdevice.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", f"-I{xrt.get_include()}",
                    str(PLUGIN_SOURCE), "-o", str(plugin)], check=True)
    return dict(os.environ, XRT_PLUGIN_PATH=str(plugin))


PYTHON_API = r"""
import numpy as np
import xpuruntime as xrt

a = np.arange(12, dtype=np.float32).reshape(3, 4)
d = xrt.asarray(a, device="cuda:0")
assert d.device == "cuda:0" and d.strides == (4, 1)
np.testing.assert_array_equal(d.numpy(), a)
np.testing.assert_array_equal(xrt.asarray(a.T, device="cuda:1").numpy(), a.T)
np.testing.assert_array_equal(d.to("cuda:1").numpy(), a)
assert not xrt.zeros((5,), "float16", device="cuda:0").numpy().any()

pinned = xrt.empty((4,), "float32", pinned=True)
np.asarray(pinned)[:] = 7
assert pinned.device == "cpu"
np.testing.assert_array_equal(pinned.to("cuda:0").numpy(), 7)
try:
    xrt.empty((4,), device="cuda:0", pinned=True)
    raise SystemExit("pinned device memory was accepted")
except xrt.InvalidArgument as error:
    assert "host memory" in str(error)

stats = xrt.memory_stats("cuda:0")
assert stats["num_allocs"] > 0 and stats["num_frees"] > 0

stream = xrt.Stream("cuda:0")
start, end = xrt.Event("cuda:0"), xrt.Event("cuda:0")
start.record(stream)
end.record(stream)
assert start.elapsed_time(end) > 0 and end.query()
stream.wait_event(end)
stream.synchronize()
other = xrt.Stream("cuda:1")  # another device of the backend may wait for it
other.wait_event(end)
np.testing.assert_array_equal(d.to("cuda:1", stream=other).numpy(), a)
host_event = xrt.Event("cpu")
host_event.record()
try:
    other.wait_event(host_event)
    raise SystemExit("a device stream waited for a host event")
except xrt.InvalidArgument as error:
    assert "another backend" in str(error)
xrt.synchronize("cuda:0")
assert xrt.Stream.wrap("cuda:0", stream.native_handle).native_handle == stream.native_handle

cai = d.__cuda_array_interface__
assert cai["version"] == 3 and cai["shape"] == (3, 4) and cai["typestr"] == "<f4"
assert cai["strides"] is None and cai["stream"] == 1
assert d.__dlpack_device__() == (2, 0)
back = xrt.from_dlpack(d.__dlpack__(max_version=(1, 0), stream=stream.native_handle))
assert back.device == "cuda:0"
np.testing.assert_array_equal(back.numpy(), a)

try:
    memoryview(d)
    raise SystemExit("a device tensor exported a host buffer")
except BufferError as error:
    assert "cuda:0" in str(error)
try:
    xrt.ops.add(d, d)
    raise SystemExit("an op without a kernel ran")
except xrt.Unsupported as error:
    assert "no kernel for op 'add' on cuda:0" in str(error)
try:
    xrt.ops.add(d, xrt.asarray(a))
    raise SystemExit("operands on two devices were accepted")
except xrt.InvalidArgument as error:
    assert "different devices" in str(error)
print("python api ok")
"""


def test_python_api_on_plugin_devices(plugin_env):
    result = subprocess.run([sys.executable, "-c", PYTHON_API], env=plugin_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "python api ok" in result.stdout


def _cli(env, *args):
    return subprocess.run([sys.executable, "-m", "xpuruntime", *args], env=env,
                          capture_output=True, text=True, timeout=300)


def test_info_lists_plugin_devices(plugin_env):
    result = _cli(plugin_env, "info")
    assert result.returncode == 0, result.stderr
    assert "cuda:1" in result.stdout and "test device 1" in result.stdout


def test_demo_reports_ops_a_device_cannot_run(plugin_env):
    result = _cli(plugin_env, "demo", "--runs", "1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ops on cuda:0" in result.stdout
    assert "not run" in result.stdout and "no kernel for op 'matmul' on cuda:0" in result.stdout


GPU_SESSIONS = r"""
import os
import xpuruntime as xrt

model = os.path.join(os.path.dirname(xrt.__file__), "models", "demo_encoder.onnx")
if "CUDAExecutionProvider" in next(b.details for b in xrt.backends() if b.name == "onnxruntime"):
    raise SystemExit("skip: this onnxruntime has the CUDA provider")
# A CPU-only onnxruntime names the package that brings the GPU providers,
# for ONNX Runtime's CUDA provider and for backend="tensorrt" alike.
for backend, provider in (("auto", "CUDAExecutionProvider"),
                          ("tensorrt", "TensorrtExecutionProvider")):
    try:
        xrt.InferenceSession(model, backend=backend, device="cuda:0")
        raise SystemExit(f"a {backend} session on cuda:0 was created")
    except xrt.Unsupported as error:
        assert provider in str(error) and "onnxruntime-gpu" in str(error), error
try:
    xrt.InferenceSession(model, backend="tensorrt")
    raise SystemExit("backend tensorrt on the CPU was accepted")
except xrt.InvalidArgument as error:
    assert "runs on a CUDA device" in str(error), error
print("gpu sessions ok")
"""


def test_gpu_sessions_need_onnxruntime_gpu(plugin_env):
    result = subprocess.run([sys.executable, "-c", GPU_SESSIONS], env=plugin_env,
                            capture_output=True, text=True, timeout=120)
    if "skip:" in result.stdout + result.stderr:
        pytest.skip(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gpu sessions ok" in result.stdout
