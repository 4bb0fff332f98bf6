"""The command line on a machine whose extra devices lack kernels: the test
device plugin (host memory behind "cuda:0" and "cuda:1", no kernels) stands
in for a GPU whose backend offers fewer ops than the CPU. `info` lists the
devices and `demo` says which ops it could not run instead of failing."""
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
