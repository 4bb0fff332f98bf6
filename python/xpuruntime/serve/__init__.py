"""Serving over the Open Inference Protocol (KServe v2 / Triton HTTP/REST) on
Ray Serve. Needs the ``serve`` extra: ``pip install xpuruntime[serve]``.

``deployment(model)`` returns a Ray Serve application for one model, to run
with ``ray.serve.run(app, route_prefix=f"/v2/models/{name}")`` or to compose
into an application of one's own; ``xpuruntime serve`` runs a whole
repository (see :func:`run`).
"""
from __future__ import annotations

import os

try:
    from ray import serve as _ray_serve
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("xpuruntime.serve needs Ray Serve: pip install 'xpuruntime[serve]'") \
        from error

from .model import DEFAULT_MAX_REQUEST_BYTES, ModelServer
from .protocol import ProtocolError
from .repository import check_name, discover, model_versions
from .server import ServerInfo

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "ModelServer",
    "ProtocolError",
    "applications",
    "deployment",
    "run",
]

SERVER_APP = "xpuruntime"


def app_name(model):
    return f"{SERVER_APP}-{model}"


def route_prefix(model):
    return f"/v2/models/{model}"


def _versions(model):
    """A model file is version 1; a repository model folder holds VERSION/model.onnx."""
    model = os.fspath(model)
    if os.path.isdir(model):
        versions = model_versions(model)
        if not versions:
            raise FileNotFoundError(f"{model!r} holds no VERSION/model.onnx")
        return os.path.basename(os.path.abspath(model)), versions
    (name, versions), = discover(model).items()
    return name, versions


def deployment(model, name=None, *, num_replicas=1, num_gpus=0, num_cpus=1, device=None,
               backend="auto", max_batch=8, batch_wait_s=0.002,
               max_request_bytes=DEFAULT_MAX_REQUEST_BYTES, trace_dir=None,
               session_options=None, **options):
    """A Ray Serve application serving ``model`` (an ONNX file, or a
    repository model folder ``NAME/`` of ``VERSION/model.onnx``).

    ``num_replicas`` may be "auto" or left for ``autoscaling_config``; other
    ``options`` go to Ray Serve's ``Deployment.options`` (e.g.
    ``max_ongoing_requests``, ``autoscaling_config``). With ``num_gpus`` the
    session runs on ``cuda:0``, the GPU Ray assigns the replica, unless
    ``device`` says otherwise.
    """
    found_name, versions = _versions(model)
    name = check_name(name or found_name)
    if device is None:
        device = "cuda:0" if num_gpus else "cpu"
    actor_options = dict(options.pop("ray_actor_options", {}))
    actor_options.setdefault("num_cpus", num_cpus)
    actor_options.setdefault("num_gpus", num_gpus)
    if "autoscaling_config" not in options:
        options["num_replicas"] = num_replicas
    options.setdefault("max_ongoing_requests", max(4 * max_batch, 32))
    model_deployment = _ray_serve.deployment(ModelServer).options(
        name=name, ray_actor_options=actor_options, **options)
    return model_deployment.bind(name, versions, device=device, backend=backend,
                                 max_batch=max_batch, batch_wait_s=batch_wait_s,
                                 max_request_bytes=max_request_bytes, trace_dir=trace_dir,
                                 session_options=session_options)


def applications(path, **options):
    """[(application name, route prefix, application)] for a model file or a
    repository folder, the server-wide routes first."""
    models = discover(path)
    apps = [(SERVER_APP, "/v2", _ray_serve.deployment(ServerInfo).options(
        name="server", ray_actor_options={"num_cpus": 0}).bind(
            {m: app_name(m) for m in models}))]
    if len(models) == 1 and not os.path.isdir(path):
        name = next(iter(models))
        apps.append((app_name(name), route_prefix(name), deployment(path, **options)))
        return apps
    for name in models:
        apps.append((app_name(name), route_prefix(name),
                     deployment(os.path.join(path, name), **options)))
    return apps


from .runner import run
