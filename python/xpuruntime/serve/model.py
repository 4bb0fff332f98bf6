"""One model as a Ray Serve deployment: its sessions (one per version), the
model's HTTP routes, batching and metrics."""
from __future__ import annotations

import asyncio
import os
import re
import tempfile
import threading
import time
import uuid

import numpy as np
from ray import serve
from ray.util import metrics
from starlette.requests import Request
from starlette.responses import Response

import xpuruntime as xrt

from .protocol import (
    HEADER_LENGTH,
    ProtocolError,
    datatype_of,
    decode_request,
    encode_response,
)
from .responses import error_response, json_response

_ROUTE = re.compile(r"/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?"
                    r"(?:/(?P<action>ready|infer|stats))?/?$")
DEFAULT_MAX_REQUEST_BYTES = 64 << 20
# Histogram buckets in milliseconds: sub-millisecond models up to slow ones.
_LATENCY_MS = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
_BATCH_ROWS = [1, 2, 4, 8, 16, 32, 64, 128, 256]


def _wire_shape(shape):
    """The protocol writes a dynamic dimension as -1."""
    return [d if isinstance(d, int) else -1 for d in shape]


def _batchable(session):
    """Batched when every input and output has a dynamic first dimension."""
    args = session.get_inputs() + session.get_outputs()
    return bool(session.get_inputs()) and all(
        arg.shape and not isinstance(arg.shape[0], int) for arg in args)


def _rows(item):
    _version, feed, _profile = item
    return next(iter(feed.values())).shape[0]


class _Stats:
    """Per version: the counts Triton's statistics extension reports."""

    def __init__(self):
        self.inference_count = 0   # requests answered
        self.execution_count = 0   # session runs (a batch is one)
        self.success_ns = 0
        self.fail_count = 0

    def as_json(self, name, version):
        return {"name": name, "version": version,
                "inference_count": self.inference_count,
                "execution_count": self.execution_count,
                "inference_stats": {
                    "success": {"count": self.inference_count, "ns": self.success_ns},
                    "fail": {"count": self.fail_count}}}


class ModelServer:
    """Serves one model's versions over the Open Inference Protocol.

    ``versions`` maps a version string to an ONNX file. A version that fails
    to load is not ready and its metadata says why; the others serve.
    """

    def __init__(self, name, versions, device="cpu", backend="auto", max_batch=8,
                 batch_wait_s=0.002, max_request_bytes=DEFAULT_MAX_REQUEST_BYTES,
                 trace_dir=None, session_options=None):
        self.name = name
        self.sessions, self.errors = {}, {}
        for version, path in versions.items():
            try:
                self.sessions[version] = xrt.InferenceSession(
                    path, device=device, backend=backend, **(session_options or {}))
            except (xrt.Error, OSError, ValueError, TypeError) as error:
                self.errors[version] = f"{type(error).__name__}: {error}"
        self.versions = list(versions)
        ready = [v for v in self.versions if v in self.sessions]
        self.default_version = (ready or self.versions)[-1]
        self.batchable = {v: _batchable(s) for v, s in self.sessions.items()}
        self.max_batch = max(int(max_batch), 1)
        self._batched.set_max_batch_size(self.max_batch)
        self._batched.set_batch_wait_timeout_s(batch_wait_s)
        self.max_request_bytes = max_request_bytes
        self.trace_dir = trace_dir or tempfile.gettempdir()
        self._profile_lock = threading.Lock()  # the profiler is process-wide
        self.stats = {v: _Stats() for v in self.versions}
        self._stats_lock = threading.Lock()  # sessions run on worker threads
        tags = ("model", "version")
        self._requests = metrics.Counter(
            "xpuruntime_requests", "Infer requests answered, by model and version",
            tag_keys=tags)
        self._failures = metrics.Counter(
            "xpuruntime_request_failures", "Infer requests refused or failed", tag_keys=tags)
        self._latency = metrics.Histogram(
            "xpuruntime_request_latency_ms", "Infer request latency in the replica (ms)",
            boundaries=_LATENCY_MS, tag_keys=tags)
        self._batch_rows = metrics.Histogram(
            "xpuruntime_batch_size", "Rows per session run", boundaries=_BATCH_ROWS,
            tag_keys=tags)

    # ---- what a caller in Python (a composed deployment) uses ----

    def ready(self, version=None):
        return self._version(version, need_ready=False) in self.sessions

    def metadata(self, version=None):
        version = self._version(version, need_ready=False)
        result = {"name": self.name, "versions": self.versions, "platform": "onnxruntime_onnx"}
        session = self.sessions.get(version)
        if session is None:
            result.update(state="UNAVAILABLE", reason=self.errors[version],
                          inputs=[], outputs=[])
            return result
        result["state"] = "READY"
        result["inputs"] = [self._describe(a) for a in session.get_inputs()]
        result["outputs"] = [self._describe(a) for a in session.get_outputs()]
        result["parameters"] = {"backend": session.backend, "device": session.device.name,
                                "dynamic_batching": self.batchable[version],
                                "max_batch_size": self.max_batch}
        return result

    def statistics(self, version=None):
        """This replica's counts (Ray's metrics add up every replica's)."""
        versions = self.versions if version is None else [self._version(version, False)]
        with self._stats_lock:
            return {"model_stats": [self.stats[v].as_json(self.name, v) for v in versions]}

    async def infer(self, inputs, version=None):
        """Runs the model on ``inputs`` (name -> numpy array) as a request would
        (batched with others); returns name -> output array. For deployments
        that hold this one's handle; bad inputs raise ProtocolError."""
        _version, names, arrays, _trace = await self._infer(inputs, version)
        return dict(zip(names, arrays))

    async def _infer(self, inputs, version=None, profile=False):
        """(version, output names, arrays, trace path or None)."""
        version = self._version(version)
        session = self.sessions[version]
        feed = self._checked_feed(session, version, inputs)
        start = time.perf_counter()
        tags = {"model": self.name, "version": version}
        try:
            trace = None
            if profile:
                arrays, trace = await asyncio.to_thread(self._profiled, version, feed)
            elif self.batchable[version] and _rows((version, feed, False)) <= self.max_batch:
                arrays = await self._batched((version, feed, False))
            else:  # unbatched, or more rows than one batch takes
                arrays = (await asyncio.to_thread(self._run, version, [feed]))[0]
        except Exception:
            self._failures.inc(tags=tags)
            with self._stats_lock:
                self.stats[version].fail_count += 1
            raise
        elapsed = time.perf_counter() - start
        self._requests.inc(tags=tags)
        self._latency.observe(elapsed * 1e3, tags=tags)
        with self._stats_lock:
            stats = self.stats[version]
            stats.inference_count += 1
            stats.success_ns += int(elapsed * 1e9)
        names = [o.name for o in session.get_outputs()]
        return version, names, arrays, trace

    # ---- HTTP ----

    async def __call__(self, request: Request) -> Response:
        match = _ROUTE.search(request.url.path)
        if match is None or match["name"] != self.name:
            return error_response(f"no route {request.method} {request.url.path}", 404)
        version, action = match["version"], match["action"]
        try:
            if action == "infer":
                if request.method != "POST":
                    return error_response("infer takes POST", 405)
                return await self._http_infer(request, version)
            if request.method != "GET":
                return error_response(f"{request.url.path} takes GET", 405)
            if action == "ready":
                ready = self.ready(version)
                return Response(status_code=200 if ready else 400)
            if action == "stats":
                return json_response(self.statistics(version))
            return json_response(self.metadata(version))
        except ProtocolError as error:
            self._failures.inc(tags={"model": self.name, "version": version or ""})
            return error_response(error, error.status)
        except xrt.InvalidArgument as error:
            return error_response(f"{type(error).__name__}: {error}", 400)
        except xrt.Error as error:
            return error_response(f"{type(error).__name__}: {error}", 500)

    async def _http_infer(self, request, version):
        body = await self._read_body(request)
        decoded = decode_request(body, request.headers.get(HEADER_LENGTH),
                                 request.headers.get("content-encoding"), self.max_request_bytes)
        profile = decoded.parameters.get("profile", False)
        if not isinstance(profile, bool):
            raise ProtocolError(f"parameter profile is {profile!r}; expected true or false")
        version, names, arrays, trace = await self._infer(decoded.inputs, version, profile)
        if decoded.outputs is not None:
            index = {n: i for i, n in enumerate(names)}
            unknown = [n for n in decoded.outputs if n not in index]
            if unknown:
                raise ProtocolError(f"model {self.name!r} has no output {unknown[0]!r}; "
                                    f"its outputs: {', '.join(names)}")
            names = list(decoded.outputs)
            arrays = [arrays[index[n]] for n in names]
        content, header_length = encode_response(
            self.name, version, decoded, names, arrays,
            {"profile_trace": trace} if trace else None)
        headers = {}
        if header_length is not None:
            headers["Inference-Header-Content-Length"] = str(header_length)
        return Response(content, headers=headers,
                        media_type="application/octet-stream" if header_length is not None
                        else "application/json")

    async def _read_body(self, request):
        limit = self.max_request_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise ProtocolError(f"request body of {declared} bytes is over the limit of "
                                f"{limit} bytes", 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise ProtocolError(f"request body is over the limit of {limit} bytes", 413)
        return bytes(body)

    # ---- checks and runs ----

    def _version(self, version, need_ready=True):
        if version is None:
            version = self.default_version
        if version not in self.stats:
            raise ProtocolError(f"model {self.name!r} has no version {version!r}; versions: "
                                + ", ".join(self.versions), 404)
        if need_ready and version not in self.sessions:
            raise ProtocolError(f"model {self.name!r} version {version} is not ready: "
                                f"{self.errors[version]}", 400)
        return version

    @staticmethod
    def _describe(arg):
        return {"name": arg.name, "datatype": datatype_of(arg.dtype) or arg.type,
                "shape": _wire_shape(arg.shape)}

    def _checked_feed(self, session, version, inputs):
        expected = {a.name: a for a in session.get_inputs()}
        for name in inputs:
            if name not in expected:
                raise ProtocolError(f"model {self.name!r} has no input {name!r}; its inputs: "
                                    + ", ".join(expected))
        missing = [n for n in expected if n not in inputs]
        if missing:
            raise ProtocolError(f"input {missing[0]!r} of model {self.name!r} is missing")
        feed = {}
        for name, arg in expected.items():
            array = np.asarray(inputs[name])
            if arg.dtype is not None and array.dtype != arg.dtype:
                raise ProtocolError(
                    f"input {name!r} has datatype {datatype_of(array.dtype) or array.dtype}; "
                    f"model {self.name!r} takes {datatype_of(arg.dtype) or arg.type}")
            fits = len(array.shape) == len(arg.shape) and all(
                not isinstance(want, int) or got == want
                for got, want in zip(array.shape, arg.shape))
            if not fits:
                raise ProtocolError(f"input {name!r} has shape {list(array.shape)}; model "
                                    f"{self.name!r} takes {_wire_shape(arg.shape)}")
            feed[name] = array
        if self.batchable[version] and len(
                {a.shape[0] for a in feed.values()}) > 1:
            raise ProtocolError("inputs disagree on the batch (first) dimension: "
                                + ", ".join(f"{n} {a.shape[0]}" for n, a in feed.items()))
        return feed

    def _run(self, version, feeds):
        """Runs feeds that share a version and trailing shapes as one batch."""
        session = self.sessions[version]
        tags = {"model": self.name, "version": version}
        if len(feeds) == 1:
            rows = [next(iter(feeds[0].values())).shape[0]] if feeds[0] else [1]
            joined = feeds[0]
        else:
            rows = [next(iter(f.values())).shape[0] for f in feeds]
            joined = {n: np.concatenate([f[n] for f in feeds]) for n in feeds[0]}
        outputs = session.run(None, joined)
        with self._stats_lock:
            self.stats[version].execution_count += 1
        self._batch_rows.observe(sum(rows), tags=tags)
        if len(feeds) == 1:
            return [outputs]
        total = sum(rows)
        if any(o.shape[:1] != (total,) for o in outputs):  # not row-wise after all
            return [self._run(version, [f])[0] for f in feeds]
        cuts = np.cumsum(rows)[:-1]
        per_output = [np.split(o, cuts) for o in outputs]
        return [[parts[i] for parts in per_output] for i in range(len(feeds))]

    def _profiled(self, version, feed):
        path = os.path.join(self.trace_dir, f"xpuruntime-{self.name}-{uuid.uuid4().hex}.json")
        with self._profile_lock:
            with xrt.Profiler() as profiler:
                outputs = self._run(version, [feed])[0]
            profiler.export_chrome_trace(path)
        return outputs, path

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.002, batch_size_fn=lambda items:
                 sum(_rows(item) for item in items))
    async def _batched(self, items):
        groups = {}
        for index, (version, feed, _profile) in enumerate(items):
            key = (version, tuple((n, a.dtype.str, a.shape[1:]) for n, a in feed.items()))
            groups.setdefault(key, []).append(index)
        results = [None] * len(items)
        for (version, _), indices in groups.items():
            outputs = await asyncio.to_thread(self._run, version, [items[i][1] for i in indices])
            for i, out in zip(indices, outputs):
                results[i] = out
        return results
