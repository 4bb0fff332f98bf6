"""Device kinds a plugin brings by name, from Python: the testnpu plugin
(tests/plugins/named) registers "npu:0", "gpu:0" and "gpu:1" on host
memory, an add kernel for kind "npu" and sessions that double a float32
vector. InferenceSession(device="npu:0") takes the same path as a CUDA
device: the device is looked up by name, the backend that brought it runs
the model, and inputs and outputs live on that device. Loaded through
XRT_PLUGIN_PATH in a child process."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import xpuruntime as xrt

PLUGIN_SOURCE = Path(__file__).resolve().parents[1] / "plugins" / "named" / "testnpu_plugin.c"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    if not shutil.which("cc"):
        pytest.skip("needs a C compiler")
    plugin = tmp_path_factory.mktemp("plugin") / "libxrt_testnpu.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", f"-I{xrt.get_include()}",
                    str(PLUGIN_SOURCE), "-o", str(plugin)], check=True)
    return dict(os.environ, XRT_PLUGIN_PATH=str(plugin))


NAMED_DEVICES = r"""
import numpy as np
import xpuruntime as xrt

npu = xrt.Device("npu:0")
assert npu.kind == "npu" and npu.index == 0 and npu.host_memory
assert npu.description == "test NPU"
assert xrt.Device("npu") == npu
# (a GPU host lists its CUDA devices too)
assert [d.name for d in xrt.devices() if d.kind != "cuda"] == ["cpu", "npu:0", "gpu:0", "gpu:1"]
assert xrt.Device("cpu").kind == "cpu" and xrt.Device("cpu").host_memory

# Host-memory tensors: numpy reads them in place, copies go any way.
a = np.arange(6, dtype=np.float32)
t = xrt.asarray(a, device="npu:0")
assert t.device == "npu:0"
np.testing.assert_array_equal(np.asarray(t), a)
np.testing.assert_array_equal(t.to("gpu:1").to("cpu").numpy(), a)
np.testing.assert_array_equal(xrt.ops.add(t, t).numpy(), 2 * a)
assert t.__dlpack_device__() == (1, 0)

# The session runs where its device is, created by the plugin that brought it.
with xrt.InferenceSession(b"doubles", device="npu:0") as s:
    assert s.backend == "testnpu" and s.device == "npu:0"
    out = s.run(None, {"x": np.array([1, -2, 3.5], np.float32)})[0]
    np.testing.assert_array_equal(out, [2, -4, 7])
    y = s.run_tensors(None, {"x": xrt.asarray(np.ones(3, np.float32), device="npu:0")})[0]
    assert y.device == "npu:0"
    np.testing.assert_array_equal(y.numpy(), [2, 2, 2])
with xrt.InferenceSession(b"doubles", device="gpu:1") as s:
    assert s.device == "gpu:1"

try:
    xrt.InferenceSession(b"doubles", device="tpu:0")
    raise SystemExit("a session on an unknown kind was created")
except xrt.NotFound as error:
    assert "device kind 'tpu'" in str(error) and "'npu'" in str(error), error
try:
    xrt.Device("npu:3")
    raise SystemExit("npu:3 was found")
except xrt.NotFound as error:
    assert "npu devices: npu:0" in str(error), error
try:
    xrt.InferenceSession(b"doubles", backend="testnpu", device="cpu")
    raise SystemExit("testnpu ran a model on the cpu")
except xrt.Unsupported as error:
    assert "not cpu" in str(error), error
print("named devices ok")
"""


def test_named_devices_from_python(plugin_env):
    result = subprocess.run([sys.executable, "-c", NAMED_DEVICES], env=plugin_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "named devices ok" in result.stdout


def test_info_lists_named_devices(plugin_env):
    result = subprocess.run([sys.executable, "-m", "xpuruntime", "info"], env=plugin_env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "npu:0" in result.stdout and "gpu:1" in result.stdout
