"""10,000 failing calls (bad names, shapes, dtypes and values to sessions and
ops): each raises the typed error whose message names the bad value and what
was expected, and the process does not grow while they fail."""

import gc
import itertools

import numpy as np
import pytest
from soak_support import FEATURES, MODEL_BACKENDS, SCALE, Mlp, rss_bytes

import xpuruntime as xrt
from xpuruntime import ops

CALLS = 10_000 * SCALE
WARM_UP = 1_000
# Failing calls must not keep anything; a leak of one 64 KiB input per call
# would add 640 MiB here, while allocator noise stays within a few MiB.
GROWTH_BOUND = 32 << 20


def _session_faults(session, closed):
    # 64 KiB inputs, so a leaked input shows in the RSS.
    x = np.ones((1024, FEATURES), np.float32)
    return [
        (lambda: closed.run(None, {"x": x}), xrt.InvalidArgument, ["session is closed"]),
        (lambda: session.run(None, {"nope": x}), xrt.InvalidArgument,
         ["unknown input 'nope'", "model inputs: x"]),
        (lambda: session.run(None, {}), xrt.InvalidArgument, ["missing input 'x'"]),
        (lambda: session.run(["nope"], {"x": x}), xrt.InvalidArgument,
         ["unknown output 'nope'", "model outputs: y"]),
        (lambda: session.run(None, {"x": x.astype(np.float64)}), xrt.InvalidArgument,
         ["dtype float64", "expects float32"]),
        (lambda: session.run(None, {"x": x.reshape(-1)}), xrt.InvalidArgument,
         [f"({1024 * FEATURES},)", "expects rank 2"]),
        (lambda: session.run(None, {"x": np.ones((1024, FEATURES + 1), np.float32)}),
         xrt.InvalidArgument, [f"(1024, {FEATURES + 1})", f", {FEATURES})", "dimension 1"]),
        (lambda: session.run(None, {"x": "text"}), xrt.Unsupported,
         ["dtype <U4", "expected one of", "float32"]),
    ]


def _op_faults():
    a = np.ones((128, 128), np.float32)
    return [
        (lambda: ops.matmul(a, np.ones((64, 8), np.float32)), xrt.InvalidArgument,
         ["(128, 128)", "(64, 8)"]),
        (lambda: ops.add(a, np.ones((3, 128), np.float32)), xrt.InvalidArgument,
         ["(128, 128)", "(3, 128)"]),
        (lambda: ops.softmax(a, axis=5), xrt.InvalidArgument, ["axis 5"]),
        (lambda: ops.add(a, a.astype(np.float64)), xrt.InvalidArgument,
         ["float32", "float64"]),
        (lambda: ops.gelu(np.ones((128, 128), np.int32)), xrt.Unsupported, ["gelu", "int32"]),
        (lambda: ops.layer_norm(a, np.ones(64, np.float32)), xrt.InvalidArgument, ["(64,)"]),
        (lambda: ops.run("no_such_op", a), xrt.NotFound, ["no_such_op", "known ops"]),
        (lambda: xrt.Device("tpu:0"), xrt.NotFound, ["tpu:0", "available"]),
    ]


def _fail_all(faults, calls):
    for call, error_type, parts in itertools.islice(itertools.cycle(faults), calls):
        with pytest.raises(error_type) as caught:
            call()
        message = str(caught.value)
        for part in parts:
            assert part in message, f"{error_type.__name__} {message!r} does not say {part!r}"


def _check_growth(name, faults, calls=CALLS, warm_up=WARM_UP):
    _fail_all(faults, warm_up)
    gc.collect()
    before = rss_bytes()
    _fail_all(faults, calls)
    gc.collect()
    after = rss_bytes()
    print(f"{name}: RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB over {calls} "
          f"failing calls ({(after - before) / 2**10:+.0f} KiB)")
    assert after - before < GROWTH_BOUND, f"{name}: RSS grew by {(after - before) >> 20} MiB"


@pytest.mark.slow
@pytest.mark.parametrize("backend", MODEL_BACKENDS)
def test_failing_session_runs_do_not_grow(backend, rng):
    mlp = Mlp(rng)
    closed = xrt.InferenceSession(mlp.bytes, backend=backend)
    closed.close()
    with xrt.InferenceSession(mlp.bytes, backend=backend) as session:
        _check_growth(f"{backend} session", _session_faults(session, closed))
        x = rng.standard_normal((3, FEATURES)).astype(np.float32)
        mlp.check(session.run(None, {"x": x})[0], x)  # still serves good calls


@pytest.mark.slow
def test_failing_ops_do_not_grow():
    _check_growth("ops", _op_faults())


@pytest.mark.slow
@pytest.mark.parametrize("backend", MODEL_BACKENDS)
def test_failing_session_creation_does_not_grow(backend, rng):
    mlp = Mlp(rng)
    faults = [
        (lambda: xrt.InferenceSession(b"\x08\x07not a model", backend=backend),
         xrt.InvalidArgument, [backend]),
        (lambda: xrt.InferenceSession(mlp.bytes, backend=backend, no_such_option=1),
         xrt.InvalidArgument, ["no_such_option"]),
        (lambda: xrt.InferenceSession("/nonexistent/model.onnx", backend=backend), xrt.NotFound,
         ["/nonexistent/model.onnx"]),
    ]
    # Each creation costs a backend's parse, so fewer of them.
    _check_growth(f"{backend} creation", faults, calls=CALLS // 10, warm_up=WARM_UP // 10)
