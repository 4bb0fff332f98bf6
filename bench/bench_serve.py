"""`xpuruntime serve` (Open Inference Protocol on Ray Serve) under load from
loopback clients, against the server a user would otherwise write: FastAPI
on uvicorn around onnxruntime, speaking the same protocol, in the same run.

    python bench/bench_serve.py [--quick] [--no-save] [--duration S]

For the demo model (tokens 1x16x64) and ResNet-50 (onnx's light model,
1x3x224x224), JSON and binary requests, 1, 8 and 64 concurrent clients (one
asyncio/aiohttp process, request bodies encoded once): p50/p90/p99 latency
and requests/s of each server, and the ratio of their throughputs. A local
InferenceSession call gives the floor without any HTTP. Both servers get
one worker; xpuruntime batches the demo model (dynamic batch, up to 8 rows,
2 ms wait). Writes bench/results/<date>-serve-cpu.md. Needs the serve extra
(ray[serve], which brings FastAPI, uvicorn and aiohttp) and onnx.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import xpuruntime as xrt
from benchlib import save_results

try:
    import aiohttp
    import onnx
    import onnxruntime as ort
    from fastapi import FastAPI, Request, Response
    from starlette.concurrency import run_in_threadpool
except ImportError as error:
    sys.exit(f"bench_serve.py needs the serve extra, onnx and onnxruntime ({error})")

HERE = os.path.dirname(os.path.abspath(__file__))
LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")
MODELS = {  # name: (file, input name, input shape)
    "demo": (os.path.join(os.path.dirname(xrt.__file__), "models", "demo_encoder.onnx"),
             "tokens", (1, 16, 64)),
    "resnet50": (os.path.join(LIGHT, "light_resnet50.onnx"), None, None),
}
CONCURRENCY = (1, 8, 64)
START_TIMEOUT_S = 300


# ---- the baseline: what a user writes with FastAPI around onnxruntime ----

def baseline_app(repository):
    app = FastAPI()
    sessions = {name: ort.InferenceSession(os.path.join(repository, name, "1", "model.onnx"),
                                           providers=["CPUExecutionProvider"])
                for name in os.listdir(repository)}
    dtypes = {"FP32": np.float32, "FP64": np.float64, "INT64": np.int64, "INT32": np.int32}
    names = {np.dtype(v): k for k, v in dtypes.items()}

    def infer(name, body, length):
        session = sessions[name]
        header = json.loads(body if length is None else body[:int(length)])
        feed, offset = {}, int(length or 0)
        for tensor in header["inputs"]:
            dtype, shape = dtypes[tensor["datatype"]], tensor["shape"]
            size = (tensor.get("parameters") or {}).get("binary_data_size")
            if size is None:
                feed[tensor["name"]] = np.asarray(tensor["data"], dtype).reshape(shape)
            else:
                feed[tensor["name"]] = np.frombuffer(body, dtype, int(np.prod(shape)),
                                                     offset).reshape(shape)
                offset += size
        binary = (header.get("parameters") or {}).get("binary_data_output", False)
        outputs, chunks = [], []
        for arg, value in zip(session.get_outputs(), session.run(None, feed)):
            entry = {"name": arg.name, "datatype": names[value.dtype], "shape": list(value.shape)}
            if binary:
                chunks.append(value.tobytes())
                entry["parameters"] = {"binary_data_size": len(chunks[-1])}
            else:
                entry["data"] = value.ravel().tolist()
            outputs.append(entry)
        head = json.dumps({"model_name": name, "outputs": outputs}).encode()
        headers = {"Inference-Header-Content-Length": str(len(head))} if binary else {}
        return Response(head + b"".join(chunks), headers=headers)

    @app.post("/v2/models/{name}/infer")
    async def route(name: str, request: Request):
        body = await request.body()
        # Off the event loop, as FastAPI runs a plain def handler.
        return await run_in_threadpool(
            infer, name, body, request.headers.get("inference-header-content-length"))

    return app


def run_baseline(port, repository):
    import uvicorn
    # "info" for the line that says it is up; no line per request.
    uvicorn.run(baseline_app(repository), host="127.0.0.1", port=port, log_level="info",
                access_log=False)


# ---- servers as subprocesses ----

def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(command, ready):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    deadline = time.monotonic() + START_TIMEOUT_S
    output = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if ready(line):
            # Keep draining its output so it never blocks on a full pipe.
            import threading
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return process
    process.terminate()
    sys.exit("server did not start:\n" + "".join(output))


def stop(process):
    process.terminate()
    try:
        process.wait(120)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---- requests and load ----

def request_body(name, array, binary):
    tensor = {"name": name, "datatype": "FP32", "shape": list(array.shape)}
    if binary:
        tensor["parameters"] = {"binary_data_size": array.nbytes}
        head = json.dumps({"inputs": [tensor],
                           "parameters": {"binary_data_output": True}}).encode()
        return head + array.tobytes(), {"Inference-Header-Content-Length": str(len(head))}
    tensor["data"] = array.ravel().tolist()
    return json.dumps({"inputs": [tensor]}).encode(), {"Content-Type": "application/json"}


def first_output(body, headers):
    length = headers.get("Inference-Header-Content-Length")
    head = json.loads(body if length is None else body[:int(length)])
    out = head["outputs"][0]
    if "data" in out:
        return np.asarray(out["data"], np.float32).reshape(out["shape"])
    return np.frombuffer(body, np.float32, int(np.prod(out["shape"])),
                         int(length)).reshape(out["shape"])


async def load(url, body, headers, concurrency, duration):
    """Latencies (s) of requests from `concurrency` clients over `duration` s."""
    latencies, errors = [], []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def client(until, record):
            while time.perf_counter() < until:
                start = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors.append(response.status)
                if record:
                    latencies.append(time.perf_counter() - start)
        warm_until = time.perf_counter() + min(1.0, duration / 4)
        await asyncio.gather(*(client(warm_until, False) for _ in range(concurrency)))
        start = time.perf_counter()
        await asyncio.gather(*(client(start + duration, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    if errors:
        sys.exit(f"{url}: {len(errors)} requests failed (HTTP {sorted(set(errors))})")
    return np.array(latencies), elapsed


async def check(url, body, headers, want):
    async with aiohttp.ClientSession() as session, \
            session.post(url, data=body, headers=headers) as response:
        got = first_output(await response.read(), response.headers)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def local_ms(session, feed, duration=2.0):
    times, until = [], time.perf_counter() + duration
    while time.perf_counter() < until:
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 s per cell, demo model only")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--baseline-server", nargs=2, metavar=("PORT", "REPOSITORY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        run_baseline(int(args.baseline_server[0]), args.baseline_server[1])
        return
    duration = 1.0 if args.quick else args.duration
    models = ["demo"] if args.quick else list(MODELS)

    rng = np.random.default_rng(0)
    repository = tempfile.mkdtemp(prefix="bench-serve-")
    feeds, wants, floors = {}, {}, {}
    for name in models:
        path, input_name, shape = MODELS[name]
        os.makedirs(os.path.join(repository, name, "1"))
        shutil.copy(path, os.path.join(repository, name, "1", "model.onnx"))
        with xrt.InferenceSession(path) as session:
            arg = session.get_inputs()[0]
            input_name = input_name or arg.name
            shape = shape or tuple(arg.shape)
            feeds[name] = (input_name, rng.standard_normal(shape).astype(np.float32))
            feed = {input_name: feeds[name][1]}
            wants[name] = session.run(None, feed)[0]
            floors[name] = local_ms(session, feed)

    rows = []
    servers = [("xpuruntime serve", lambda port: start(
        [sys.executable, "-m", "xpuruntime", "serve", repository, "--port", str(port)],
        lambda line: line.strip() == f"http://127.0.0.1:{port}")),
               ("FastAPI+onnxruntime", lambda port: start(
        [sys.executable, os.path.abspath(__file__), "--baseline-server", str(port), repository],
        lambda line: "Uvicorn running" in line))]
    results = {}
    try:
        for label, launch in servers:
            port = free_port()
            process = launch(port)
            try:
                for name in models:
                    url = f"http://127.0.0.1:{port}/v2/models/{name}/infer"
                    input_name, array = feeds[name]
                    for binary in (False, True):
                        body, headers = request_body(input_name, array, binary)
                        asyncio.run(check(url, body, headers, wants[name]))
                        for concurrency in CONCURRENCY:
                            lat, elapsed = asyncio.run(load(url, body, headers, concurrency,
                                                            duration))
                            ms = lat * 1e3
                            results[(label, name, binary, concurrency)] = (
                                *np.percentile(ms, [50, 90, 99]), len(lat) / elapsed)
                            print(f"{label:<20} {name:<9} {'binary' if binary else 'json':<6} "
                                  f"c={concurrency:<3} p50 {np.percentile(ms, 50):8.2f} ms  "
                                  f"p99 {np.percentile(ms, 99):8.2f} ms  "
                                  f"{len(lat) / elapsed:8.1f} req/s", flush=True)
            finally:
                stop(process)
    finally:
        shutil.rmtree(repository, ignore_errors=True)

    header = ("| model | body | clients | xpuruntime p50 / p90 / p99 ms | req/s "
              "| FastAPI+ORT p50 / p90 / p99 ms | req/s | throughput ratio |\n"
              "|---|---|---:|---:|---:|---:|---:|---:|")
    for name in models:
        for binary in (False, True):
            for concurrency in CONCURRENCY:
                ours = results[("xpuruntime serve", name, binary, concurrency)]
                base = results[("FastAPI+onnxruntime", name, binary, concurrency)]
                rows.append(
                    f"| {name} | {'binary' if binary else 'JSON'} | {concurrency} "
                    f"| {ours[0]:.2f} / {ours[1]:.2f} / {ours[2]:.2f} | {ours[3]:.0f} "
                    f"| {base[0]:.2f} / {base[1]:.2f} / {base[2]:.2f} | {base[3]:.0f} "
                    f"| {ours[3] / base[3]:.2f}x |")
    floor = "\n".join(f"- {name}: a local `InferenceSession.run` takes {floors[name]:.2f} ms "
                      f"(median, no HTTP)" for name in models)
    table = header + "\n" + "\n".join(rows) + "\n\n" + floor
    print(table)
    if not args.no_save:
        import ray
        save_results(
            "serve-cpu", "xpuruntime serve against FastAPI/uvicorn around onnxruntime",
            f"Ray {ray.__version__}, onnxruntime {ort.__version__}, aiohttp {aiohttp.__version__}",
            "python bench/bench_serve.py" + (" --quick" if args.quick
                                              else f" --duration {args.duration:g}"),
            __doc__.split("\n\n", 2)[2].strip(), table)


if __name__ == "__main__":
    main()
