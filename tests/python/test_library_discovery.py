"""Libraries other wheels ship are looked up among installed packages only:
never in the working directory, which `python -c`, `-m` and the REPL put
first on sys.path."""

import os
import shutil
import subprocess
import sys

import pytest

SHOW = ("import os, xpuruntime; "
        "print(os.environ.get('XRT_ONNXRUNTIME_LIB', '')); "
        "print(os.environ.get('XRT_OPENVINO_LIB', '')); "
        "print(os.environ.get('XRT_OPENBLAS_LIB', ''))")


@pytest.fixture
def planted(tmp_path):
    """A working directory holding fake onnxruntime, openvino and
    scipy_openblas32 packages whose code would leave a marker if run."""
    marker = tmp_path / "planted-code-ran"
    for package, library in (("onnxruntime", "capi/libonnxruntime.so.1.99.0"),
                             ("openvino", "libs/libopenvino_c.so.9999"),
                             ("scipy_openblas32", "lib/libscipy_openblas.so")):
        path = tmp_path / package / library
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a library")
        (tmp_path / package / "__init__.py").write_text(
            f"open({str(marker)!r}, 'w').write('{package}')\n")
    return tmp_path, marker


def _environment():
    env = {k: v for k, v in os.environ.items()
           if k not in ("XRT_ONNXRUNTIME_LIB", "XRT_OPENVINO_LIB", "XRT_CUBLASLT_LIB",
                         "XRT_OPENBLAS_LIB")}
    return env


@pytest.mark.parametrize("how", ["-c", "-m"])
def test_working_directory_is_not_searched(planted, how):
    folder, marker = planted
    if how == "-c":
        command = [sys.executable, "-c", SHOW]
    else:
        (folder / "show_paths.py").write_text(SHOW.replace("; ", "\n"))
        command = [sys.executable, "-m", "show_paths"]
    result = subprocess.run(command, cwd=folder, env=_environment(), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for path in result.stdout.split():
        assert not path.startswith(str(folder)), f"a planted library was chosen: {path}"
    assert not marker.exists(), f"planted {marker.read_text()} code ran"


def test_pythonpath_naming_the_folder_is_explicit(planted):
    """A folder PYTHONPATH names is the user's own choice, even the working one."""
    folder, _ = planted
    for package in ("openvino", "scipy_openblas32"):  # only onnxruntime's is looked at
        shutil.rmtree(folder / package)
    env = _environment()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    result = subprocess.run([sys.executable, "-c", SHOW], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == str(folder / "onnxruntime" / "capi" / "libonnxruntime.so.1.99.0")
