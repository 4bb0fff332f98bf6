"""The server-wide routes under /v2: liveness, readiness, server metadata,
the repository index, and 404 for a model that is not served."""
from __future__ import annotations

import asyncio
import re

from ray import serve
from starlette.requests import Request
from starlette.responses import Response

import xpuruntime as xrt

from .responses import error_response, json_response

_MODEL = re.compile(r"/v2/models/(?P<name>[^/]+)")


class ServerInfo:
    """``apps`` maps each served model's name to its Ray Serve application."""

    def __init__(self, apps):
        self.apps = dict(apps)

    async def _model_states(self):
        async def state(name, app):
            try:
                handle = serve.get_app_handle(app)
                ready = await handle.ready.remote()
                return name, "READY" if ready else "UNAVAILABLE", None
            except Exception as error:  # noqa: BLE001  (Ray's errors share no base class)
                return name, "UNAVAILABLE", f"{type(error).__name__}: {error}"
        return await asyncio.gather(*(state(n, a) for n, a in self.apps.items()))

    async def __call__(self, request: Request) -> Response:
        path = request.url.path.rstrip("/")
        if path.endswith("/v2") and request.method == "GET":
            return json_response({"name": "xpuruntime", "version": xrt.__version__,
                                  "extensions": ["binary_tensor_data", "statistics",
                                                 "model_repository"]})
        if path.endswith("/v2/health/live"):
            return Response(status_code=200)
        if path.endswith("/v2/health/ready"):
            # Ready once every model's deployment answers; a model whose file
            # failed to load is reported by its own readiness and metadata.
            states = await self._model_states()
            up = all(reason is None for _, _, reason in states)
            return Response(status_code=200 if up else 400)
        if path.endswith("/v2/repository/index") and request.method == "POST":
            index = []
            for name, state, reason in await self._model_states():
                entry = {"name": name, "state": state}
                if reason:
                    entry["reason"] = reason
                index.append(entry)
            return json_response(index)
        if path.endswith("/v2/models/stats") and request.method == "GET":
            stats = await asyncio.gather(*(serve.get_app_handle(app).statistics.remote()
                                           for app in self.apps.values()))
            return json_response({"model_stats": [s for one in stats
                                                  for s in one["model_stats"]]})
        match = _MODEL.search(path)
        if match:
            return error_response(f"unknown model {match['name']!r}; serving: "
                                  + ", ".join(self.apps), 404)
        return error_response(f"no route {request.method} {request.url.path}", 404)
