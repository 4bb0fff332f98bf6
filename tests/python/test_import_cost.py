"""`import xpuruntime` loads none of the heavy optional packages: ml_dtypes
(most of a second) comes in with the first bfloat16 or float8 tensor, torch
with xpuruntime.torch, the runtimes' Python packages never."""
import subprocess
import sys

HEAVY = ("ml_dtypes", "torch", "onnxruntime", "openvino", "onnx")


def _loaded_after(code):
    result = subprocess.run([sys.executable, "-c", code + "\nimport sys\nprint(' '.join("
                             f"m for m in {HEAVY!r} if m in sys.modules))"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_import_loads_nothing_heavy():
    assert _loaded_after("import xpuruntime as xrt\nxrt.ops.add(xrt.zeros((2,), 'float32'), "
                         "xrt.zeros((2,), 'float32'))") == []


def test_bfloat16_by_name_loads_ml_dtypes():
    code = ("import xpuruntime as xrt\nt = xrt.zeros((3,), 'bfloat16')\n"
            "assert t.dtype.name == 'bfloat16' and t.numpy().dtype.name == 'bfloat16'")
    assert _loaded_after(code) == ["ml_dtypes"]


def test_arrays_of_ml_dtypes_types_are_recognised_when_imported_first():
    code = ("import ml_dtypes, numpy as np\nimport xpuruntime as xrt\n"
            "a = np.arange(4, dtype=np.float32).astype(ml_dtypes.float8_e4m3fn)\n"
            "t = xrt.asarray(a)\nassert t.dtype == np.dtype(ml_dtypes.float8_e4m3fn)\n"
            "np.testing.assert_array_equal(t.numpy().astype(np.float32), np.arange(4))")
    assert _loaded_after(code) == ["ml_dtypes"]
