"""cuDNN's attention (impl="cudnn") with the mask keywords on cuda:0:
key_lengths, window_left, bottom-right alignment, bool and additive
attn_mask (broadcast), grouped heads, head sizes 32 to 256, and packed
sequences (attention_varlen); forward, lse and backward against the
float64 closed form and the CPU op, outputs poisoned, fresh data each run.
A query that sees no key gets zeros and lse -inf and passes no gradient,
as on the CPU. A case this cuDNN cannot run must be refused with
Unsupported; on cuDNN 9.10.2 or newer (the frontend's support surface
for these masks) none of the cases here may be refused. Also the sm_90a
kernels (forward and backward) with grouped heads."""

import numpy as np
import pytest
from cuda_util import DEVICE, check_norm, poison_pool, random, torch
from test_cuda_attention import CUDNN_MISSING, HOPPER

import attention_reference as aref
import xpuruntime as xrt
from xpuruntime import ops

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(
    CUDNN_MISSING is not None, reason=f"cuDNN attention cannot run: {CUDNN_MISSING}")]

FORWARD_TOLERANCE = {"float16": 5e-3, "bfloat16": 1e-2}
GRAD_TOLERANCE = 2e-2
LSE_TOLERANCE = 2e-2


def _cudnn_version():
    """The cuDNN torch loaded (the same wheel the plugin opens), as 91002 for 9.10.2."""
    try:
        return torch.backends.cudnn.version() or 0
    except Exception:  # noqa: BLE001 - any failure means "unknown"
        return 0


# Below this, cuDNN's frontend refuses some masks (a left bound without a
# causal band, a bias with a band); there a refusal is allowed, not a wrong answer.
STRICT = _cudnn_version() >= 91002


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except xrt.Unsupported as error:
        if STRICT:
            raise
        pytest.skip(f"this cuDNN ({_cudnn_version()}) refuses the case: {error}")


def _operands(rng, b, h, hk, lq, lk, d, dtype):
    q, q64 = random(rng, (b, h, lq, d), dtype)
    k, k64 = random(rng, (b, hk, lk, d), dtype)
    v, v64 = random(rng, (b, hk, lk, d), dtype)
    return (q, k, v), (q64, k64, v64)


def _cpu(array64, dtype):
    return xrt.asarray(array64.astype(np.dtype(dtype)), device="cpu")


class Masks:
    """One case's mask keywords, the same as device and CPU keywords, and
    what they mean: seen (B, 1|H, Lq, Lk) bool and add (additive, or None)."""

    def __init__(self, rng, b, h, lq, lk, dtype, *, causal=False, window=None,
                 bottom_right=False, lengths=None, mask=None):
        self.causal = causal
        self.keywords = dict(causal=causal, window_left=window,
                             causal_align="bottom_right" if bottom_right else "top_left")
        self.cpu_keywords = dict(self.keywords)
        self.seen = aref.allowed(b, lq, lk, causal, window, bottom_right, lengths)
        self.add = None
        if lengths is not None:
            lengths = np.asarray(lengths, np.int32)
            self.keywords["key_lengths"] = xrt.asarray(lengths, device=DEVICE)
            self.cpu_keywords["key_lengths"] = xrt.asarray(lengths, device="cpu")
        if mask is not None:
            kind, shape = mask
            if kind == "bool":
                values = rng.random(shape) < 0.7
                self.seen = self.seen & values
            else:  # additive in dtype `kind`, some entries -inf
                values = rng.standard_normal(shape) * 2
                values[rng.random(shape) < 0.2] = -np.inf
                values = values.astype(np.dtype(kind))
                self.add = values.astype(np.float64)
            self.keywords["attn_mask"] = xrt.asarray(values, device=DEVICE)
            self.cpu_keywords["attn_mask"] = xrt.asarray(values, device="cpu")

    def blind_rows(self, h):
        """(B, H, Lq) bool: queries that see no key."""
        seen = self.seen if self.add is None else self.seen & (self.add != -np.inf)
        blind = ~seen.any(-1)
        return np.broadcast_to(blind, (self.seen.shape[0], h, blind.shape[-1]))


def _check_forward(rng, b, h, hk, lq, lk, d, dtype, **mask_args):
    (q, k, v), (q64, k64, v64) = _operands(rng, b, h, hk, lq, lk, d, dtype)
    m = Masks(rng, b, h, lq, lk, dtype, **mask_args)
    poison_pool(((b, h, lq, d), dtype), ((b, h, lq), "float32"))
    out, lse = _run(ops.attention, q, k, v, impl="cudnn", return_lse=True, **m.keywords)
    want, want_lse = aref.forward(q64, k64, v64, m.seen, m.add)
    check_norm(out, want, dtype, FORWARD_TOLERANCE[dtype])
    got_lse = lse.numpy()
    blind = m.blind_rows(h)
    assert (got_lse[blind] == -np.inf).all(), "a query that sees no key must have lse -inf"
    np.testing.assert_allclose(got_lse[~blind], want_lse[~blind], rtol=LSE_TOLERANCE,
                               atol=LSE_TOLERANCE)
    assert (out.numpy().astype(np.float64)[blind] == 0).all()
    # The CPU op on the same values: the same rows blind, close elsewhere.
    cpu_out, cpu_lse = ops.attention(_cpu(q64, dtype), _cpu(k64, dtype), _cpu(v64, dtype),
                                     return_lse=True, **m.cpu_keywords)
    np.testing.assert_array_equal(cpu_lse.numpy() == -np.inf, got_lse == -np.inf)
    check_norm(out, cpu_out.numpy().astype(np.float64), dtype, FORWARD_TOLERANCE[dtype])
    return (q, k, v), (q64, k64, v64), m, out, lse


def _check_backward(rng, b, h, hk, lq, lk, d, dtype, given=False, **mask_args):
    (q, k, v), (q64, k64, v64) = _operands(rng, b, h, hk, lq, lk, d, dtype)
    m = Masks(rng, b, h, lq, lk, dtype, **mask_args)
    grad, grad64 = random(rng, (b, h, lq, d), dtype)
    saved = {}
    if given:
        out, lse = _run(ops.attention, q, k, v, impl="cudnn", return_lse=True, **m.keywords)
        saved = dict(output=out, lse=lse)
    poison_pool(((b, h, lq, d), dtype), ((b, hk, lk, d), dtype), ((b, hk, lk, d), dtype))
    got = _run(ops.attention_backward, grad, q, k, v, impl="cudnn", **saved, **m.keywords)
    want = aref.backward(grad64, q64, k64, v64, m.seen, m.add)
    for name, ours, expected in zip(("dq", "dk", "dv"), got, want):
        try:
            check_norm(ours, expected, dtype, GRAD_TOLERANCE)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    blind = m.blind_rows(h)
    assert (got[0].numpy().astype(np.float64)[blind] == 0).all(), "blind queries get dq 0"
    lengths = mask_args.get("lengths")
    if lengths is not None:
        for i, n in enumerate(lengths):
            for grad_kv in got[1:]:
                assert (grad_kv.numpy().astype(np.float64)[i, :, n:] == 0).all()


DTYPES = ["float16", "bfloat16"]
# (Lq, Lk): more keys than queries and the reverse, off tile edges; then
# the edges (one query and key, whole tiles) for a few masks.
SHAPES = [(17, 129), (200, 77)]
EDGE_SHAPES = [(1, 1), (128, 128)]
EDGE_MASKS = ["key_lengths_zero", "causal_window", "bottom_right_key_lengths", "bool_2d",
              "additive_same_dtype"]
MASKS = {
    "key_lengths": lambda b, lq, lk: dict(lengths=[lk, max(lk // 3, 1)][:b]),
    "key_lengths_zero": lambda b, lq, lk: dict(lengths=[0, lk][:b]),
    "causal_key_lengths": lambda b, lq, lk: dict(causal=True, lengths=[lk // 2 + 1, lk][:b]),
    "window": lambda b, lq, lk: dict(window=5),
    "causal_window": lambda b, lq, lk: dict(causal=True, window=7),
    "bottom_right": lambda b, lq, lk: dict(causal=True, bottom_right=True),
    "bottom_right_window": lambda b, lq, lk: dict(causal=True, window=9, bottom_right=True),
    "bottom_right_key_lengths": lambda b, lq, lk: dict(causal=True, bottom_right=True,
                                                       lengths=[lk, lk // 2 + 1][:b]),
    "bool_2d": lambda b, lq, lk: dict(mask=("bool", (lq, lk))),
    "bool_batch": lambda b, lq, lk: dict(mask=("bool", (b, 1, lq, lk))),
    "bool_heads": lambda b, lq, lk: dict(mask=("bool", (1, 4, 1, lk))),
    "additive_same_dtype": lambda b, lq, lk: dict(mask=("same", (b, 4, lq, lk))),
    "additive_float32": lambda b, lq, lk: dict(mask=("float32", (lq, lk))),
    "bool_causal_key_lengths": lambda b, lq, lk: dict(causal=True, lengths=[lk, 1][:b],
                                                      mask=("bool", (lq, lk))),
    "additive_bottom_right": lambda b, lq, lk: dict(causal=True, bottom_right=True,
                                                    mask=("float32", (lq, lk))),
}


def _mask_args(name, b, lq, lk, dtype):
    args = MASKS[name](b, lq, lk)
    if "mask" in args and args["mask"][0] == "same":
        args["mask"] = (dtype, args["mask"][1])
    return args


def _refused_by_design(name, lq, lk):
    """The one combination cuDNN has no equivalent for: an additive mask
    beside a bottom-right causal band that per-batch lengths move."""
    return name == "additive_bottom_right" and lq > lk


FORWARD_CASES = ([(name, *shape) for name in MASKS for shape in SHAPES] +
                 [(name, *shape) for name in EDGE_MASKS for shape in EDGE_SHAPES])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name,lq,lk", FORWARD_CASES)
def test_forward_masks(rng, name, lq, lk, dtype):
    b, h, hk, d = 2, 4, 2, 64
    args = _mask_args(name, b, lq, lk, dtype)
    if _refused_by_design(name, lq, lk):
        (q, k, v), _ = _operands(rng, b, h, hk, lq, lk, d, dtype)
        m = Masks(rng, b, h, lq, lk, dtype, **args)
        with pytest.raises(xrt.Unsupported, match="attn_mask together with causal_align"):
            ops.attention(q, k, v, impl="cudnn", **m.keywords)
        return
    _check_forward(rng, b, h, hk, lq, lk, d, dtype, **args)


# cuDNN has no backward for one query against one key (test_cuda_attention.py).
BACKWARD_CASES = [case for case in FORWARD_CASES if case[1:] != (1, 1)]


@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("name,lq,lk", BACKWARD_CASES)
def test_backward_masks(rng, name, lq, lk, given):
    b, h, hk, d, dtype = 2, 4, 2, 64, "bfloat16"
    if _refused_by_design(name, lq, lk):
        pytest.skip("refused, as test_forward_masks checks")
    _check_backward(rng, b, h, hk, lq, lk, d, dtype, given=given,
                    **_mask_args(name, b, lq, lk, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [32, 96, 192, 256])
@pytest.mark.parametrize("name", ["plain", "causal_key_lengths", "bool_batch"])
def test_head_dims(rng, name, d, dtype):
    b, h, hk, lq, lk = 2, 4, 1, 100, 130
    args = {} if name == "plain" else _mask_args(name, b, lq, lk, dtype)
    _check_forward(rng, b, h, hk, lq, lk, d, dtype, **args)
    _check_backward(rng, b, h, hk, lq, lk, d, dtype, given=True, **args)


def test_head_dims_without_a_cuda_kernel_of_ours_dispatch_to_cudnn(rng):
    (q, k, v), (q64, k64, v64) = _operands(rng, 1, 2, 2, 33, 33, 192, "bfloat16")
    out = _run(ops.attention, q, k, v)
    want, _ = aref.forward(q64, k64, v64, aref.visible(33, 33))
    check_norm(out, want, "bfloat16", FORWARD_TOLERANCE["bfloat16"])


def test_masks_dispatch_to_cudnn(rng):
    """impl=None takes cuDNN for a masked call (profiled by name)."""
    (q, k, v), _ = _operands(rng, 2, 4, 4, 64, 64, 64, "bfloat16")
    lengths = xrt.asarray(np.array([64, 10], np.int32), device=DEVICE)
    with xrt.Profiler() as prof:
        _run(ops.attention, q, k, v, key_lengths=lengths)
    ran = [event["args"]["impl"] for event in prof.events() if event.get("cat") == "op"]
    assert ran == ["cuda.cudnn_attention"]


def _packed(rng, lengths_q, lengths_k, h, hk, d, dtype):
    tq, tk = sum(lengths_q), sum(lengths_k)
    q, q64 = random(rng, (tq, h, d), dtype)
    k, k64 = random(rng, (tk, hk, d), dtype)
    v, v64 = random(rng, (tk, hk, d), dtype)
    cu_q = np.concatenate([[0], np.cumsum(lengths_q)]).astype(np.int32)
    cu_k = np.concatenate([[0], np.cumsum(lengths_k)]).astype(np.int32)
    return (q, k, v), (q64, k64, v64), cu_q, cu_k


def _varlen_reference(q64, k64, v64, cu_q, cu_k, causal, window, bottom_right, grad64=None):
    """Per sequence, the dense closed form: out (tq, h, d), lse (h, tq), or the gradients."""
    h = q64.shape[1]
    out, lse = np.zeros((q64.shape[0], h, v64.shape[2])), np.full((h, q64.shape[0]), -np.inf)
    grads = [np.zeros_like(x) for x in (q64, k64, v64)]
    for b in range(len(cu_q) - 1):
        rq, rk = slice(cu_q[b], cu_q[b + 1]), slice(cu_k[b], cu_k[b + 1])
        lq, lk = rq.stop - rq.start, rk.stop - rk.start
        if lq == 0:
            continue
        dense = [x[r].transpose(1, 0, 2)[None] for x, r in ((q64, rq), (k64, rk), (v64, rk))]
        seen = aref.visible(lq, lk, causal, window, bottom_right)
        if grad64 is None:
            o, l = aref.forward(*dense, seen) if lk else (np.zeros((1, h, lq, v64.shape[2])),
                                                          np.full((1, h, lq), -np.inf))
            out[rq], lse[:, rq] = o[0].transpose(1, 0, 2), l[0]
        elif lk:
            g = grad64[rq].transpose(1, 0, 2)[None]
            for total, part, r in zip(grads, aref.backward(g, *dense, seen), (rq, rk, rk)):
                total[r] = part[0].transpose(1, 0, 2)
    return grads if grad64 is not None else (out, lse)


VARLEN_CASES = {
    "plain": dict(),
    "causal": dict(causal=True),
    "bottom_right": dict(causal=True, bottom_right=True),
    "window": dict(causal=True, window=6),
}
# Sequence lengths with empty and one-token sequences, q and k apart.
VARLEN_LENGTHS = [([5, 0, 1, 130, 64], [5, 3, 0, 130, 200]), ([1], [1]), ([300, 17], [17, 300])]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lengths", VARLEN_LENGTHS)
@pytest.mark.parametrize("name", list(VARLEN_CASES))
def test_varlen(rng, name, lengths, dtype):
    h, hk, d = 4, 2, 64
    case = VARLEN_CASES[name]
    causal, window = case.get("causal", False), case.get("window")
    bottom_right = case.get("bottom_right", False)
    (q, k, v), (q64, k64, v64), cu_q, cu_k = _packed(rng, *lengths, h, hk, d, dtype)
    keywords = dict(causal=causal, window_left=window,
                    causal_align="bottom_right" if bottom_right else "top_left", impl="cudnn")
    tq, tk = q.shape[0], k.shape[0]
    poison_pool(((tq, h, d), dtype), ((h, tq), "float32"))
    out, lse = _run(ops.attention_varlen, q, k, v, cu_q, cu_k, return_lse=True, **keywords)
    want, want_lse = _varlen_reference(q64, k64, v64, cu_q, cu_k, causal, window, bottom_right)
    check_norm(out, want, dtype, FORWARD_TOLERANCE[dtype])
    got_lse = lse.numpy()
    blind = want_lse == -np.inf
    assert (got_lse[blind] == -np.inf).all()
    np.testing.assert_allclose(got_lse[~blind], want_lse[~blind], rtol=LSE_TOLERANCE,
                               atol=LSE_TOLERANCE)
    grad, grad64 = random(rng, (tq, h, d), dtype)
    want_grads = _varlen_reference(q64, k64, v64, cu_q, cu_k, causal, window, bottom_right,
                                   grad64)
    for saved in ({}, dict(output=out, lse=lse)):
        poison_pool(((tq, h, d), dtype), ((tk, hk, d), dtype), ((tk, hk, d), dtype))
        got = _run(ops.attention_varlen_backward, grad, q, k, v, cu_q, cu_k, **saved,
                   **keywords)
        for name_, ours, expected in zip(("dq", "dk", "dv"), got, want_grads):
            try:
                check_norm(ours, expected, dtype, GRAD_TOLERANCE)
            except AssertionError as error:
                raise AssertionError(f"{name_} ({'given' if saved else 'recomputed'}): "
                                     f"{error}") from None


def test_varlen_bad_cu_seqlens_are_invalid(rng):
    (q, k, v), _, cu_q, cu_k = _packed(rng, [4, 4], [4, 4], 2, 2, 64, "bfloat16")
    for bad, match in (([0, 5, 4], "not monotonic"), ([0, 4, 7], "ends at 7"),
                       ([1, 4, 8], r"\[0\] is 1")):
        with pytest.raises(xrt.InvalidArgument, match=match):
            ops.attention_varlen(q, k, v, np.array(bad, np.int32), cu_k, impl="cudnn")
    with pytest.raises(xrt.InvalidArgument, match="above max_seqlen"):
        ops.attention_varlen(q, k, v, cu_q, cu_k, max_seqlen_q=3, impl="cudnn")


@pytest.mark.skipif(not HOPPER, reason="the sm_90a kernels run only on compute capability 9.0")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("h,hk", [(8, 2), (8, 1), (32, 8)])
@pytest.mark.parametrize("lq,lk,causal", [(1, 1, False), (127, 300, False), (300, 300, True)])
def test_hopper_forward_grouped_heads(rng, dtype, d, h, hk, lq, lk, causal):
    b = 2
    (q, k, v), (q64, k64, v64) = _operands(rng, b, h, hk, lq, lk, d, dtype)
    poison_pool(((b, h, lq, d), dtype), ((b, h, lq), "float32"))
    out, lse = ops.attention(q, k, v, causal=causal, impl="xrt_sm90", return_lse=True)
    want, want_lse = aref.forward(q64, k64, v64, aref.visible(lq, lk, causal))
    check_norm(out, want, dtype, FORWARD_TOLERANCE[dtype])
    np.testing.assert_allclose(lse.numpy(), want_lse, rtol=LSE_TOLERANCE, atol=LSE_TOLERANCE)


@pytest.mark.skipif(not HOPPER, reason="the sm_90a kernels run only on compute capability 9.0")
@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("h,hk", [(8, 2), (8, 1), (32, 8)])
@pytest.mark.parametrize("lq,lk,causal", [(1, 1, False), (127, 300, False), (300, 300, True),
                                          (200, 130, True)])
def test_hopper_backward_grouped_heads(rng, given, d, h, hk, lq, lk, causal):
    b, dtype = 2, "bfloat16"
    (q, k, v), (q64, k64, v64) = _operands(rng, b, h, hk, lq, lk, d, dtype)
    grad, grad64 = random(rng, (b, h, lq, d), dtype)
    saved = {}
    if given:
        out, lse = ops.attention(q, k, v, causal=causal, impl="xrt_sm90", return_lse=True)
        saved = dict(output=out, lse=lse)
    poison_pool(((b, h, lq, d), dtype), ((b, hk, lk, d), dtype), ((b, hk, lk, d), dtype))
    got = ops.attention_backward(grad, q, k, v, causal=causal, impl="xrt_sm90", **saved)
    want = aref.backward(grad64, q64, k64, v64, aref.visible(lq, lk, causal))
    for name, ours, expected in zip(("dq", "dk", "dv"), got, want):
        try:
            check_norm(ours, expected, dtype, GRAD_TOLERANCE)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
