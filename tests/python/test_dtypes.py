"""The dtypes of C API version 4 (uint16/32/64 and the four float8 types):
numpy and ml_dtypes round trips, the buffer protocol, strided copies,
DLPack with numpy and torch, and ops that have no kernel for them. Every
check compares bits, on fresh random data (NaNs and negative zeros
included)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

import xpuruntime as xrt

# (name, numpy dtype, PEP 3118 format or None where numpy has none)
NEW_DTYPES = [
    ("uint16", np.dtype(np.uint16), "H"),
    ("uint32", np.dtype(np.uint32), "I"),
    ("uint64", np.dtype(np.uint64), "Q"),
    ("float8_e4m3fn", np.dtype(ml_dtypes.float8_e4m3fn), None),
    ("float8_e5m2", np.dtype(ml_dtypes.float8_e5m2), None),
    ("float8_e4m3fnuz", np.dtype(ml_dtypes.float8_e4m3fnuz), None),
    ("float8_e5m2fnuz", np.dtype(ml_dtypes.float8_e5m2fnuz), None),
]
IDS = [d[0] for d in NEW_DTYPES]
every_new_dtype = pytest.mark.parametrize("name, dtype, fmt", NEW_DTYPES, ids=IDS)


def random_bits(rng, shape, dtype):
    """Uniformly random bytes seen as `dtype`: every bit pattern can occur."""
    shape = tuple(shape)
    raw = rng.integers(0, 256, shape + (dtype.itemsize,), dtype=np.uint8)
    return raw.view(dtype).reshape(shape)


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(
        np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8))


@every_new_dtype
def test_empty_and_zeros_take_every_spelling(name, dtype, fmt):
    for spec in (name, dtype, dtype.type):
        t = xrt.zeros((3, 4), spec)
        assert t.dtype == dtype and t.nbytes == 12 * dtype.itemsize
        assert not t.numpy().view(np.uint8).any()
    assert xrt.empty((2,), name).dtype == dtype


@every_new_dtype
def test_numpy_round_trip_is_zero_copy_and_exact(name, dtype, fmt, rng):
    x = random_bits(rng, (5, 6), dtype)
    t = xrt.asarray(x)
    assert t.dtype == dtype and t.shape == (5, 6)
    y = t.numpy()
    assert y.dtype == dtype and np.shares_memory(x, y) and same_bits(y, x)
    assert same_bits(np.asarray(t), x)
    ro = x.copy()
    ro.flags.writeable = False
    assert same_bits(xrt.asarray(ro).numpy(), x)


@every_new_dtype
def test_strided_views_keep_their_strides(name, dtype, fmt, rng):
    x = random_bits(rng, (6, 8), dtype)
    view = x.T[1:, ::3]
    t = xrt.asarray(view)
    assert t.strides == tuple(s // dtype.itemsize for s in view.strides)
    assert same_bits(t.numpy(), view)


@every_new_dtype
def test_asarray_dtype_converts_like_numpy(name, dtype, fmt, rng):
    values = rng.integers(0, 16, (4, 3)).astype(np.float32)
    t = xrt.asarray(values, dtype=name)
    assert same_bits(t.numpy(), values.astype(dtype))
    back = xrt.asarray(t, dtype=np.float32)
    assert same_bits(back.numpy(), values.astype(dtype).astype(np.float32))


@every_new_dtype
def test_buffer_protocol(name, dtype, fmt, rng):
    x = random_bits(rng, (3, 5), dtype)
    t = xrt.asarray(x)
    if fmt is None:
        with pytest.raises(BufferError, match=name):
            memoryview(t)
        return
    view = memoryview(t)
    assert view.format == fmt and view.itemsize == dtype.itemsize and view.shape == (3, 5)
    assert same_bits(np.asarray(view), x)
    assert same_bits(xrt.asarray(memoryview(x)).numpy(), x)


@pytest.mark.parametrize("name, dtype, fmt", NEW_DTYPES[:3], ids=IDS[:3])
def test_numpy_dlpack_both_ways(name, dtype, fmt, rng):
    x = random_bits(rng, (4, 7), dtype)[:, 1::2]
    t = xrt.from_dlpack(x)
    assert t.dtype == dtype and same_bits(t.numpy(), x)
    y = np.from_dlpack(t)
    assert np.shares_memory(x, y) and same_bits(y, x)


@every_new_dtype
def test_dlpack_capsules_round_trip(name, dtype, fmt, rng):
    x = random_bits(rng, (2, 9), dtype)
    t = xrt.asarray(x)
    for max_version in (None, (1, 0)):
        back = xrt.from_dlpack(t.__dlpack__(max_version=max_version))
        assert back.dtype == dtype and same_bits(back.numpy(), x)
        assert np.shares_memory(back.numpy(), x)


@every_new_dtype
def test_ops_without_a_kernel_name_op_device_and_dtype(name, dtype, fmt, rng):
    t = xrt.asarray(random_bits(rng, (2, 4), dtype))
    for op, args in [("add", (t, t)), ("gelu", (t,)), ("softmax", (t,)), ("matmul", (t, t.numpy().T))]:
        with pytest.raises(xrt.Unsupported) as info:
            getattr(xrt.ops, op)(*args)
        message = str(info.value)
        assert f"'{op}'" in message and "cpu" in message and name in message, message


# torch's names for the dtypes; a torch without one skips its case.
TORCH_NAMES = {"uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
               "float8_e4m3fn": "float8_e4m3fn", "float8_e5m2": "float8_e5m2",
               "float8_e4m3fnuz": "float8_e4m3fnuz", "float8_e5m2fnuz": "float8_e5m2fnuz"}


@pytest.fixture
def torch_dtype(request):
    torch = pytest.importorskip("torch", reason="torch is not installed")
    name = request.param
    if not hasattr(torch, TORCH_NAMES[name]):
        pytest.skip(f"torch {torch.__version__} has no {name}")
    return torch, getattr(torch, TORCH_NAMES[name])


@pytest.mark.parametrize("torch_dtype", IDS, indirect=True, ids=IDS)
def test_torch_dlpack_both_ways(torch_dtype, rng):
    torch, tdtype = torch_dtype
    dtype = dict((n, d) for n, d, _ in NEW_DTYPES)[str(tdtype).removeprefix("torch.")]
    x = random_bits(rng, (3, 8), dtype)
    t = xrt.asarray(x)
    try:
        tt = torch.from_dlpack(t)
    except (BufferError, RuntimeError, TypeError) as error:
        pytest.skip(f"torch does not import {dtype.name} through DLPack: {error}")
    assert tt.dtype == tdtype and tt.data_ptr() == t.numpy().ctypes.data
    assert tuple(tt.shape) == (3, 8)
    # torch → xrt: a strided torch view comes back with its strides and bits.
    back = xrt.from_dlpack(tt[:, 1::3])
    assert back.dtype == dtype and back.strides == (8, 3)
    assert same_bits(back.numpy(), x[:, 1::3])
    # A tensor torch made itself (from raw bytes) reads the same in numpy.
    made = torch.from_numpy(x.view(np.uint8).copy()).view(tdtype)
    assert same_bits(xrt.from_dlpack(made).numpy(), x)


PLUGIN_SOURCE = Path(__file__).resolve().parents[1] / "plugins" / "device" / "testdevice_plugin.c"

# Host → device copies of strided views (packed on the host first), device
# strided copies, device → host; all checked bit for bit.
DEVICE_COPIES = r"""
import sys
import numpy as np
import ml_dtypes
import xpuruntime as xrt

rng = np.random.default_rng(int(sys.argv[1]))
for name in sys.argv[2:]:
    dtype = np.dtype(getattr(np, name, None) or getattr(ml_dtypes, name))
    x = rng.integers(0, 256, (6, 10 * dtype.itemsize), dtype=np.uint8).view(dtype)
    for view in (x, x.T, x[1::2, ::-3]):
        d = xrt.asarray(view, device="cuda:0")
        assert d.dtype == dtype, (name, d.dtype)
        got = d.numpy()
        assert got.view(np.uint8).tobytes() == np.ascontiguousarray(view).view(np.uint8).tobytes(), name
        moved = d.to("cuda:1").numpy()
        assert moved.view(np.uint8).tobytes() == got.view(np.uint8).tobytes(), name
print("ok")
"""


def test_strided_copies_through_a_device_plugin(tmp_path, rng):
    if not shutil.which("cc"):
        pytest.skip("needs a C compiler")
    plugin = tmp_path / "libxrt_testdevice.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", f"-I{xrt.get_include()}",
                    str(PLUGIN_SOURCE), "-o", str(plugin)], check=True)
    seed = int(rng.integers(0, 2**31))
    result = subprocess.run([sys.executable, "-c", DEVICE_COPIES, str(seed), *IDS],
                            env=dict(os.environ, XRT_PLUGIN_PATH=str(plugin)),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
