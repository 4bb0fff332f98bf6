import os
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


def test_version():
    result = run_module("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"xpuruntime {xrt.__version__}"


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


# ---- models ----------------------------------------------------------------

import json  # noqa: E402
import pathlib  # noqa: E402

import pytest  # noqa: E402

DEMO_MODEL = str(pathlib.Path(xrt.__file__).parent / "models" / "demo_encoder.onnx")
needs_model_backend = pytest.mark.skipif(
    not any(b.available and b.runs_models for b in xrt.backends()),
    reason="no backend runs models (onnxruntime not installed or its plugin not built)")


def test_demo_model_is_shipped():
    assert pathlib.Path(DEMO_MODEL).is_file()
    assert pathlib.Path(DEMO_MODEL).stat().st_size < 1024 * 1024


@needs_model_backend
def test_info_lists_backend_details():
    result = run_module("info")
    assert result.returncode == 0, result.stderr
    assert "runs models" in result.stdout
    for backend in xrt.backends():
        if backend.details:
            assert backend.details in result.stdout


@needs_model_backend
def test_demo_runs_the_model():
    result = run_module("demo", "--runs", "2")
    assert result.returncode == 0, result.stderr
    assert "demo_encoder.onnx" in result.stdout
    assert " ms" in result.stdout.split("demo_encoder.onnx", 1)[1]


@needs_model_backend
def test_run_describes_outputs_and_saves(tmp_path):
    result = run_module("run", DEMO_MODEL, "--dim", "seq=5", "--save", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "hidden" in result.stdout and "[1, 5, 64]" in result.stdout
    assert "float32" in result.stdout and "mean" in result.stdout
    import numpy as np

    saved = np.load(tmp_path / "hidden.npy")
    assert saved.shape == (1, 5, 64)
    # Given inputs are used as they are.
    tokens = np.ones((2, 3, 64), np.float32)
    np.save(tmp_path / "tokens.npy", tokens)
    result = run_module("run", DEMO_MODEL, "--input", f"tokens={tmp_path / 'tokens.npy'}")
    assert result.returncode == 0, result.stderr
    assert "[2, 3, 64]" in result.stdout


@needs_model_backend
def test_run_rejects_unknown_input_name(tmp_path):
    import numpy as np

    np.save(tmp_path / "x.npy", np.ones(3, np.float32))
    result = run_module("run", DEMO_MODEL, "--input", f"nope={tmp_path / 'x.npy'}")
    assert result.returncode == 1
    assert "nope" in result.stderr


@needs_model_backend
def test_bench_json():
    result = run_module("bench", DEMO_MODEL, "--warmup", "2", "--runs", "20", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["runs"] == 20
    assert 0 < report["p50_ms"] <= report["p90_ms"] <= report["p99_ms"]
    assert report["throughput_per_s"] > 0
    assert report["backend"] and report["device"] == "cpu"


@needs_model_backend
def test_bench_text_with_duration():
    result = run_module("bench", DEMO_MODEL, "--warmup", "1", "--duration", "0.3")
    assert result.returncode == 0, result.stderr
    for key in ("p50", "p90", "p99", "throughput"):
        assert key in result.stdout


@needs_model_backend
def test_bench_all_backends_prints_the_selection(tmp_path):
    env_run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "xpuruntime", *args], capture_output=True, text=True,
        timeout=120, env={**os.environ, "XRT_CACHE_DIR": str(tmp_path)})
    first = env_run("bench", DEMO_MODEL, "--all-backends", "--runs", "5", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)["selection"]
    assert report["cached"] is False and report["cost_ms"] > 0
    assert report["chosen"] == json.loads(first.stdout)["backend"]
    text = env_run("bench", DEMO_MODEL, "--all-backends", "--runs", "5")
    assert text.returncode == 0, text.stderr
    # One candidate alone (OpenVINO absent, as under the sanitizers) is
    # taken without measuring, so nothing is cached.
    measured = len(report["candidates"]) > 1
    assert ("read from the cache" if measured else "chosen without measuring") in text.stdout
    for c in report["candidates"]:
        assert c["candidate"] in text.stdout


@needs_model_backend
def test_bench_all_backends_says_when_nothing_was_measured(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "xpuruntime", "bench", DEMO_MODEL, "--all-backends", "--policy",
         "first", "--runs", "3"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "XRT_CACHE_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    first_line = result.stdout.splitlines()[0]
    assert "policy first" in first_line and "chosen without measuring" in first_line
    assert "not measured (policy first)" in result.stdout


def test_bench_all_backends_refuses_a_named_backend():
    result = run_module("bench", DEMO_MODEL, "--all-backends", "--backend", "onnxruntime")
    assert result.returncode != 0
    assert "--all-backends" in result.stderr


def test_bench_policy_needs_all_backends():
    result = run_module("bench", DEMO_MODEL, "--policy", "throughput")
    assert result.returncode != 0
    assert "--policy throughput" in result.stderr and "--all-backends" in result.stderr


@needs_model_backend
def test_compare_agrees():
    result = run_module("compare", DEMO_MODEL, "--dim", "seq=4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok" in result.stdout and "FAIL" not in result.stdout


def test_compare_tolerance_rule():
    import numpy as np

    from xpuruntime.cli import _agree

    ok, abs_err, rel_err = _agree(np.array([1.0, 2.0]), np.array([1.0, 2.0005]), 1e-4, 1e-3)
    assert ok and abs_err == pytest.approx(5e-4) and rel_err == pytest.approx(5e-4 / 2.0005)
    assert not _agree(np.array([1.0]), np.array([1.1]), 1e-4, 1e-3)[0]
    assert not _agree(np.zeros((2, 3)), np.zeros((3, 2)), 1, 1)[0]


# ---- bad options: a usage error or a typed one, naming the option ----------

@pytest.mark.parametrize("args, words", [
    (["bench", DEMO_MODEL, "--runs", "0"], "argument --runs: 0 is out of range; expected at "
                                           "least 1"),
    (["bench", DEMO_MODEL, "--duration", "-1"], "argument --duration: -1 is out of range; "
                                                "expected above 0"),
    (["bench", DEMO_MODEL, "--warmup", "x"], "argument --warmup: 'x' is not an integer"),
    (["run", DEMO_MODEL, "--seed", "-2"], "argument --seed: -2 is out of range"),
    (["compare", DEMO_MODEL, "--rtol=-1e-3"], "argument --rtol: -1e-3 is out of range"),
    (["serve", DEMO_MODEL, "--port", "70000"], "argument --port: 70000 is out of range; "
                                               "expected at least 0 and at most 65535"),
    (["serve", DEMO_MODEL, "--max-batch", "0"], "argument --max-batch: 0 is out of range"),
])
def test_numbers_out_of_range_are_usage_errors(capsys, args, words):
    with pytest.raises(SystemExit) as exit:
        main(args)
    assert exit.value.code == 2
    assert words in capsys.readouterr().err


@needs_model_backend
def test_bad_inputs_and_dims_are_named(tmp_path, capsys):
    import numpy as np

    (tmp_path / "junk.npy").write_bytes(b"not an array")
    np.save(tmp_path / "objects.npy", np.array([object()]), allow_pickle=True)
    cases = [
        (["--input", f"tokens={tmp_path / 'junk.npy'}"], "--input tokens="),
        (["--input", f"tokens={tmp_path / 'objects.npy'}"], "allow_pickle=False"),
        (["--input", f"tokens={tmp_path / 'missing.npy'}"], "No such file"),
        (["--dim", "nope=2"], "--dim nope: the model's inputs have no symbolic dimension "
                              "'nope' (they have: batch, seq)"),
        (["--dim", "seq=-3"], "--dim seq=-3: expected an integer size >= 0"),
        (["--dim", "seq=two"], "--dim seq=two: expected an integer size >= 0"),
        (["--dim", "seq=99999999999999"], "out of memory"),
    ]
    for extra, words in cases:
        assert main(["run", DEMO_MODEL, *extra]) == 1
        assert words in capsys.readouterr().err, extra
