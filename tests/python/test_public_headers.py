"""The public headers compile in C and C++ next to another DLPack >= 1.0
dlpack.h, included before or after them (torch's ATen/dlpack.h, DLPack 1.3),
and code written against that header keeps its names either way."""

import os
import shutil
import subprocess

import pytest

import xpuruntime as xrt

# Uses names DLPack 1.3 added (a float8 code, the exchange API), so the
# translation unit fails when a 1.0-only declaration shadowed the real header.
BODY = """
int use(void) {
  DLDataType t = {kDLFloat8_e4m3fn, 8, 1};
  DLPackExchangeAPI api;
  api.header.version.major = DLPACK_MAJOR_VERSION;
  xrt_device_t* cpu = 0;
  (void)api;
  return (int)t.code + (xrt_device_by_name("cpu", &cpu) == XRT_OK);
}
"""


def _torch_dlpack_header():
    torch = pytest.importorskip("torch", reason="torch ships the DLPack 1.3 header used here")
    path = os.path.join(os.path.dirname(torch.__file__), "include", "ATen", "dlpack.h")
    if not os.path.exists(path):
        pytest.skip("this torch ships no ATen/dlpack.h")
    return path


@pytest.mark.parametrize("language", ["c", "c++"])
@pytest.mark.parametrize("order", ["xpuruntime_first", "dlpack_first"])
def test_headers_compile_next_to_torch_dlpack(language, order, tmp_path):
    compiler = shutil.which("cc" if language == "c" else "c++")
    if compiler is None:
        pytest.skip(f"no {language} compiler")
    dlpack = _torch_dlpack_header()
    includes = ['#include "xpuruntime/xpuruntime.h"', f'#include "{dlpack}"']
    if order == "dlpack_first":
        includes.reverse()
    source = tmp_path / ("unit.c" if language == "c" else "unit.cpp")
    source.write_text("\n".join(includes) + "\n" + BODY)
    standard = "-std=c11" if language == "c" else "-std=c++17"
    result = subprocess.run(
        [compiler, standard, "-Wall", "-Werror", "-fsyntax-only", "-I", xrt.get_include(),
         str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("language", ["c", "c++"])
def test_headers_alone_declare_dlpack_1_3(language, tmp_path):
    compiler = shutil.which("cc" if language == "c" else "c++")
    if compiler is None:
        pytest.skip(f"no {language} compiler")
    source = tmp_path / ("unit.c" if language == "c" else "unit.cpp")
    source.write_text('#include "xpuruntime/xpuruntime.h"\n' + BODY)
    standard = "-std=c11" if language == "c" else "-std=c++17"
    result = subprocess.run(
        [compiler, standard, "-Wall", "-Werror", "-pedantic", "-fsyntax-only", "-I",
         xrt.get_include(), str(source)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
