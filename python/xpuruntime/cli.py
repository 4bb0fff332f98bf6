"""Command line: ``xpuruntime info`` and ``xpuruntime demo``."""

import argparse
import math
import sys
import time

import numpy as np

import xpuruntime as xrt
from xpuruntime import ops


def _bytes(n):
    if n < 1024:
        return f"{n} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}"


def _print_devices():
    print("devices:")
    for device in xrt.devices():
        if device.kind == "cuda":
            cc = device.compute_capability
            units = f"{device.compute_units} SMs, sm_{cc // 10}{cc % 10}"
        else:
            units = f"{device.compute_units} cores"
        detail = f"{device.description}, " if device.description else ""
        print(f"  {device.name:<8} {detail}{units}, {_bytes(device.total_memory)}")


def _print_backends():
    print("backends:")
    for backend in xrt.backends():
        if backend.available:
            state = backend.version or "available"
        else:
            state = f"unavailable: {backend.reason}"
        origin = "built-in" if backend.builtin else backend.path
        print(f"  {backend.name:<12} {state}" + (f"  ({origin})" if origin else ""))


def info(args):
    print(f"xpuruntime {xrt.__version__}")
    _print_devices()
    _print_backends()
    print("memory:")
    for device in xrt.devices():
        stats = xrt.memory_stats(device)
        print(f"  {device.name:<8} allocated {_bytes(stats['allocated_bytes'])}, "
              f"reserved {_bytes(stats['reserved_bytes'])}, "
              f"peak {_bytes(stats['peak_allocated_bytes'])}, "
              f"{stats['num_allocs']} allocations")
    return 0


def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _layer_norm(x, w, b, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _attention(q, k, v):
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    return _softmax(scores) @ v


def _cases(rng):
    """(label, op, float32 inputs, float64 reference)."""
    def data(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    a, b = data(512, 512), data(512, 512)
    x, w, bias = data(64, 1024), data(1024), data(1024)
    s = data(64, 1024)
    g = data(256, 1024)
    q, k, v = data(1, 8, 256, 64), data(1, 8, 256, 64), data(1, 8, 256, 64)
    f64 = [t.astype(np.float64) for t in (a, b, x, w, bias, s, g, q, k, v)]
    a64, b64, x64, w64, bias64, s64, g64, q64, k64, v64 = f64
    return [
        ("matmul 512x512x512", ops.matmul, (a, b), a64 @ b64),
        ("layer_norm 64x1024", ops.layer_norm, (x, w, bias), _layer_norm(x64, w64, bias64)),
        ("softmax 64x1024", ops.softmax, (s,), _softmax(s64)),
        ("gelu 256x1024", ops.gelu, (g,), g64 * 0.5 * (1.0 + _erf(g64 / math.sqrt(2.0)))),
        ("attention 1x8x256x64", ops.attention, (q, k, v), _attention(q64, k64, v64)),
    ]


def _median_ms(op, inputs, device, runs):
    event = xrt.Event(device)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        op(*inputs)
        event.record()
        event.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def demo(args):
    print(f"xpuruntime {xrt.__version__}")
    _print_devices()
    _print_backends()
    rng = np.random.default_rng()
    cases = _cases(rng)
    for device in xrt.devices():
        print(f"\nops on {device.name} (float32, error vs a float64 numpy reference):")
        print(f"  {'op':<24}{'max abs error':>14}{'median':>12}")
        for label, op, inputs, reference in cases:
            on_device = [xrt.asarray(t, device=device) for t in inputs]
            result = op(*on_device).numpy()
            error = float(np.max(np.abs(result.astype(np.float64) - reference)))
            ms = _median_ms(op, on_device, device, args.runs)
            print(f"  {label:<24}{error:>14.2e}{ms:>9.3f} ms")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="xpuruntime", description="xpuruntime: tensors, ops and models on every device")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="version, devices, backends and memory").set_defaults(run=info)
    demo_parser = commands.add_parser("demo", help="run a few ops on every device and check them")
    demo_parser.add_argument("--runs", type=int, default=5, help="timed runs per op (default 5)")
    demo_parser.set_defaults(run=demo)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except xrt.Error as error:
        print(f"xpuruntime: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
