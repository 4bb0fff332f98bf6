"""Ops a plugin brings (plugin ABI 1.5) from Python: the test plugin
tests/plugins/ops/testops_plugin.c adds testops.scale_shift (element-wise,
attributes scale and shift, an optional offset) and testops.row_stats (sum
and max over the last axis: two outputs and a shape rule of its own).
xrt.ops.run dispatches them like built-in ops, the profiler records them,
and each badops build, whose op section breaks one rule, is listed
unavailable with the reason. The plugins are compiled here and loaded
through XRT_PLUGIN_PATH in a child process."""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import xpuruntime as xrt

OPS_PLUGINS = Path(__file__).resolve().parents[1] / "plugins" / "ops"

# Each badops build and what its reason must say.
BROKEN = {
    "duplicate": "defines op 'badops.twice' twice (op schemas #0 and #1)",
    "taken": "defines op 'testops.scale_shift', which backend 'testops' already defines",
    "builtin": "op 'add' is not namespaced",
    "too_many_inputs": "op 'badops.wide' has 7 inputs, expected 1 to 6",
    "null_input_name": "op 'badops.unnamed': input #1 has no name",
    "optional_beyond": "op 'badops.beyond': optional_inputs 0x4 marks inputs beyond its 2",
    "required_after_optional": "input 'needed' is required but follows optional input 'maybe'",
    "bad_attr_type": "attribute 'alpha' has type code 9",
    "short_entry": "op schema #0 is 16 bytes, expected at least",
}


def compile_plugin(source, target, *defines):
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", f"-I{xrt.get_include()}", *defines,
                    str(source), "-o", str(target)], check=True)


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    if not shutil.which("cc"):
        pytest.skip("needs a C compiler")
    folder = tmp_path_factory.mktemp("ops_plugins")
    # testops first, so badops_taken finds its op already defined.
    paths = [folder / "libxrt_testops.so"]
    compile_plugin(OPS_PLUGINS / "testops_plugin.c", paths[0])
    for fault in BROKEN:
        paths.append(folder / f"libxrt_badops_{fault}.so")
        compile_plugin(OPS_PLUGINS / "badops_plugin.c", paths[-1], f"-DFAULT_{fault}")
    return dict(os.environ, XRT_PLUGIN_PATH=":".join(map(str, paths)))


def run_child(env, script):
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_ops_run_matches_numpy(plugin_env):
    run_child(plugin_env, r"""
        import numpy as np
        import xpuruntime as xrt
        from xpuruntime import ops

        rng = np.random.default_rng()
        x = rng.standard_normal((3, 4, 5), dtype=np.float32)
        offset = rng.standard_normal((3, 4, 5), dtype=np.float32)
        scale, shift = float(rng.uniform(-2, 2)), float(rng.uniform(-2, 2))

        y = ops.run("testops.scale_shift", x, scale=scale, shift=shift)
        assert isinstance(y, xrt.Tensor) and y.shape == x.shape and y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), x * np.float32(scale) + np.float32(shift),
                                   rtol=1e-6, atol=1e-6)
        z = ops.run("testops.scale_shift", x, offset, scale=scale, shift=shift)
        np.testing.assert_allclose(z.numpy(), x * np.float32(scale) + np.float32(shift) + offset,
                                   rtol=1e-6, atol=1e-6)
        # Defaults, an integer attribute, a strided input (made contiguous)
        # and an explicit stream.
        np.testing.assert_array_equal(ops.run("testops.scale_shift", x).numpy(), x)
        np.testing.assert_allclose(ops.run("testops.scale_shift", x.T, shift=2).numpy(), x.T + 2)
        s = xrt.Stream("cpu")
        np.testing.assert_allclose(ops.run("testops.scale_shift", x, scale=2.0, stream=s).numpy(),
                                   2 * x)

        total, peak = ops.run("testops.row_stats", x, num_outputs=2)
        assert total.shape == peak.shape == (3, 4)
        np.testing.assert_allclose(total.numpy(), x.sum(axis=-1), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(peak.numpy(), x.max(axis=-1))
        # Built-in ops with several outputs take the same path.
        dx, dw, db = ops.run("layer_norm_backward", x, x, None, num_outputs=3)
        assert dx.shape == x.shape and dw.shape == db.shape == (5,)
        print("ok")
    """)


def test_errors_name_the_problem(plugin_env):
    run_child(plugin_env, r"""
        import numpy as np
        import pytest
        import xpuruntime as xrt
        from xpuruntime import ops

        x = np.ones((2, 3), np.float32)
        with pytest.raises(xrt.InvalidArgument, match="the op is element-wise"):
            ops.run("testops.scale_shift", x, np.ones((3,), np.float32))
        with pytest.raises(xrt.InvalidArgument, match=r"unknown attribute 'bias' \(expected: scale, shift\)"):
            ops.run("testops.scale_shift", x, bias=1.0)
        with pytest.raises(xrt.Unsupported, match=r"testops.scale_shift_f32 \(float32\)"):
            ops.run("testops.scale_shift", x.astype(np.float64))
        with pytest.raises(xrt.InvalidArgument, match="non-empty last axis, got 0 dimensions"):
            ops.run("testops.row_stats", np.float32(1), num_outputs=2)
        with pytest.raises(xrt.InvalidArgument, match="has 2 outputs, the call asked for 1"):
            ops.run("testops.row_stats", x)
        with pytest.raises(xrt.InvalidArgument, match="num_outputs=0"):
            ops.run("testops.row_stats", x, num_outputs=0)
        with pytest.raises(xrt.NotFound, match="testops.scale_shift, testops.row_stats"):
            ops.run("testops.nothing", x)
        with pytest.raises(xrt.NotFound, match="unknown op 'badops.twice'"):
            ops.run("badops.twice", x)
        print("ok")
    """)


def test_profiler_records_plugin_ops(plugin_env):
    run_child(plugin_env, r"""
        import numpy as np
        import xpuruntime as xrt
        from xpuruntime import ops

        x = np.ones((4, 6), np.float32)
        with xrt.Profiler() as prof:
            ops.run("testops.row_stats", x, num_outputs=2)
        [event] = [e for e in prof.events() if e["name"] == "testops.row_stats"]
        assert event["args"]["impl"] == "testops.row_stats_f32", event
        assert event["args"]["backend"] == "testops" and event["args"]["x"] == "(4, 6)", event
        assert "testops.row_stats" in prof.summary()
        print("ok")
    """)


def test_broken_op_sections_make_the_plugin_unavailable(plugin_env):
    out = run_child(plugin_env, r"""
        import json
        import xpuruntime as xrt
        print(json.dumps({b.name: [b.available, b.reason] for b in xrt.backends()}))
    """)
    backends = json.loads(out)
    assert backends["testops"][0], backends["testops"]
    for fault, reason in BROKEN.items():
        available, why = backends[f"badops_{fault}"]
        assert not available and reason in why, (fault, why)
