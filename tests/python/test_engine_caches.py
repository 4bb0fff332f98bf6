"""The OpenVINO model cache (option cache_dir) when its folder cannot be
used or holds damaged blobs: the session is still created and gives right
answers, rebuilding the model, and an unusable folder is named in a
warning on stderr. The TensorRT engine cache needs a GPU; its folder
handling is tests/unit/test_cache_folder.cpp."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from soak_support import FEATURES, Mlp, needs_backend

import xpuruntime as xrt

HERE = Path(__file__).resolve().parent
pytestmark = needs_backend("openvino")


@pytest.fixture
def mlp(rng):
    return Mlp(rng)


def _check_runs(mlp, cache_dir, rng):
    x = rng.standard_normal((3, FEATURES)).astype(np.float32)
    with xrt.InferenceSession(mlp.bytes, backend="openvino", cache_dir=str(cache_dir)) as s:
        mlp.check(s.run(None, {"x": x})[0], x)


def _blobs(cache_dir):
    return sorted(p for p in Path(cache_dir).rglob("*") if p.is_file())


@pytest.mark.parametrize("where", ["file", "file/below"])
def test_a_file_where_the_folder_goes(mlp, rng, tmp_path, capfd, where):
    (tmp_path / "file").write_text("not a folder")
    _check_runs(mlp, tmp_path / where, rng)
    warning = capfd.readouterr().err
    assert "xpuruntime: warning: openvino: compiling without the model cache" in warning
    assert str(tmp_path / "file") in warning
    assert (tmp_path / "file").read_text() == "not a folder"


def test_a_folder_without_write_access(mlp, rng, tmp_path, capfd):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        (locked / "probe").write_text("")
    except PermissionError:
        pass
    else:
        pytest.skip("permission bits do not stop this user's writes (running as root)")
    _check_runs(mlp, locked, rng)
    assert f"cannot write in '{locked}" in capfd.readouterr().err
    assert _blobs(locked) == []


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_damaged_blobs_are_rebuilt(mlp, rng, tmp_path, damage):
    _check_runs(mlp, tmp_path, rng)
    blobs = _blobs(tmp_path)
    assert blobs, "the first session wrote no blob"
    whole = {}
    for blob in blobs:
        whole[blob] = blob.read_bytes()
        blob.write_bytes({"garbage": os.urandom(len(whole[blob])),
                          "truncated": whole[blob][:len(whole[blob]) // 2],
                          "empty": b""}[damage])
    damaged = {blob: blob.read_bytes() for blob in blobs}
    _check_runs(mlp, tmp_path, rng)
    # OpenVINO wrote the blob again (not byte for byte the same), and the
    # next session is served from it.
    for blob, data in whole.items():
        rebuilt = blob.read_bytes()
        assert rebuilt != damaged[blob] and rebuilt[:16] == data[:16]
        assert len(rebuilt) > 0.9 * len(data)
    _check_runs(mlp, tmp_path, rng)


# Compiles with a file size limit too small for the blob; SIGXFSZ is
# ignored so a write past it fails instead of killing the process.
LIMITED_WRITES = textwrap.dedent(r"""
    import json, resource, signal, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    from soak_support import FEATURES, Mlp
    import xpuruntime as xrt

    mlp = Mlp(np.random.default_rng(int(sys.argv[3])))
    x = np.random.default_rng(1).standard_normal((3, FEATURES)).astype(np.float32)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, resource.RLIM_INFINITY))
    with xrt.InferenceSession(mlp.bytes, backend="openvino", cache_dir=sys.argv[2]) as s:
        mlp.check(s.run(None, {"x": x})[0], x)
    print("ok")
""")


def test_a_write_cut_short_leaves_no_torn_blob(rng, tmp_path):
    seed = int(rng.integers(2**32))
    mlp = Mlp(np.random.default_rng(seed))
    complete = tmp_path / "complete"
    _check_runs(mlp, complete, rng)
    (blob,) = _blobs(complete)
    limited = tmp_path / "limited"
    result = subprocess.run([sys.executable, "-c", LIMITED_WRITES, str(HERE), str(limited),
                             str(seed)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout + result.stderr
    left = {b.name: b.stat().st_size for b in _blobs(limited)}
    assert all(size == blob.stat().st_size for size in left.values()), (
        f"torn blob left behind: {json.dumps(left)}, a complete one has {blob.stat().st_size} bytes")
    _check_runs(mlp, limited, rng)
