"""What the serving tests share: small ONNX models in a Triton-layout
repository, and `xpuruntime serve` started as a user would, in a subprocess."""
from __future__ import annotations

import os
import pathlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
from xpuruntime.cli import DEMO_MODEL as _DEMO

DEMO_MODEL = pathlib.Path(_DEMO)
START_TIMEOUT_S = 300  # Ray's first start on a loaded 2-core box is slow


def mlp_model(seed, features=8, hidden=4):
    """y = relu(x @ w + b) and s = sum(x, axis 1); x float32 [batch, features]."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((features, hidden)).astype(np.float32)
    b = rng.standard_normal(hidden).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", features])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", hidden])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, ["batch", 1])
    nodes = [helper.make_node("MatMul", ["x", "w"], ["xw"]),
             helper.make_node("Add", ["xw", "b"], ["pre"]),
             helper.make_node("Relu", ["pre"], ["y"]),
             helper.make_node("ReduceSum", ["x", "axes"], ["s"], keepdims=1)]
    init = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"),
            numpy_helper.from_array(np.array([1], np.int64), "axes")]
    graph = helper.make_graph(nodes, "mlp", [x], [y, s], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def make_repository(root):
    """mlp (versions 1 and 2, dynamic batch), encoder (the demo model, fixed
    shape) and broken (a file that is no model)."""
    root = pathlib.Path(root)
    for version, seed in (("1", 1), ("2", 2)):
        (root / "mlp" / version).mkdir(parents=True)
        (root / "mlp" / version / "model.onnx").write_bytes(mlp_model(seed))
    (root / "encoder" / "1").mkdir(parents=True)
    (root / "encoder" / "1" / "model.onnx").write_bytes(DEMO_MODEL.read_bytes())
    (root / "broken" / "1").mkdir(parents=True)
    (root / "broken" / "1" / "model.onnx").write_bytes(b"this is not an ONNX model")
    return root


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid):
    """Every live process whose parent chain reaches `pid`."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {p for p, parent in parents.items() if parent in frontier} - found
        found |= children
        frontier = children
    return found


def command_line(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class Server:
    """`python -m xpuruntime serve ...` in a subprocess; `url` once it printed it."""

    def __init__(self, model, *args):
        self.port = free_port()
        command = [sys.executable, "-m", "xpuruntime", "serve", str(model),
                   "--port", str(self.port), *map(str, args)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        self.lines = queue.Queue()
        self.output = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _wait_for_url(self):
        expected = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line is None:
                raise RuntimeError("serve exited before it was ready:\n" + "".join(self.output))
            if line.strip() == expected:
                return expected
        self.stop()
        raise RuntimeError("serve printed no URL in time:\n" + "".join(self.output))

    def stop(self, sig=signal.SIGTERM, timeout=120):
        """Signals serve; returns (exit code, processes it left behind)."""
        family = descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        deadline = time.monotonic() + 30
        left = family
        while left and time.monotonic() < deadline:
            time.sleep(0.5)
            left = {p for p in left if os.path.exists(f"/proc/{p}")
                    and not _is_zombie(p)}
        for pid in left | ({self.process.pid} if code is None else set()):
            try:  # a failed test must not leave its own processes running
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if code is None:
            self.process.wait()
        return code, {p: command_line(p) for p in left}


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
