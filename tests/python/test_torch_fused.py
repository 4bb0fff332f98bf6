"""The fused ops in torch (xt.functional.add_layer_norm, add_rms_norm,
bias_gelu and torch.ops.xpuruntime.*), xt.TransformerEncoderLayer against
torch's own layer, and the C-level call path the extension runs on."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
xt = pytest.importorskip("xpuruntime.torch")

import xpuruntime as xrt  # noqa: E402
from xpuruntime.torch import _bridge, _calls  # noqa: E402

F = torch.nn.functional
XF = xt.functional
OPS = torch.ops.xpuruntime


def _double(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


# (functional call, torch.ops call, torch's equivalent, input shapes)
CASES = {
    "add_layer_norm": (lambda x, r, w, b: XF.add_layer_norm(x, r, w, b, 1e-5),
                       lambda x, r, w, b: OPS.add_layer_norm(x, r, w, b, 1e-5),
                       lambda x, r, w, b: (F.layer_norm(x + r, (7,), w, b, 1e-5), x + r),
                       [(3, 7), (3, 7), (7,), (7,)]),
    "add_rms_norm": (lambda x, r, w: XF.add_rms_norm(x, r, w, 1e-6),
                     lambda x, r, w: OPS.add_rms_norm(x, r, w, 1e-6),
                     lambda x, r, w: (F.rms_norm(x + r, (9,), w, 1e-6), x + r),
                     [(2, 2, 9), (2, 2, 9), (9,)]),
    "bias_gelu": (XF.bias_gelu, OPS.bias_gelu, lambda x, b: F.gelu(x + b), [(4, 6), (6,)]),
}


def _outputs(result):
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("path", ["functional", "ops"])
def test_gradcheck(name, path):
    ours, op, _, shapes = CASES[name]
    fn = ours if path == "functional" else op
    assert torch.autograd.gradcheck(fn, [_double(*s) for s in shapes])


@pytest.mark.parametrize("name", CASES)
def test_forward_and_gradients_match_torch_in_float64(name):
    ours, op, theirs, shapes = CASES[name]
    inputs = [_double(*s) for s in shapes]
    want = _outputs(theirs(*inputs))
    grads_out = [torch.randn_like(t) for t in want]
    want_grads = torch.autograd.grad(want, inputs, grads_out)
    for fn in (ours, op):
        got = _outputs(fn(*inputs))
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-12)
        for g, w in zip(torch.autograd.grad(got, inputs, grads_out), want_grads):
            torch.testing.assert_close(g, w, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_eager_path_matches_the_op_exactly_and_an_unused_sum_is_fine(name):
    ours, op, _, shapes = CASES[name]
    inputs = [torch.randn(*s, requires_grad=True) for s in shapes]
    # Only the first output used: the sum's gradient is then zero.
    got = _outputs(ours(*inputs))[0]
    want = _outputs(op(*inputs))[0]
    grad = torch.randn_like(want)
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    got_grads = torch.autograd.grad(got, inputs, grad)
    for g, w in zip(got_grads, torch.autograd.grad(want, inputs, grad)):
        torch.testing.assert_close(g, w, rtol=0, atol=0)


@pytest.mark.parametrize("dtype,tol", [(torch.float16, 1e-2), (torch.bfloat16, 3e-2)])
@pytest.mark.parametrize("name", CASES)
def test_half_types_against_float64(name, dtype, tol):
    ours, _, theirs, shapes = CASES[name]
    inputs = [torch.randn(*s).to(dtype) for s in shapes]
    want = _outputs(theirs(*(t.double() for t in inputs)))
    for g, w in zip(_outputs(ours(*inputs)), want):
        assert g.dtype == dtype
        torch.testing.assert_close(g.double(), w, rtol=tol, atol=tol)


def test_opcheck_every_fused_op_and_its_backward():
    x, r, g = (torch.randn(3, 8) for _ in range(3))
    w, b = torch.randn(8), torch.randn(8)
    for args in ((x, r, w, b, 1e-5), (x, r, None, None, 1e-5)):
        torch.library.opcheck(OPS.add_layer_norm, tuple(t.requires_grad_() if
                              isinstance(t, torch.Tensor) else t for t in args))
    torch.library.opcheck(OPS.add_rms_norm, (x, r, w, 1e-6))
    torch.library.opcheck(OPS.bias_gelu, (x, b))
    x, r, w, b = (t.detach() for t in (x, r, w, b))
    torch.library.opcheck(OPS.add_layer_norm_backward, (g, x, w, r, 1e-5))
    torch.library.opcheck(OPS.add_rms_norm_backward, (g, x, w, None, 1e-6))
    torch.library.opcheck(OPS.bias_gelu_backward, (g, x, b))


def test_meta_tensors_go_through_the_fakes():
    x = torch.empty(4, 32, device="meta")
    out, total = XF.add_layer_norm(x, x, None, None)
    assert out.device.type == "meta" and total.shape == (4, 32)
    assert XF.bias_gelu(x, torch.empty(32, device="meta")).shape == (4, 32)


def _layer_pair(seed=0, **kwargs):
    torch.manual_seed(seed)
    kwargs = dict(d_model=32, nhead=4, dim_feedforward=64, dropout=0.0, **kwargs)
    theirs = torch.nn.TransformerEncoderLayer(**kwargs)
    ours = xt.TransformerEncoderLayer(**kwargs)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["gelu", "relu"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_encoder_layer_matches_torch(norm_first, activation, batch_first):
    theirs, ours = _layer_pair(norm_first=norm_first, activation=activation,
                               batch_first=batch_first, dtype=torch.float64)
    x = _double(2, 6, 32) if batch_first else _double(6, 2, 32)
    want = theirs(x)
    grad = torch.randn_like(want)
    want_grads = torch.autograd.grad(want, [x, *theirs.parameters()], grad)
    got = ours(x)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    # The CPU attention backward keeps about 7 digits in float64.
    for g, w in zip(torch.autograd.grad(got, [x, *ours.parameters()], grad), want_grads):
        torch.testing.assert_close(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("batch_first", [True, False])
def test_encoder_layer_and_attention_take_unbatched_input_as_torch(batch_first):
    """(S, E) without a batch axis, with a key padding mask (S,) and a
    per-head attn_mask (heads, S, S), as torch's modules take them."""
    theirs, ours = _layer_pair(batch_first=batch_first, dtype=torch.float64)
    x = _double(6, 32)
    padding = torch.tensor([False] * 5 + [True])
    heads_mask = torch.randn(4, 6, 6, dtype=torch.float64)
    for kwargs in ({}, {"src_key_padding_mask": padding}, {"src_mask": heads_mask}):
        want = theirs(x, **kwargs)
        torch.testing.assert_close(ours(x, **kwargs), want, rtol=1e-12, atol=1e-12)
    q, kv = _double(3, 32), _double(5, 32)
    want, _ = theirs.self_attn(q, kv, kv, need_weights=False,
                               key_padding_mask=torch.tensor([False] * 4 + [True]))
    got, _ = ours.self_attn(q, kv, kv, key_padding_mask=torch.tensor([False] * 4 + [True]))
    assert got.shape == (3, 32)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_encoder_layer_causal_and_in_an_encoder_stack():
    theirs, ours = _layer_pair(activation=F.gelu, batch_first=True, norm_first=True)
    stack_theirs = torch.nn.TransformerEncoder(theirs, 3, enable_nested_tensor=False)
    stack_ours = torch.nn.TransformerEncoder(ours, 3, enable_nested_tensor=False)
    stack_ours.load_state_dict(stack_theirs.state_dict())
    x = torch.randn(2, 5, 32)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    torch.testing.assert_close(stack_ours(x, mask=mask, is_causal=True),
                               stack_theirs(x, mask=mask, is_causal=True), rtol=1e-4, atol=1e-5)


def test_encoder_layer_compiles_fullgraph_forward_and_backward():
    _, ours = _layer_pair(activation="gelu", batch_first=True)
    compiled = torch.compile(ours, backend="aot_eager", fullgraph=True)
    x = torch.randn(2, 5, 32, requires_grad=True)
    out = compiled(x)
    torch.testing.assert_close(out, ours(x))
    (got,) = torch.autograd.grad(out.sum(), x)
    (want,) = torch.autograd.grad(ours(x).sum(), x)
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("masks", ["none", "causal_and_padding", "padding"])
def test_encoder_layer_trains_with_dropout_as_torch_does(norm_first, batch_first, masks):
    """Training with every dropout on (torch's default 0.1 is the usual
    case): from one seed, the same masks as torch's layer draws."""
    theirs, ours = _layer_pair(norm_first=norm_first, activation="gelu", batch_first=batch_first,
                               dtype=torch.float64)
    for layer in (theirs, ours):
        for module in layer.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.25
        layer.self_attn.dropout = 0.25
    x = _double(2, 6, 32) if batch_first else _double(6, 2, 32)
    padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    kwargs = {"none": {},
              "causal_and_padding": dict(
                  src_mask=torch.nn.Transformer.generate_square_subsequent_mask(
                      6, dtype=torch.float64),
                  src_key_padding_mask=torch.zeros(2, 6, dtype=torch.float64).masked_fill(
                      padding, float("-inf")),
                  is_causal=True),
              "padding": dict(src_key_padding_mask=padding)}[masks]
    runs = []
    for layer in (theirs, ours):
        torch.manual_seed(1)
        out = layer(x, **kwargs)
        runs.append((out, torch.autograd.grad(out.square().sum(), [x, *layer.parameters()])))
    (want, want_grads), (got, got_grads) = runs
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=1e-10, atol=1e-10)
    torch.manual_seed(2)
    assert not torch.equal(ours(x, **kwargs), got), "a new seed should drop other weights"


def test_bad_inputs_are_named_eagerly_and_compiled():
    x = torch.randn(2, 8)
    with pytest.raises(ValueError, match="residual has shape"):
        XF.add_layer_norm(x, torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"bias has shape \(4,\)"):
        XF.bias_gelu(x, torch.randn(4))
    with pytest.raises(NotImplementedError, match="int32"):
        XF.add_rms_norm(x.int(), x.int())
    with pytest.raises(ValueError, match="dtype mismatch"):
        XF.bias_gelu(x, torch.randn(8, dtype=torch.float64))
    compiled = torch.compile(lambda a, b: XF.bias_gelu(a, b), backend="aot_eager", fullgraph=True)
    with pytest.raises(Exception, match=r"bias has shape \(4,\)"):
        compiled(x, torch.randn(4))


# ---- the C-level call path ---------------------------------------------------

def test_the_exchange_api_is_used_where_torch_has_it():
    assert _bridge.HAS_EXCHANGE_API == hasattr(torch.Tensor, "__dlpack_c_exchange_api__")
    if _bridge.HAS_EXCHANGE_API:
        assert isinstance(_calls.layer_norm, xrt._core.ExchangeOp)


needs_exchange_api = pytest.mark.skipif(
    not _bridge.HAS_EXCHANGE_API,
    reason=f"torch {torch.__version__} has no DLPack C exchange API (torch >= 2.10 has)")


@needs_exchange_api
def test_the_dlpack_fallback_gives_the_same_results():
    x, r, w, b = torch.randn(3, 8), torch.randn(3, 8), torch.randn(8), torch.randn(8)
    q = torch.randn(1, 2, 5, 4)
    calls = [("add_layer_norm", ("x", "residual", "weight", "bias"), (("eps", "float"),), 2,
              (x, r, w, None, 1e-5)),
             ("bias_gelu", ("x", "bias"), (), 1, (x, b)),
             ("attention_lse", ("q", "k", "v"), (("causal", "int"), ("scale", "scale")), 2,
              (q, q, q, True, None))]
    for name, inputs, attrs, n, args in calls:
        fast = xrt._core.ExchangeOp(name, inputs, attrs, n)(*args)
        slow = _bridge.DLPackOp(name, inputs, attrs, n)(*args)
        for a, c in zip(_outputs(fast), _outputs(slow)):
            torch.testing.assert_close(a, c, rtol=0, atol=0)


def test_exchange_op_refuses_what_it_cannot_take():
    x = torch.randn(2, 8)
    # Either call path (ExchangeOp, or DLPackOp on older torch) names the input.
    with pytest.raises(TypeError, match="layer_norm: weight must be a .*got builtins.list"):
        _calls.layer_norm(x, [1.0] * 8, None, 1e-5)
    with pytest.raises(TypeError, match="takes 3 inputs and 1 attributes, got 2"):
        _calls.layer_norm(x, None)
    with pytest.raises(xrt.InvalidArgument, match="scale must be > 0 and finite, got -1"):
        _calls.attention(*(torch.randn(1, 1, 2, 4) for _ in range(3)), False, -1.0)
    with pytest.raises(xrt.InvalidArgument, match="every input is None"):
        _calls.bias_gelu(None, None)
    with pytest.raises(xrt.InvalidArgument,
                       match="attention: window_left must be an integer, got 1.5"):
        _calls.masked_attention(*(torch.randn(1, 1, 2, 4) for _ in range(3)), True, None,
                                window_left=1.5)
    with pytest.raises(xrt.InvalidArgument, match="ExchangeOp 'x': attribute 'a' kind"):
        xrt._core.ExchangeOp("x", ("a",), (("a", "str"),))


def test_the_dlpack_fallback_refuses_what_it_cannot_take():
    layer_norm = _bridge.DLPackOp("layer_norm", ("x", "weight", "bias"), (("eps", "float"),))
    x = torch.randn(2, 8)
    with pytest.raises(TypeError, match="layer_norm: bias must be a torch.Tensor or None, "
                                        "got numpy.ndarray"):
        layer_norm(x, None, np.ones(8, dtype=np.float32), 1e-5)
    with pytest.raises(TypeError, match="takes 3 inputs and 1 attributes, got 2"):
        layer_norm(x, None)
    with pytest.raises(xrt.InvalidArgument, match="every input is None"):
        layer_norm(None, None, None, 1e-5)
    with pytest.raises(xrt.InvalidArgument, match="layer_norm: eps must be a number, got 'a'"):
        layer_norm(x, None, None, "a")


_ATTRIBUTE_VALUES = [1e-5, 2, True, np.float32(0.5), np.int64(3), torch.tensor(0.25),
                     torch.tensor(1), "1e-5", None, [1.0], 1.0, 0.0, -2, 10**30]


def _outcome(call):
    try:
        call()
    except Exception as e:  # noqa: BLE001 (the outcome is compared, whatever it is)
        return type(e).__name__, str(e)
    return "ok", ""


@needs_exchange_api
@pytest.mark.parametrize("value", _ATTRIBUTE_VALUES, ids=repr)
def test_both_call_paths_take_and_refuse_the_same_attributes(value):
    x = torch.randn(2, 8)
    q = torch.randn(1, 1, 3, 4)
    for name, inputs, attrs, args in [
            ("layer_norm", ("x", "weight", "bias"), (("eps", "float"),), (x, None, None)),
            ("attention", ("q", "k", "v"), (("causal", "int"), ("scale", "scale")),
             (q, q, q, False)),
            ("attention", ("q", "k", "v"), (("causal", "int"), ("scale", "scale")), (q, q, q)),
            ("attention", ("q", "k", "v"), (("causal", "bool"), ("scale", "scale")), (q, q, q)),
    ]:
        extra = (None,) if len(args) == 3 and name == "attention" else ()
        call_args = (*args, value, *extra)
        fast = _outcome(lambda: xrt._core.ExchangeOp(name, inputs, attrs)(*call_args))
        slow = _outcome(lambda: _bridge.DLPackOp(name, inputs, attrs)(*call_args))
        assert fast == slow, (name, value)
        if fast[0] == "InvalidArgument":
            assert fast[1].startswith(f"{name}: "), fast


def test_exchange_op_reads_views_and_grad_requiring_tensors_in_place():
    base = torch.randn(8, 6, requires_grad=True)
    x = base.t()  # (6, 8), strided, requires grad
    out, total = _calls.add_rms_norm(x, x, None, 1e-6)
    assert not out.requires_grad and out.is_contiguous()
    torch.testing.assert_close(total, 2 * x.detach(), rtol=0, atol=0)
    assert base.grad is None


def test_second_derivatives_through_the_ops_fail_loudly():
    x = torch.randn(3, 8, requires_grad=True)
    r, b = torch.randn(3, 8), torch.randn(8, requires_grad=True)
    for out in (OPS.add_layer_norm(x, r, None, None, 1e-5)[0], OPS.bias_gelu(x, b)):
        (dx,) = torch.autograd.grad(out.pow(2).sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match=r"_backward is not differentiable \(a second "
                                               r"derivative .* inputs (grad, sum|grad, x)"):
            dx.sum().backward()
