import subprocess
import sys

import xpuruntime as xrt
from xpuruntime.cli import main


def run_module(*args):
    return subprocess.run([sys.executable, "-m", "xpuruntime", *args], capture_output=True,
                          text=True, timeout=120)


def test_info():
    result = run_module("info")
    assert result.returncode == 0, result.stderr
    assert f"xpuruntime {xrt.__version__}" in result.stdout
    for heading in ("devices:", "backends:", "memory:"):
        assert heading in result.stdout


def test_demo_checks_every_op():
    result = run_module("demo", "--runs", "2")
    assert result.returncode == 0, result.stderr
    for op in ("matmul", "layer_norm", "softmax", "gelu", "attention"):
        assert op in result.stdout
    assert "ops on cpu" in result.stdout


def test_usage_error_exits_non_zero(capsys):
    try:
        main(["no-such-command"])
    except SystemExit as exit:
        assert exit.code == 2
    else:
        raise AssertionError("argparse accepted an unknown command")
