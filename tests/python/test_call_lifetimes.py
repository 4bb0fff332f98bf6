"""A call holds every handle it uses for as long as it runs: Python code the
call runs on the way (an operand's __array__, an attribute's __float__, a
feed's __array__) and other threads cannot free a tensor or a session under
it. Each case ends in a correct result or a typed error, never a crash or a
result of the wrong shape."""

import threading

import numpy as np
import pytest

import xpuruntime as xrt
from xpuruntime import ops


class _ReleasesOnConversion:
    """An array-like whose conversion releases a tensor the call already has."""

    def __init__(self, victim, value):
        self.victim, self.value = victim, value

    def __array__(self, dtype=None, copy=None):
        self.victim.release()
        return self.value


def _norm_inputs(rng):
    x = xrt.asarray(rng.standard_normal((3, 8)).astype(np.float32))
    weight = np.ones(8, np.float32)
    return x, weight


@pytest.mark.parametrize("op", ["layer_norm", "rms_norm"])
def test_operand_conversion_releasing_x_is_a_typed_error(op, rng):
    x, weight = _norm_inputs(rng)
    with pytest.raises(xrt.InvalidArgument, match="released"):
        getattr(ops, op)(x, _ReleasesOnConversion(x, weight))


def test_binary_operand_conversion_releasing_a_is_a_typed_error(rng):
    a = xrt.asarray(rng.standard_normal((4, 5)).astype(np.float32))
    with pytest.raises(xrt.InvalidArgument, match="released"):
        ops.matmul(a, _ReleasesOnConversion(a, np.eye(5, dtype=np.float32)))


def test_attribute_conversion_releasing_an_input_is_a_typed_error(rng):
    x, weight = _norm_inputs(rng)

    class Eps(float):
        def __float__(self):
            x.release()
            return 1e-5

    with pytest.raises(xrt.InvalidArgument, match="released"):
        ops.run("layer_norm", x, weight, None, eps=Eps(1e-5))


def test_release_on_another_thread_never_breaks_a_running_op(rng):
    """Tensors released by one thread while others run ops on them: every
    call gives the right answer or says the tensor was released."""
    data = rng.standard_normal((64, 256)).astype(np.float32)
    weight = rng.standard_normal(256).astype(np.float32)
    mean = data.mean(-1, keepdims=True)
    expected = (data - mean) / np.sqrt(data.var(-1, keepdims=True) + 1e-5) * weight
    failures = []

    def worker():
        for _ in range(200):
            x = xrt.asarray(data.copy())
            releaser = threading.Thread(target=x.release)
            releaser.start()
            try:
                out = ops.layer_norm(x, weight, None)
            except xrt.InvalidArgument as error:
                if "released" not in str(error):
                    failures.append(repr(error))
            else:
                if not np.allclose(np.asarray(out), expected, rtol=1e-4, atol=1e-4):
                    failures.append("wrong result")
            releaser.join()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[:5]


def test_stream_and_event_cannot_be_reinitialised():
    stream, event = xrt.Stream("cpu"), xrt.Event("cpu")
    with pytest.raises(xrt.InvalidArgument, match="already initialised"):
        stream.__init__("cpu")
    with pytest.raises(xrt.InvalidArgument, match="already initialised"):
        event.__init__("cpu")
    event.record(stream)
    event.synchronize()
