"""The CPU kernels' vector loops are built for AVX-512, AVX2 and the
baseline ISA, and the CPU picks one; XRT_CPU_ISA caps the pick, so the
builds this machine would not choose run the attention and op tests too
(each has its own vector widths, hence its own padding and strip
edges)."""
import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).parent
CASES = ["test_attention_masks.py", "test_attention_varlen_decode.py",
         "test_attention_backward.py", "test_ops.py", "test_fused_ops.py"]


@pytest.mark.parametrize("isa", ["generic", "avx2"])
def test_kernels_under_each_isa(isa):
    env = dict(os.environ, XRT_CPU_ISA=isa)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
         *(str(HERE / name) for name in CASES)],
        env=env, cwd=HERE, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
