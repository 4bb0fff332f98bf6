"""The CPU matmul opens OpenBLAS at run time: the library does not link it,
and a missing or wrong OpenBLAS is a typed error that names the file and the
package to install, raised by the matmul rather than by the import."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import xpuruntime as xrt
from xpuruntime import ops


def _uses_openblas():
    a = xrt.asarray(np.ones((2, 2), np.float32))
    with xrt.Profiler() as profiler:
        ops.matmul(a, a)
    impls = [e["args"]["impl"] for e in profiler.events() if e.get("name") == "matmul"]
    return impls == ["cpu.matmul_blas"]


pytestmark = pytest.mark.skipif(not _uses_openblas(),
                                reason="this build's CPU matmul is the built-in kernel")

MATMUL = """
import numpy as np, xpuruntime as xrt
from xpuruntime import errors, ops
a = xrt.asarray(np.ones((4, 4), np.float32))
x = xrt.asarray(np.ones(4, np.float32))
print(ops.add(x, x).numpy().sum())
try:
    ops.matmul(a, a)
except errors.BackendError as e:
    print("BackendError:", e)
"""


def _run_matmul(library):
    env = dict(os.environ, XRT_OPENBLAS_LIB=library)
    result = subprocess.run([sys.executable, "-c", MATMUL], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_library_does_not_link_openblas():
    if shutil.which("readelf") is None:
        pytest.skip("readelf (binutils) is not installed")
    major = xrt.__version__.split(".")[0]
    library = os.path.join(xrt.get_lib_dir(), f"libxpuruntime.so.{major}")
    dynamic = subprocess.run(["readelf", "-d", library], capture_output=True, text=True,
                             check=True).stdout
    needed = [line for line in dynamic.splitlines() if "(NEEDED)" in line]
    assert needed and not [line for line in needed if "blas" in line.lower()], needed


def test_a_missing_openblas_names_the_file_and_the_package(tmp_path):
    missing = str(tmp_path / "libscipy_openblas.so")
    out = _run_matmul(missing)
    assert out.startswith("8.0\n"), out  # other ops still run
    assert "BackendError:" in out and missing in out and "scipy-openblas32" in out, out


def test_a_library_that_is_not_openblas_is_named(tmp_path):
    libc = subprocess.run(["ldd", sys.executable], capture_output=True, text=True).stdout
    paths = [part for line in libc.splitlines() for part in line.split() if "/libc.so" in part]
    if not paths:
        pytest.skip("cannot find the C library's path")
    out = _run_matmul(paths[0])
    assert "BackendError:" in out and f"{paths[0]} is not OpenBLAS" in out, out
