"""A C program built against the installed package with pkg-config, as the
README tells C users to do, runs and passes."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import xpuruntime as xrt

C_TESTS = Path(__file__).resolve().parents[1] / "c"


@pytest.fixture(scope="module")
def pkg_config_flags():
    if not shutil.which("cc") or not shutil.which("pkg-config"):
        pytest.skip("needs a C compiler and pkg-config")
    env = dict(os.environ, PKG_CONFIG_PATH=xrt.get_pkgconfig_dir())
    result = subprocess.run(["pkg-config", "--cflags", "--libs", "xpuruntime"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_folders_exist():
    assert (Path(xrt.get_include()) / "xpuruntime" / "xpuruntime.h").is_file()
    assert (Path(xrt.get_include()) / "xpuruntime" / "xpuruntime_version.h").is_file()
    assert (Path(xrt.get_pkgconfig_dir()) / "xpuruntime.pc").is_file()
    assert any(p.name.startswith("libxpuruntime.so") for p in Path(xrt.get_lib_dir()).iterdir())


def test_c_program_builds_and_runs(pkg_config_flags, tmp_path):
    exe = tmp_path / "test_ops"
    env = dict(os.environ)
    if Path(xrt.get_lib_dir()).is_relative_to(Path(xrt.__file__).parent):
        # Installed: the library's runpath finds the scipy-openblas32 wheel.
        # An editable install's build tree has none and keeps
        # XRT_OPENBLAS_LIB, which importing xpuruntime set.
        env.pop("XRT_OPENBLAS_LIB", None)
    subprocess.run(["cc", "-O1", str(C_TESTS / "test_ops.c"), "-o", str(exe), *pkg_config_flags,
                    "-lm"], check=True, env=env)
    result = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout
