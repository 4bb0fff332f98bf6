"""The public headers compile in C and C++ next to another DLPack >= 1.0
dlpack.h, included before or after them (torch's ATen/dlpack.h, DLPack 1.3),
and code written against that header keeps its names either way."""

import os
import re
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
    with open(path) as header:
        text = header.read()
    version = tuple(int(m[1]) if m else 0 for m in (
        re.search(rf"#define DLPACK_{part}_VERSION (\d+)", text) for part in ("MAJOR", "MINOR")))
    if version < (1, 3):
        pytest.skip(f"torch {torch.__version__}'s dlpack.h is older than DLPack 1.3")
    return path


def _syntax_check(language, source, *flags):
    compiler = shutil.which("cc" if language == "c" else "c++")
    if compiler is None:
        pytest.skip(f"no {language} compiler")
    standard = "-std=c11" if language == "c" else "-std=c++17"
    return subprocess.run([compiler, standard, "-Wall", "-Werror", *flags, "-fsyntax-only", "-I",
                           xrt.get_include(), str(source)], capture_output=True, text=True)


@pytest.mark.parametrize("language", ["c", "c++"])
@pytest.mark.parametrize("order", ["xpuruntime_first", "dlpack_first"])
def test_headers_compile_next_to_torch_dlpack(language, order, tmp_path):
    dlpack = _torch_dlpack_header()
    includes = ['#include "xpuruntime/xpuruntime.h"', f'#include "{dlpack}"']
    if order == "dlpack_first":
        includes.reverse()
    source = tmp_path / ("unit.c" if language == "c" else "unit.cpp")
    source.write_text("\n".join(includes) + "\n" + BODY)
    result = _syntax_check(language, source)
    assert result.returncode == 0, result.stderr


# The shape of DLPack 0.8's header (torch 2.5 ships one): its guard, no
# DLPACK_MAJOR_VERSION, no versioned managed tensor.
OLD_DLPACK = """#ifndef DLPACK_DLPACK_H_
#define DLPACK_DLPACK_H_
#define DLPACK_VERSION 80
typedef struct { int device_type; int device_id; } DLDevice;
#endif
"""


@pytest.mark.parametrize("language", ["c", "c++"])
def test_headers_after_a_dlpack_older_than_1_0_say_so(language, tmp_path):
    (tmp_path / "dlpack.h").write_text(OLD_DLPACK)
    source = tmp_path / ("unit.c" if language == "c" else "unit.cpp")
    source.write_text('#include "dlpack.h"\n#include "xpuruntime/xpuruntime.h"\n')
    result = _syntax_check(language, source)
    assert result.returncode != 0
    assert "xpuruntime needs DLPack 1.0 or newer" in result.stderr, result.stderr
    # Included first, the runtime's own declarations win and the old header is skipped.
    source.write_text('#include "xpuruntime/xpuruntime.h"\n#include "dlpack.h"\n' + BODY)
    result = _syntax_check(language, source)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("language", ["c", "c++"])
def test_headers_alone_declare_dlpack_1_3(language, tmp_path):
    source = tmp_path / ("unit.c" if language == "c" else "unit.cpp")
    source.write_text('#include "xpuruntime/xpuruntime.h"\n' + BODY)
    result = _syntax_check(language, source, "-pedantic")
    assert result.returncode == 0, result.stderr
