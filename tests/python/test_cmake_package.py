"""A C++ program built with CMake through find_package(xpuruntime), as the
README tells C++ users to do, runs and passes (tests/cmake)."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import xpuruntime as xrt

CMAKE_PROJECT = Path(__file__).resolve().parents[1] / "cmake"


def test_cmake_dir_holds_the_package_config():
    cmake_dir = Path(xrt.get_cmake_dir())
    assert (cmake_dir / "xpuruntimeConfig.cmake").is_file()
    assert (cmake_dir / "xpuruntimeConfigVersion.cmake").is_file()


def _cmake(*args, cwd, env):
    return subprocess.run(["cmake", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def cmake_env():
    if not shutil.which("cmake") or not shutil.which("ninja") or not shutil.which("c++"):
        pytest.skip("needs cmake, ninja and a C++ compiler (cmake and ninja: the test extra)")
    # XRT_OPENBLAS_LIB, which importing xpuruntime set, tells an editable
    # install's build-tree library where OpenBLAS is.
    return dict(os.environ)


def test_find_package_builds_and_runs(cmake_env, tmp_path):
    configure = _cmake("-S", str(CMAKE_PROJECT), "-B", str(tmp_path), "-G", "Ninja",
                       f"-Dxpuruntime_DIR={xrt.get_cmake_dir()}", cwd=tmp_path, env=cmake_env)
    assert configure.returncode == 0, configure.stdout + configure.stderr
    build = _cmake("--build", str(tmp_path), cwd=tmp_path, env=cmake_env)
    assert build.returncode == 0, build.stdout + build.stderr
    result = subprocess.run([str(tmp_path / "cmake_user")], capture_output=True, text=True,
                            timeout=120, env=cmake_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stdout


def test_find_package_refuses_another_major_version(cmake_env, tmp_path):
    project = tmp_path / "src"
    project.mkdir()
    (project / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\nproject(wants_v99 LANGUAGES CXX)\n"
        "find_package(xpuruntime 99 REQUIRED)\n")
    configure = _cmake("-S", str(project), "-B", str(tmp_path / "build"), "-G", "Ninja",
                       f"-Dxpuruntime_DIR={xrt.get_cmake_dir()}", cwd=tmp_path, env=cmake_env)
    assert configure.returncode != 0
    assert "xpuruntime" in configure.stderr and "99" in configure.stderr
