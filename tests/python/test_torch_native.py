"""xpuruntime.torch's C++ kernels (native/, built by _native.py): that
they load where they can, and that they give what the Python kernels give,
which a process with XPURUNTIME_TORCH_NATIVE=0 runs."""

import os
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
xt = pytest.importorskip("xpuruntime.torch")

import xpuruntime as xrt  # noqa: E402
import xpuruntime.torch.functional as XF  # noqa: E402
from xpuruntime.torch import _bridge, _native  # noqa: E402


def test_native_kernels_load_where_torch_allows():
    if os.environ.get("XPURUNTIME_TORCH_NATIVE") == "0":
        pytest.skip("XPURUNTIME_TORCH_NATIVE=0")
    if not _bridge.HAS_EXCHANGE_API:
        assert _native.module is None and "exchange API" in _native.reason
        pytest.skip(_native.reason)
    assert _native.module is not None, _native.reason
    assert _native.OPS >= {"layer_norm", "rms_norm", "add_layer_norm", "add_rms_norm",
                           "bias_gelu", "attention", "attention_backward", "attention_varlen",
                           "attention_decode", "kv_cache_append"}


# Runs the same calls in this process and in one without the C++ kernels:
# outputs and gradients of every forward op _native implements, and the
# errors.
_CALLS = r"""
import sys, torch, xpuruntime as xrt
import xpuruntime.torch.functional as XF
from xpuruntime.torch import _native
torch.manual_seed(0)
x = torch.randn(3, 5, 16, dtype=torch.float64, requires_grad=True)
w = torch.randn(16, dtype=torch.float64, requires_grad=True)
b = torch.randn(16, dtype=torch.float64, requires_grad=True)
q = torch.randn(2, 4, 7, 8, dtype=torch.float64, requires_grad=True)
kv = torch.randn(2, 2, 9, 8, dtype=torch.float64, requires_grad=True)
results = []
for fn in (lambda: XF.layer_norm(x, w, b, 1e-5), lambda: XF.rms_norm(x, w, 1e-6),
           lambda: torch.ops.xpuruntime.layer_norm(x, None, b, 1e-5),
           lambda: XF.attention(q, kv, kv, causal=True),
           lambda: torch.ops.xpuruntime.attention(q, kv, kv, False, 0.3),
           lambda: torch.ops.xpuruntime.attention_lse(q, kv, kv, True, None)[0],
           lambda: sum(XF.add_layer_norm(x, b.expand_as(x) * 2, w, None, 1e-5)),
           lambda: XF.add_rms_norm(x, x.detach(), w, 1e-6)[0],
           lambda: torch.ops.xpuruntime.add_layer_norm(x, x, None, b, 1e-5)[1],
           lambda: XF.bias_gelu(x, b)):
    out = fn()
    grads = torch.autograd.grad((out * out).sum(), [t for t in (x, w, b, q, kv)], allow_unused=True)
    results.append((out.detach(), [g for g in grads if g is not None]))
# Packed sequences, decoding and the cache append.
ops = torch.ops.xpuruntime
packed_q = torch.randn(10, 4, 8, dtype=torch.float64, requires_grad=True)
packed_kv = torch.randn(12, 2, 8, dtype=torch.float64, requires_grad=True)
cu_q, cu_k = torch.tensor([0, 4, 10], dtype=torch.int32), torch.tensor([0, 7, 12], dtype=torch.int32)
out, lse = ops.attention_varlen(packed_q, packed_kv, packed_kv, cu_q, cu_k, 6, 7, True, 0.4,
                                window_left=3, causal_align="bottom_right")
grads = torch.autograd.grad((out * out).sum(), [packed_q, packed_kv])
results.append((torch.cat([out.detach().flatten(), lse.flatten().double()]), list(grads)))
caches = [torch.randn(2, 16, 2, 8, dtype=torch.float64) for _ in range(2)]
lengths = torch.tensor([5, 0], dtype=torch.int32)
new = torch.randn(2, 3, 2, 8, dtype=torch.float64)
versions = [c._version for c in caches]
lengths = ops.kv_cache_append(*caches, new, new * 2, lengths)
versions = [c._version - v for c, v in zip(caches, versions)]
decode_q = torch.randn(2, 3, 4, 8, dtype=torch.float64, requires_grad=True)
decoded = ops.attention_decode(decode_q, *caches, lengths, None, None)
results.append((torch.cat([decoded.detach().flatten(), lengths.double(), *map(torch.flatten, caches),
                           torch.tensor(versions, dtype=torch.float64)]), []))
errors = []
for bad in (lambda: XF.layer_norm(x, w[:8], None, 1e-5),
            lambda: torch.ops.xpuruntime.attention(q, kv, kv, False, -1.0),
            lambda: torch.ops.xpuruntime.attention(q, kv, kv, False, None, causal_align="up"),
            lambda: ops.attention_varlen(packed_q, packed_kv, packed_kv, cu_q, cu_k, 6, 7, True,
                                         float("inf")),
            lambda: ops.attention_varlen(packed_q, packed_kv, packed_kv, cu_q, cu_k, 6, 7, True,
                                         None, causal_align="up"),
            lambda: ops.attention_varlen(packed_q, packed_kv, packed_kv, cu_q.flip(0), cu_k, 6, 7,
                                         True, None),
            lambda: ops.attention_decode(decode_q, *caches, lengths, None, 0.0),
            lambda: ops.attention_decode(decode_q, *caches, lengths + 20, None, None),
            lambda: ops.kv_cache_append(*caches, new, new, lengths + 14)):
    try:
        bad()
    except Exception as error:
        errors.append((type(error).__name__, str(error)))
try:
    decoded.sum().backward()
except RuntimeError as error:
    refusal = str(error)
torch.save({"native": _native.module is not None, "results": results, "errors": errors,
            "refusal": refusal}, sys.argv[1])
"""


def _run_calls(path, native):
    env = dict(os.environ)
    env["XPURUNTIME_TORCH_NATIVE"] = "1" if native else "0"
    subprocess.run([sys.executable, "-c", _CALLS, str(path)], check=True, env=env, timeout=600)
    return torch.load(path)


def test_native_and_python_kernels_agree(tmp_path):
    if _native.module is None:
        pytest.skip(f"no C++ kernels here: {_native.reason}")
    native = _run_calls(tmp_path / "native.pt", True)
    python = _run_calls(tmp_path / "python.pt", False)
    assert native["native"] and not python["native"]
    for (out_n, grads_n), (out_p, grads_p) in zip(native["results"], python["results"]):
        torch.testing.assert_close(out_n, out_p, rtol=1e-12, atol=1e-12)
        assert len(grads_n) == len(grads_p)
        # torch.ops.xpuruntime.attention's Python kernel recomputes the
        # forward in its backward; the C++ one keeps the output and lse.
        for g_n, g_p in zip(grads_n, grads_p):
            torch.testing.assert_close(g_n, g_p, rtol=1e-6, atol=1e-6)
    assert len(native["errors"]) == 9
    for (type_n, message_n), (type_p, message_p) in zip(native["errors"], python["errors"]):
        assert type_n == type_p == "InvalidArgument"
        assert message_n.split("got")[0] == message_p.split("got")[0]
    assert native["refusal"] == python["refusal"]
    assert native["refusal"].endswith("a gradient was asked for through its inputs q")


def test_scale_and_window_are_checked_by_name():
    q = torch.randn(1, 2, 4, 8)
    with pytest.raises(xrt.InvalidArgument,
                       match="attention: scale must be > 0 and finite, got nan"):
        torch.ops.xpuruntime.attention(q, q, q, False, float("nan"))
    with pytest.raises(xrt.InvalidArgument, match="attention: window_left must be .* >= 0, got -2"):
        torch.ops.xpuruntime.attention(q, q, q, True, None, window_left=-2)


def test_plain_calls_build_no_graph_and_subclasses_take_the_dispatcher():
    x = torch.randn(4, 16)
    assert XF.layer_norm(x).grad_fn is None
    with torch.no_grad():
        assert XF.rms_norm(x.requires_grad_()).grad_fn is None

    class Tagged(torch.Tensor):
        pass

    y = XF.layer_norm(x.detach().as_subclass(Tagged))
    torch.testing.assert_close(torch.Tensor(y), XF.layer_norm(x.detach()))


def test_calls_from_many_threads_agree():
    """The C++ kernels hold no per-call state outside the call: threads
    running forward and backward at once get what one thread gets."""
    from concurrent.futures import ThreadPoolExecutor

    torch.manual_seed(1)
    x = torch.randn(8, 64, dtype=torch.float64)
    w = torch.randn(64, dtype=torch.float64)

    def step(_):
        xi = x.clone().requires_grad_()
        wi = w.clone().requires_grad_()
        out, total = XF.add_layer_norm(xi, xi * 0.5, wi, None, 1e-5)
        (out.square().sum() + total.sum()).backward()
        return out.detach(), xi.grad, wi.grad

    expected = step(0)
    with ThreadPoolExecutor(4) as pool:
        for result in pool.map(step, range(64)):
            for got, want in zip(result, expected):
                torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
