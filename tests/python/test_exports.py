"""The shared libraries export their C entry points and nothing else: a
C++ or libstdc++ symbol left visible could interpose on another library's
copy of it in the same process."""

import glob
import os
import shutil
import subprocess

import pytest

import xpuruntime as xrt

pytestmark = pytest.mark.skipif(shutil.which("nm") is None, reason="nm (binutils) is not installed")


def _exported(path):
    result = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True,
                            check=True)
    return [line.split()[-1] for line in result.stdout.splitlines() if line.strip()]


def _library():
    major = xrt.__version__.split(".")[0]
    return os.path.join(xrt.get_lib_dir(), f"libxpuruntime.so.{major}")


def test_library_has_a_versioned_soname():
    result = subprocess.run(["readelf", "-d", _library()], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip("readelf (binutils) cannot read the library")
    major = xrt.__version__.split(".")[0]
    assert f"Library soname: [libxpuruntime.so.{major}]" in result.stdout


def test_library_exports_only_the_c_api():
    symbols = _exported(_library())
    assert "xrt_version" in symbols
    assert [s for s in symbols if not s.startswith("xrt_")] == []


def test_plugins_export_only_their_entry_point():
    plugins = glob.glob(os.path.join(xrt.get_lib_dir(), "plugins", "libxrt_*.so"))
    assert plugins, "no plugins were installed"
    for path in plugins:
        assert _exported(path) == ["xrt_plugin_get_api"], path
