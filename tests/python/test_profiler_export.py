"""Trace files appear whole or not at all: the trace is written beside the
target and renamed onto it, so a failed write never leaves a torn file."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import xpuruntime as xrt
from xpuruntime import ops


def _recorded_profiler():
    with xrt.Profiler() as profiler:
        ops.add(np.ones(4, np.float32), np.ones(4, np.float32))
    return profiler


def test_export_replaces_an_existing_file_whole(tmp_path):
    path = tmp_path / "trace.json"
    path.write_text("old contents that are not JSON")
    _recorded_profiler().export_chrome_trace(path)
    assert "traceEvents" in json.loads(path.read_text())
    assert os.listdir(tmp_path) == ["trace.json"]


def test_export_onto_a_directory_fails_and_leaves_nothing(tmp_path):
    target = tmp_path / "a-directory"
    target.mkdir()
    with pytest.raises(xrt.FileError, match="a-directory"):
        _recorded_profiler().export_chrome_trace(target)
    assert sorted(os.listdir(tmp_path)) == ["a-directory"]


def test_export_that_runs_out_of_space_keeps_the_old_file(tmp_path):
    """A file size limit (as a full disk would) stops the write: the old
    trace stays as it was and no partial file is left beside it."""
    path = tmp_path / "trace.json"
    path.write_text("previous trace")
    script = f"""
import resource, signal
import numpy as np
import xpuruntime as xrt
from xpuruntime import ops
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
with xrt.Profiler() as profiler:
    for _ in range(200):
        ops.add(np.ones(4, np.float32), np.ones(4, np.float32))
resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
try:
    profiler.export_chrome_trace({str(path)!r})
except xrt.FileError as error:
    print("FileError", error)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("FileError"), result.stdout
    assert str(path) in result.stdout
    assert path.read_text() == "previous trace"
    assert os.listdir(tmp_path) == ["trace.json"]
