"""Plugins that break the plugin ABI's rules, loaded through XRT_PLUGIN_PATH
in child processes: each one that cannot be used is listed unavailable with
the reason, each misbehaving kernel or session gives a typed error, and the
rest of the runtime keeps working. The plugins' sources are in
tests/plugins (misbehaving/ for those only these tests use)."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import xpuruntime as xrt

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
SOURCES = [PLUGINS / "wrongabi_plugin.c", PLUGINS / "noentry_plugin.c",
           *sorted((PLUGINS / "misbehaving").glob("*_plugin.c"))]


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    if not shutil.which("cc"):
        pytest.skip("needs a C compiler")
    folder = tmp_path_factory.mktemp("plugins")
    for source in SOURCES:
        name = source.name.removesuffix("_plugin.c")
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", f"-I{xrt.get_include()}", str(source),
                        "-o", str(folder / f"libxrt_{name}.so")], check=True)
    shutil.copy(PLUGINS / "not_a_library.txt", folder / "libxrt_notalib.so")
    return dict(os.environ, XRT_PLUGIN_PATH=str(folder))


# Prints one JSON object: the backends as listed, then the outcome of each
# call named on the command line.
CHILD = textwrap.dedent(r"""
    import json, sys
    import numpy as np
    import xpuruntime as xrt
    from xpuruntime import ops

    i32 = np.arange(6, dtype=np.int32).reshape(2, 3)
    f32 = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = np.array([1.5, -2.0], np.float32)

    def bad_session(fault):
        with xrt.InferenceSession(b"model", backend="badsession", fault=fault) as s:
            return s.run(None, {"x": x})[0].tolist()

    CALLS = {
        "add_silent": lambda: ops.add(i32, i32),
        "gelu_declines": lambda: ops.gelu(i32),
        "softmax_undefined_status": lambda: ops.softmax(i32),
        "matmul_unterminated": lambda: ops.matmul(i32, i32.T),
        "float_add_on_cpu": lambda: ops.add(f32, f32).numpy().tolist(),
        "session_works": lambda: bad_session(""),
        "session_create": lambda: bad_session("create"),
        "session_null_session": lambda: bad_session("null_session"),
        "session_describe": lambda: bad_session("describe"),
        "session_run": lambda: bad_session("run"),
        "session_no_output": lambda: bad_session("no_output"),
        "tree_null_item": lambda: bad_session("tree_null_item"),
        "tree_bad_kind": lambda: bad_session("tree_bad_kind"),
        "tree_map_count": lambda: bad_session("tree_map_count"),
        "tree_cycle": lambda: bad_session("tree_cycle"),
        "tree_null_data": lambda: bad_session("tree_null_data"),
    }

    outcomes = {}
    for name in sys.argv[1:]:
        try:
            outcomes[name] = {"result": CALLS[name]()}
        except Exception as error:
            outcomes[name] = {"error": [c.__name__ for c in type(error).__mro__],
                              "message": str(error)}
    backends = {b.name: [b.available, b.reason] for b in xrt.backends()}
    print(json.dumps({"backends": backends, "outcomes": outcomes}))
""")

SAFE_CALLS = ["add_silent", "gelu_declines", "softmax_undefined_status", "matmul_unterminated",
              "float_add_on_cpu", "session_works", "session_create", "session_describe",
              "session_run", "session_no_output", "tree_null_item", "tree_bad_kind",
              "tree_map_count", "tree_cycle", "tree_null_data"]


def _run_child(env, *calls):
    result = subprocess.run([sys.executable, "-c", CHILD, *calls], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, (
        f"the child exited with {result.returncode}\n{result.stdout}\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def child(plugin_env):
    return _run_child(plugin_env, *SAFE_CALLS)


@pytest.mark.parametrize("name, reason", [
    ("wrongabi", "was built for plugin ABI 2.0"),
    ("noentry", "does not export xrt_plugin_get_api"),
    ("notalib", "is not a loadable library"),
    ("nullapi", "xrt_plugin_get_api returned NULL"),
    ("shorttable", "has a table of 32 bytes, expected at least"),
    ("noname", "has no name"),
])
def test_refused_plugin_is_listed_with_its_reason(child, name, reason):
    available, why = child["backends"][name]
    assert not available
    assert reason in why and f"libxrt_{name}.so" in why


def test_the_rest_keeps_working(child):
    assert child["backends"]["cpu"] == [True, ""]
    assert child["backends"]["badkernel"] == [True, ""]
    assert child["outcomes"]["float_add_on_cpu"] == {"result": [[0, 2, 4], [6, 8, 10]]}
    assert child["outcomes"]["session_works"] == {"result": [3.0, -4.0]}


def _error(child, call, error_type, *parts):
    outcome = child["outcomes"][call]
    assert "error" in outcome, f"{call} did not fail: {outcome}"
    assert error_type in outcome["error"] and "Error" in outcome["error"], outcome
    for part in parts:
        assert part in outcome["message"], outcome


def test_kernel_failing_without_a_message(child):
    _error(child, "add_silent", "BackendError", "badkernel.add_silent",
           "the kernel failed without a message")


def test_kernel_declined_by_its_supports(child):
    _error(child, "gelu_declines", "Unsupported", "no kernel for op 'gelu'", "int32",
           "badkernel.gelu_declines")


def test_kernel_returning_an_undefined_status(child):
    _error(child, "softmax_undefined_status", "BackendError", "badkernel: undefined status")


def test_kernel_leaving_its_message_unterminated(child):
    _error(child, "matmul_unterminated", "BackendError", "badkernel.matmul_unterminated")
    message = child["outcomes"]["matmul_unterminated"]["message"]
    # The buffer's last byte is '!': a message that has it was read to its end and beyond.
    assert message.endswith("xxx") and "!" not in message, f"read past the buffer: {message!r}"


@pytest.mark.parametrize("call, message", [
    ("session_create", "could not create the session"),
    ("session_describe", "backend 'badsession' could not describe input 0"),
    ("session_run", "failed to run the session"),
    ("session_no_output", "backend 'badsession' produced no value for output 'y'"),
    ("tree_null_item", "backend 'badsession' handed back output 'y' item 0 as NULL"),
    ("tree_bad_kind", "backend 'badsession' handed back output 'y' with unknown value kind 77"),
    ("tree_map_count", "backend 'badsession' handed back output 'y' as a map of 3 items"),
    ("tree_cycle", "nested deeper than 32"),
    ("tree_null_data", "as a tensor with NULL data"),
])
def test_misbehaving_session(child, call, message):
    _error(child, call, "BackendError", message)


def test_session_create_without_a_session(plugin_env):
    outcome = _run_child(plugin_env, "session_null_session")["outcomes"]["session_null_session"]
    assert "BackendError" in outcome.get("error", []), outcome
