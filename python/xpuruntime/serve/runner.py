"""``xpuruntime serve``: Ray up, the applications deployed, the URL printed,
then everything taken down again on SIGINT or SIGTERM."""
from __future__ import annotations

import os
import signal
import sys
import threading

import ray
from ray import serve

from . import applications


def _local_cpus(apps_count, replicas, cpus_per_replica):
    """A local instance gets the cores it has, or what was asked for if more:
    it exists only to run these replicas."""
    needed = apps_count * replicas * cpus_per_replica
    return max(os.cpu_count() or 1, int(needed + 0.999))


def run(path, host="127.0.0.1", port=8000, replicas=1, gpus_per_replica=0,
        cpus_per_replica=1, max_batch=8, batch_wait_s=0.002, address=None, max_request_bytes=None,
        out=sys.stdout, stop=None):
    """Serves ``path`` until SIGINT/SIGTERM (or until ``stop``, a
    threading.Event, is set); returns 0."""
    options = {"num_replicas": replicas, "num_gpus": gpus_per_replica,
               "num_cpus": cpus_per_replica, "max_batch": max_batch,
               "batch_wait_s": batch_wait_s}
    if max_request_bytes is not None:
        options["max_request_bytes"] = max_request_bytes
    apps = applications(path, **options)
    stop = stop or threading.Event()
    local = address is None
    previous = {}
    try:
        if local:
            ray.init(num_cpus=_local_cpus(len(apps) - 1, replicas, cpus_per_replica),
                     include_dashboard=False, _node_ip_address="127.0.0.1",
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False)
        # After ray.init, whose own handlers would end the process at once and
        # leave its helper processes behind.
        previous = {sig: signal.signal(sig, lambda *_: stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        serve.start(http_options={"host": host, "port": port})
        for name, prefix, app in apps:
            if stop.is_set():
                break
            serve.run(app, name=name, route_prefix=prefix, blocking=False)
        if not stop.is_set():
            print(f"http://{host}:{port}", file=out, flush=True)
        while not stop.wait(0.5):  # wakes for signals on every platform
            pass
    finally:
        if ray.is_initialized():
            if local:
                serve.shutdown()
            else:
                for name, _prefix, _app in apps:
                    serve.delete(name)
            ray.shutdown()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
