"""Command line: ``xpuruntime info | demo | run | bench | compare | serve``."""

import argparse
import json
import math
import os
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
        if backend.available and backend.runs_models:
            print(f"  {'':<12} runs models")
        if backend.details:
            print(f"  {'':<12} {backend.details}")


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


DEMO_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models",
                          "demo_encoder.onnx")


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
            try:
                result = op(*on_device).numpy()
            except xrt.Unsupported as why:  # e.g. float32 attention has no GPU kernel
                print(f"  {label:<24}{'not run':>14}  ({why})")
                continue
            error = float(np.max(np.abs(result.astype(np.float64) - reference)))
            ms = _median_ms(op, on_device, device, args.runs)
            print(f"  {label:<24}{error:>14.2e}{ms:>9.3f} ms")
    _demo_model(args, rng)
    return 0


def _demo_model(args, rng):
    tokens = rng.standard_normal((1, 16, 64), dtype=np.float32)
    feed = {"tokens": tokens}
    print(f"\nmodel {os.path.basename(DEMO_MODEL)} (2-layer encoder, tokens 1x16x64):")
    sessions = _open_sessions(DEMO_MODEL)
    if not sessions:
        print("  no backend can run models here (pip install onnxruntime adds one)")
        return
    results = []
    print(f"  {'backend':<14}{'device':<10}{'median':>12}")
    for session in sessions:
        try:
            out = session.run(None, feed)[0]
        except xrt.Error as why:
            print(f"  {session.backend:<14}{session.device.name:<10}  not run ({why})")
            continue
        ms = _median_call_ms(lambda: session.run(None, feed), max(args.runs, 5))
        results.append((session, out))
        print(f"  {session.backend:<14}{session.device.name:<10}{ms:>9.3f} ms")
    if not results:
        return
    first_session, first = results[0]
    if len(results) > 1:
        worst = max(_max_abs(out, first) for _, out in results[1:])
        print(f"  largest abs difference between backends: {worst:.2e}")
    ort = _import_onnxruntime()
    if ort is not None:
        reference = ort.InferenceSession(DEMO_MODEL, providers=["CPUExecutionProvider"])
        expected = reference.run(None, feed)[0]
        worst = max(_max_abs(out, expected) for _, out in results)
        print(f"  largest abs difference vs onnxruntime {ort.__version__}: {worst:.2e}")
    for session in sessions:
        session.close()


def _median_call_ms(call, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def _max_abs(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def _import_onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def _model_backends():
    return [b.name for b in xrt.backends() if b.available and b.runs_models]


def _open_sessions(model, backends=None, devices=None):
    """A session for every backend and device that can run models (or those asked for)."""
    sessions = []
    for backend in backends or _model_backends():
        for device in devices or [d.name for d in xrt.devices()]:
            try:
                sessions.append(xrt.InferenceSession(model, backend=backend, device=device))
            except (xrt.Unsupported, xrt.NotFound) as error:
                if backends and devices:
                    raise
                print(f"  ({backend} on {device}: {error})", file=sys.stderr)
    return sessions


def _number(kind, minimum, above=False, maximum=None):
    """An argparse type: a ``kind`` (int or float) at least ``minimum``
    (above it with ``above``) and at most ``maximum``, so that a bad value
    is a usage error naming the option rather than a run that ignores it."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        low = value < minimum or (above and value == minimum)
        if low or (maximum is not None and value > maximum):
            bound = f"{'above' if above else 'at least'} {minimum}"
            if maximum is not None:
                bound += f" and at most {maximum}"
            raise argparse.ArgumentTypeError(f"{text} is out of range; expected {bound}")
        return value
    return convert


def _pairs(items, what):
    result = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"xpuruntime: {what} must look like name=value, not {item!r}")
        result[name] = value
    return result


def _make_feed(session, args, rng):
    """Inputs from --input files, else random data of each input's dtype and shape."""
    files = _pairs(getattr(args, "input", None), "--input")
    dims = _dims(_pairs(getattr(args, "dim", None), "--dim"), session)
    feed = {}
    for arg in session.get_inputs():
        if arg.name in files:
            feed[arg.name] = _load_input(arg.name, files.pop(arg.name))
            continue
        shape = [d if isinstance(d, int) else dims.get(d, 1) if isinstance(d, str) else 1
                 for d in arg.shape]
        dtype = arg.dtype
        if dtype is None:
            raise xrt.Unsupported(f"input {arg.name!r} has type {arg.type}, which has no numpy dtype")
        if _is_float(dtype):
            value = rng.standard_normal(shape).astype(dtype)
        elif dtype.kind == "b":
            value = rng.integers(0, 2, shape).astype(bool)
        else:
            value = rng.integers(0, 10, shape).astype(dtype)
        feed[arg.name] = value
    if files:
        names = ", ".join(a.name for a in session.get_inputs())
        raise xrt.InvalidArgument(f"--input names {', '.join(files)} are not model inputs "
                                  f"(the model takes {names})")
    return feed


def _dims(pairs, session):
    """--dim NAME=VALUE as {name: size}, each a symbolic dimension of the
    model's inputs and a size >= 0."""
    symbolic = {d for arg in session.get_inputs() for d in arg.shape if isinstance(d, str)}
    dims = {}
    for name, value in pairs.items():
        if name not in symbolic:
            known = ", ".join(sorted(symbolic)) or "none"
            raise xrt.InvalidArgument(f"--dim {name}: the model's inputs have no symbolic "
                                      f"dimension {name!r} (they have: {known})")
        try:
            dims[name] = int(value)
        except ValueError:
            dims[name] = -1
        if dims[name] < 0:
            raise xrt.InvalidArgument(f"--dim {name}={value}: expected an integer size >= 0")
    return dims


def _load_input(name, path):
    """The array in a .npy file, or InvalidArgument naming the option (no
    pickled objects: a .npy file must not run code)."""
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise xrt.InvalidArgument(f"--input {name}={path}: cannot read a .npy array "
                                  f"({error})") from None


def _is_float(dtype):
    """numpy's floats and ml_dtypes' (bfloat16, float8_*), whose kind is "V"."""
    return dtype.kind == "f" or dtype.name == "bfloat16" or dtype.name.startswith("float8")


def _open_one(args):
    backend = args.backend or "auto"
    return xrt.InferenceSession(args.model, backend=backend, device=args.device)


def _describe(name, array):
    array = np.asarray(array)
    line = f"  {name:<20} {str(list(array.shape)):<18} {array.dtype.name:<9}"
    if array.size and (array.dtype.kind in "biu" or _is_float(array.dtype)):
        data = array.astype(np.float64)
        line += f" min {data.min():.4g}  max {data.max():.4g}  mean {data.mean():.4g}"
    return line


def run(args):
    rng = np.random.default_rng(args.seed)
    with _open_one(args) as session:
        feed = _make_feed(session, args, rng)
        print(f"{args.model} on {session.backend} ({session.device.name})")
        print("inputs:")
        for name, value in feed.items():
            print(_describe(name, value))
        outputs = session.run(None, feed)
        print("outputs:")
        for arg, value in zip(session.get_outputs(), outputs):
            print(_describe(arg.name, value))
        if args.save:
            os.makedirs(args.save, exist_ok=True)
            for arg, value in zip(session.get_outputs(), outputs):
                path = os.path.join(args.save, _file_name(arg.name) + ".npy")
                np.save(path, value)
            print(f"outputs saved to {args.save}")
    return 0


def _file_name(name):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "output"


class _Progress:
    """A textual progress bar on stderr, shown once a run has taken over a second."""

    def __init__(self, total_runs=None, duration=None):
        self.total_runs = total_runs
        self.duration = duration
        self.start = time.perf_counter()
        self.shown = False
        self.last = 0.0

    def update(self, done, final=False):
        now = time.perf_counter()
        elapsed = now - self.start
        if not final and (elapsed < 1.0 or now - self.last < 0.1):
            return
        self.last = now
        if self.total_runs:
            fraction = done / self.total_runs
        else:
            fraction = 1.0 if final else min(elapsed / self.duration, 1.0)
        width = 30
        filled = int(fraction * width)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}% "
                         f"{done} runs {elapsed:.1f} s")
        sys.stderr.flush()
        self.shown = True

    def finish(self, done):
        if self.shown:
            self.update(done, final=True)
            sys.stderr.write("\n")
            sys.stderr.flush()


def _selection_lines(report):
    """backend="auto"'s choice as a table: every candidate's time or why it
    could not run, and what choosing cost."""
    measured = any("median_us" in c for c in report["candidates"])
    how = ("read from the cache" if report["cached"]
           else "measured" if measured else "chosen without measuring")
    lines = [f"backend auto, policy {report['policy']}: {report['chosen']} "
             f"({how} in {report['cost_ms']:.1f} ms)",
             f"  {'candidate':<24}{'backend':<14}{'median':>12}{'runs/s':>12}{'runs':>6}"]
    for c in report["candidates"]:
        mark = "*" if c["candidate"] == report["chosen"] else " "
        if "median_us" in c:
            lines.append(f"{mark} {c['candidate']:<24}{c['backend']:<14}"
                         f"{c['median_us']:>9.1f} us{c['runs_per_s']:>12.1f}{c['runs']:>6}")
        else:
            lines.append(f"{mark} {c['candidate']:<24}{c['backend']:<14}"
                         f"  {c.get('error', 'not measured (policy first)')}")
    return lines


def bench(args):
    rng = np.random.default_rng(args.seed)
    if args.all_backends:
        if args.backend not in (None, "auto"):
            raise xrt.InvalidArgument(f"--all-backends measures every backend; it cannot be "
                                      f"combined with --backend {args.backend}")
        # Without --policy the runtime's default policy applies.
        chosen = {} if args.policy is None else {"policy": args.policy}
        session = xrt.InferenceSession(args.model, backend="auto", device=args.device, **chosen)
    elif args.policy is not None:
        # Without --all-backends one backend runs, so a policy would be ignored.
        raise xrt.InvalidArgument(f"--policy {args.policy} chooses among backends; it needs "
                                  f"--all-backends")
    else:
        session = _open_one(args)
    with session:
        feed = _make_feed(session, args, rng)
        for _ in range(args.warmup):
            session.run(None, feed)
        duration = args.duration if args.runs is None else None
        progress = _Progress(args.runs, duration)
        times = []
        start = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            session.run(None, feed)
            t1 = time.perf_counter()
            times.append(t1 - t0)
            progress.update(len(times))
            if args.runs is not None:
                if len(times) >= args.runs:
                    break
            elif t1 - start >= duration:
                break
        total = time.perf_counter() - start
        progress.finish(len(times))
        ms = np.array(times) * 1e3
        result = {
            "model": str(args.model),
            "backend": session.backend,
            "device": session.device.name,
            "inputs": {name: list(np.shape(value)) for name, value in feed.items()},
            "warmup": args.warmup,
            "runs": len(times),
            "p50_ms": float(np.percentile(ms, 50)),
            "p90_ms": float(np.percentile(ms, 90)),
            "p99_ms": float(np.percentile(ms, 99)),
            "mean_ms": float(ms.mean()),
            "min_ms": float(ms.min()),
            "throughput_per_s": len(times) / total,
        }
        if args.all_backends:
            result["selection"] = session.selection
    if args.json:
        print(json.dumps(result))
        return 0
    if args.all_backends:
        print("\n".join(_selection_lines(result["selection"])))
    print(f"{args.model} on {result['backend']} ({result['device']}), inputs "
          + ", ".join(f"{k} {v}" for k, v in result["inputs"].items()))
    print(f"  runs        {result['runs']} (after {args.warmup} warm-up)")
    for key in ("p50", "p90", "p99"):
        print(f"  {key} latency {result[key + '_ms']:.3f} ms")
    print(f"  throughput  {result['throughput_per_s']:.1f} runs/s")
    return 0


def compare(args):
    rng = np.random.default_rng(args.seed)
    ort = _import_onnxruntime()
    reference_name = args.reference or ("onnxruntime" if ort is not None else None)
    candidates = _open_sessions(args.model)
    if not candidates:
        raise xrt.Unsupported("no backend can run models here (pip install onnxruntime adds one)")
    if reference_name == "onnxruntime":
        if ort is None:
            raise xrt.NotFound("--reference onnxruntime needs the onnxruntime package")
        ort_session = ort.InferenceSession(str(args.model), providers=["CPUExecutionProvider"])
        reference_label = f"onnxruntime {ort.__version__} (Python API)"
        output_names = [o.name for o in ort_session.get_outputs()]

        def reference_run(feed):
            return ort_session.run(None, feed)
    else:
        if reference_name is None:
            ref = candidates.pop(0)
        else:
            ref = xrt.InferenceSession(args.model, backend=reference_name, device="cpu")
            candidates = [s for s in candidates
                          if (s.backend, s.device) != (ref.backend, ref.device)]
        reference_label = f"{ref.backend} on {ref.device.name}"
        output_names = [o.name for o in ref.get_outputs()]

        def reference_run(feed):
            return ref.run(None, feed)

    feed = _make_feed(candidates[0] if candidates else ref, args, rng)
    expected = reference_run(feed)
    print(f"{args.model}: reference {reference_label}; atol {args.atol:g}, rtol {args.rtol:g}")
    print(f"  {'backend':<14}{'device':<8}{'output':<20}{'max abs':>11}{'max rel':>11}  result")
    failed = False
    for session in candidates:
        outputs = session.run(output_names, feed)
        for name, got, want in zip(output_names, outputs, expected):
            ok, abs_err, rel_err = _agree(got, want, args.atol, args.rtol)
            failed |= not ok
            print(f"  {session.backend:<14}{session.device.name:<8}{name:<20}"
                  f"{abs_err:>11.2e}{rel_err:>11.2e}  {'ok' if ok else 'FAIL'}")
        session.close()
    if not candidates:
        print("  (no other backend or device to compare)")
    return 1 if failed else 0


def _agree(got, want, atol, rtol):
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        return False, float("inf"), float("inf")
    if got.size == 0:
        return True, 0.0, 0.0
    a = got.astype(np.float64)
    b = want.astype(np.float64)
    diff = np.abs(a - b)
    abs_err = float(np.max(diff))
    rel_err = float(np.max(diff / np.maximum(np.abs(b), np.finfo(np.float64).tiny)))
    ok = bool(np.all(diff <= atol + rtol * np.abs(b)))
    return ok, abs_err, rel_err


def serve(args):
    try:
        from xpuruntime import serve as serving
    except ImportError as error:
        print(f"xpuruntime: {error}", file=sys.stderr)
        return 1
    return serving.run(args.model, host=args.host, port=args.port, replicas=args.replicas,
                       gpus_per_replica=args.gpus_per_replica,
                       cpus_per_replica=args.cpus_per_replica, max_batch=args.max_batch,
                       batch_wait_s=args.batch_wait_ms / 1e3,
                       address=args.address, max_request_bytes=args.max_request_bytes)


def _serve_options(commands):
    parser = commands.add_parser(
        "serve", help="serve models over the Open Inference Protocol (KServe v2, Triton HTTP)",
        description="Serves a model file (under its name without the extension) or a "
                    "Triton-layout repository folder (NAME/VERSION/model.onnx) over the "
                    "Open Inference Protocol on Ray Serve: /v2/health/live, "
                    "/v2/health/ready, /v2/models/NAME[/versions/V][/ready|/infer|/stats], "
                    "JSON and binary tensors. Prints the URL on its own line once the "
                    "models are deployed; stops on Ctrl-C or SIGTERM. Needs the serve "
                    "extra: pip install 'xpuruntime[serve]'.")
    parser.add_argument("model", metavar="MODEL_OR_REPO",
                        help="an ONNX file or a repository folder")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=_number(int, 0, maximum=65535), default=8000,
                        help="HTTP port (default 8000)")
    parser.add_argument("--replicas", type=_number(int, 1), default=1,
                        help="replicas per model (default 1)")
    parser.add_argument("--gpus-per-replica", type=_number(float, 0), default=0,
                        help="GPUs Ray gives each replica; above 0 sessions run on cuda:0 "
                             "of the replica's GPUs (default 0: CPU)")
    parser.add_argument("--cpus-per-replica", type=_number(float, 0), default=1,
                        help="CPUs Ray reserves for each replica (default 1)")
    parser.add_argument("--max-batch", type=_number(int, 1), default=8,
                        help="rows per batched run for models with a dynamic batch "
                             "dimension (default 8; 1 turns batching off)")
    parser.add_argument("--batch-wait-ms", type=_number(float, 0), default=2.0,
                        help="how long a batch waits for more requests (default 2 ms)")
    parser.add_argument("--max-request-bytes", type=_number(int, 1), default=None,
                        help="larger request bodies get HTTP 413 (default 64 MiB)")
    parser.add_argument("--address", default=None,
                        help="a running Ray cluster (ray://HOST:10001 or auto); "
                             "default: start a local instance")
    parser.set_defaults(run=serve)


def _model_options(parser, seed=True):
    parser.add_argument("model", help="path of an ONNX model")
    parser.add_argument("--backend", default=None, help="backend name (default: auto)")
    parser.add_argument("--device", default="cpu", help="device name (default: cpu)")
    parser.add_argument("--input", action="append", metavar="NAME=FILE.npy",
                        help="an input from a .npy file (repeatable); others are random")
    parser.add_argument("--dim", action="append", metavar="NAME=VALUE",
                        help="size of a symbolic dimension (default 1; repeatable)")
    if seed:
        parser.add_argument("--seed", type=_number(int, 0), default=0,
                            help="seed of the random inputs")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="xpuruntime", description="xpuruntime: tensors, ops and models on every device")
    parser.add_argument("--version", action="version", version=f"xpuruntime {xrt.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="version, devices, backends and memory").set_defaults(run=info)
    demo_parser = commands.add_parser(
        "demo", help="run a few ops and the demo model on every device and check them")
    demo_parser.add_argument("--runs", type=_number(int, 1), default=5,
                             help="timed runs per op (default 5)")
    demo_parser.set_defaults(run=demo)

    run_parser = commands.add_parser("run", help="run a model once and describe its outputs")
    _model_options(run_parser)
    run_parser.add_argument("--save", metavar="DIR", help="save each output as DIR/<name>.npy")
    run_parser.set_defaults(run=run)

    bench_parser = commands.add_parser("bench", help="latency percentiles and throughput of a model")
    _model_options(bench_parser)
    bench_parser.add_argument("--warmup", type=_number(int, 0), default=10,
                              help="untimed runs first (default 10)")
    amount = bench_parser.add_mutually_exclusive_group()
    amount.add_argument("--runs", type=_number(int, 1), default=None, help="timed runs")
    amount.add_argument("--duration", type=_number(float, 0, above=True), default=3.0,
                        help="seconds of timed runs when --runs is not given (default 3)")
    bench_parser.add_argument("--json", action="store_true", help="print one JSON object")
    bench_parser.add_argument("--all-backends", action="store_true",
                              help="let backend auto run the model on every backend that can "
                                   "serve the device; print their times and the one it keeps")
    bench_parser.add_argument("--policy", default=None,
                              help="with --all-backends: latency (default), throughput, "
                                   "prefer_npu or first")
    bench_parser.set_defaults(run=bench)

    compare_parser = commands.add_parser(
        "compare", help="run a model on every backend and device and check they agree")
    compare_parser.add_argument("model", help="path of an ONNX model")
    compare_parser.add_argument("--atol", type=_number(float, 0), default=1e-4)
    compare_parser.add_argument("--rtol", type=_number(float, 0), default=1e-3)
    compare_parser.add_argument("--reference", default=None,
                                help="onnxruntime (its Python API; the default when installed) "
                                     "or a backend name (default otherwise: the first backend)")
    compare_parser.add_argument("--input", action="append", metavar="NAME=FILE.npy")
    compare_parser.add_argument("--dim", action="append", metavar="NAME=VALUE")
    compare_parser.add_argument("--seed", type=_number(int, 0), default=0)
    compare_parser.set_defaults(run=compare)
    _serve_options(commands)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except xrt.Error as error:
        print(f"xpuruntime: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"xpuruntime: {error}", file=sys.stderr)
        return 1
    except MemoryError as error:  # random inputs of the --dim sizes asked for, say
        print(f"xpuruntime: out of memory: {error}", file=sys.stderr)
        return 1
