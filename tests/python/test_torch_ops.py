"""torch.ops.xpuruntime.*: gradients (gradcheck in float64), torch.compile
tracing, the drop-in modules, and the inputs they must handle or refuse."""
import re

import pytest

torch = pytest.importorskip("torch")
xt = pytest.importorskip("xpuruntime.torch")

import xpuruntime as xrt  # noqa: E402

F = torch.nn.functional
OPS = torch.ops.xpuruntime


def _double(*shape, requires_grad=True):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=requires_grad)


@pytest.mark.parametrize("with_params", [True, False])
def test_layer_norm_gradcheck(with_params):
    x = _double(3, 7)
    w, b = (_double(7), _double(7)) if with_params else (None, None)
    assert torch.autograd.gradcheck(lambda *a: OPS.layer_norm(*a, 1e-5), (x, w, b))


def test_rms_norm_gradcheck():
    x, w = _double(4, 9), _double(9)
    assert torch.autograd.gradcheck(lambda *a: OPS.rms_norm(*a, 1e-6), (x, w))
    assert torch.autograd.gradcheck(lambda a: OPS.rms_norm(a, None, 1e-6), (x,))


@pytest.mark.parametrize("causal", [False, True])
def test_attention_gradcheck(causal):
    q, k, v = _double(2, 2, 5, 4), _double(2, 2, 6, 4), _double(2, 2, 6, 3)
    assert torch.autograd.gradcheck(lambda *a: OPS.attention(*a, causal, None), (q, k, v))
    assert torch.autograd.gradcheck(lambda *a: OPS.attention(*a, causal, 0.3), (q, k, v))


@pytest.mark.parametrize("causal", [False, True])
def test_attention_lse_gradcheck_and_lse(causal):
    # The gradient flows through the output; lse is a by-product the
    # backward reuses (float32, so float64 gradients keep about 7 digits).
    q, k, v = _double(2, 2, 5, 4), _double(2, 2, 6, 4), _double(2, 2, 6, 3)
    assert torch.autograd.gradcheck(lambda *a: OPS.attention_lse(*a, causal, 0.3)[0], (q, k, v),
                                    atol=1e-5, rtol=1e-4)
    out, lse = OPS.attention_lse(q, k, v, causal, None)
    scores = q @ k.transpose(-1, -2) / 2.0
    if causal:
        scores = scores.masked_fill(torch.ones(5, 6, dtype=torch.bool).triu(1), float("-inf"))
    assert lse.dtype == torch.float32 and not lse.requires_grad
    torch.testing.assert_close(lse.double(), torch.logsumexp(scores, -1).detach(), rtol=1e-6,
                               atol=1e-6)
    torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, is_causal=causal))


def test_ops_match_torch_in_float32():
    x, w, b = torch.randn(6, 32), torch.randn(32), torch.randn(32)
    torch.testing.assert_close(OPS.layer_norm(x, w, b, 1e-5), F.layer_norm(x, (32,), w, b, 1e-5))
    torch.testing.assert_close(OPS.rms_norm(x, w, 1e-6), F.rms_norm(x, (32,), w, 1e-6))
    q, k, v = torch.randn(2, 4, 9, 8), torch.randn(2, 4, 11, 8), torch.randn(2, 4, 11, 8)
    torch.testing.assert_close(OPS.attention(q, k, v, True, None),
                               F.scaled_dot_product_attention(q, k, v, is_causal=True))


def test_non_contiguous_inputs_are_handled():
    x = torch.randn(32, 6).t()  # (6, 32), strided
    torch.testing.assert_close(OPS.layer_norm(x, None, None, 1e-5), F.layer_norm(x, (32,)))
    q = torch.randn(2, 9, 4, 8).transpose(1, 2)
    torch.testing.assert_close(OPS.attention(q, q, q, False, None),
                               F.scaled_dot_product_attention(q, q, q))


def _attention_operands(layout, requires_grad):
    """q, k, v (2, 3, 7, 8): contiguous, views of (batch, seq, heads, dim)
    memory, or views of one packed (batch, seq, 3, heads, dim) projection."""
    if layout == "contiguous":
        qkv = [torch.randn(2, 3, 7, 8) for _ in range(3)]
    elif layout == "bshd":
        qkv = [torch.randn(2, 7, 3, 8).transpose(1, 2) for _ in range(3)]
    else:
        packed = torch.randn(2, 7, 3, 3, 8)
        qkv = [packed[:, :, i].transpose(1, 2) for i in range(3)]
    return [x.requires_grad_(requires_grad) for x in qkv]


@pytest.mark.parametrize("layout", ["contiguous", "bshd", "packed"])
def test_fake_impls_give_the_kernels_layouts(layout):
    # opcheck compares each fake result's shape and strides with the real
    # one's, which torch.compile relies on, and checks the autograd formulas.
    q, k, v = _attention_operands(layout, requires_grad=True)
    torch.library.opcheck(OPS.attention, (q, k, v, True, None))
    torch.library.opcheck(OPS.attention_lse, (q, k, v, False, 0.5))
    q, k, v = (x.detach() for x in (q, k, v))
    grad = torch.randn(2, 7, 3, 8).transpose(1, 2)
    torch.library.opcheck(OPS.attention_backward, (grad, q, k, v, True, None))
    # (batch, seq, heads, dim) memory in, the same order out: what
    # transpose(1, 2).reshape(batch, seq, heads * dim) reads without a copy.
    seq_major = layout != "contiguous"
    for result in (OPS.attention(q, k, v, True, None),
                   *OPS.attention_backward(grad, q, k, v, True, None)):
        assert result.transpose(1, 2).is_contiguous() == seq_major
        assert result.is_contiguous() != seq_major


def test_outputs_share_memory_with_nothing_and_inputs_stay_untouched():
    x = torch.randn(4, 16)
    before = x.clone()
    y = OPS.layer_norm(x, None, None, 1e-5)
    assert y.data_ptr() != x.data_ptr()
    torch.testing.assert_close(x, before, rtol=0, atol=0)


def test_torch_compile_traces_without_graph_breaks():
    model = torch.nn.Sequential(xt.LayerNorm(16), torch.nn.Linear(16, 16), xt.RMSNorm(16))
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    x = torch.randn(3, 16, requires_grad=True)
    out = compiled(x)
    torch.testing.assert_close(out, model(x))
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_torch_compile_traces_attention_without_graph_breaks():
    attention = xt.Attention(16, 2)
    compiled = torch.compile(lambda x: attention(x, x, x, is_causal=True)[0], backend="aot_eager",
                             fullgraph=True)
    x = torch.randn(2, 5, 16, requires_grad=True)
    out = compiled(x)
    torch.testing.assert_close(out, attention(x, x, x, is_causal=True)[0])
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


def test_modules_load_torch_state_dicts():
    torch.manual_seed(0)
    pairs = [(torch.nn.LayerNorm((4, 8)), xt.LayerNorm((4, 8))),
             (torch.nn.RMSNorm(8, eps=1e-6), xt.RMSNorm(8, eps=1e-6)),
             (torch.nn.MultiheadAttention(16, 4, batch_first=True), xt.Attention(16, 4))]
    for theirs, ours in pairs:
        for p in theirs.parameters():
            torch.nn.init.normal_(p)
        ours.load_state_dict(theirs.state_dict())
    x = torch.randn(2, 4, 8)
    torch.testing.assert_close(pairs[0][1](x), pairs[0][0](x))
    torch.testing.assert_close(pairs[1][1](x), pairs[1][0](x))
    s = torch.randn(2, 5, 16)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    want, _ = pairs[2][0](s, s, s, need_weights=False, attn_mask=mask, is_causal=True)
    got, _ = pairs[2][1](s, s, s, is_causal=True)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kdim", [None, 8])
def test_attention_module_cross_attention(kdim):
    """Distinct query and key/value inputs, with packed or separate projections."""
    torch.manual_seed(1)
    theirs = torch.nn.MultiheadAttention(16, 4, batch_first=True, kdim=kdim, vdim=kdim)
    ours = xt.Attention(16, 4, kdim=kdim, vdim=kdim)
    for p in theirs.parameters():
        torch.nn.init.normal_(p)
    ours.load_state_dict(theirs.state_dict())
    query, memory = torch.randn(2, 5, 16), torch.randn(2, 7, kdim or 16)
    want, _ = theirs(query, memory, memory, need_weights=False)
    got, _ = ours(query, memory, memory)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def test_attention_module_refuses_what_it_cannot_do():
    module = xt.Attention(8, 2)
    s = torch.randn(1, 3, 8)
    with pytest.raises(NotImplementedError, match="need_weights"):
        module(s, s, s, need_weights=True)
    for bad in ((3, 3, 3), (4, 4), (2, 3, 4), (3,), (1, 2, 3, 3)):
        with pytest.raises(ValueError, match=r"attn_mask must be \(L, S\) = \(3, 3\) or \(batch \* "
                                             r"num_heads, L, S\) = \(2, 3, 3\), got "
                                             + re.escape(str(bad))):
            module(s, s, s, attn_mask=torch.zeros(bad))
    module.train()  # the dropout path (torch's attention) checks the same way
    module.dropout = 0.5
    with pytest.raises(ValueError, match=r"attn_mask must be \(L, S\) = \(3, 3\)"):
        module(s, s, s, attn_mask=torch.zeros(4, 4))
    module.dropout = 0.0
    with pytest.raises(ValueError, match=r"key_padding_mask must be \(batch, S\) = \(1, 3\)"):
        module(s, s, s, key_padding_mask=torch.zeros(1, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="attn_mask must be bool or float"):
        module(s, s, s, attn_mask=torch.zeros(3, 3, dtype=torch.int32))
    with pytest.raises(ValueError, match="batch_first"):
        xt.Attention(8, 2, batch_first=False)


def test_a_meta_tensor_among_real_ones_is_refused_by_name():
    """torch sends a mix with a meta tensor to the op's fake kernel, which
    returned uninitialised memory on the real tensor's device."""
    import xpuruntime.torch.functional as XF
    x, weight = torch.randn(2, 8), torch.ones(8, device="meta")
    match = "layer_norm: inputs are on different devices: x on cpu, weight on meta"
    with pytest.raises(xrt.InvalidArgument, match=match):
        XF.layer_norm(x, weight)
    with pytest.raises(xrt.InvalidArgument, match=match):
        OPS.layer_norm(x, weight, None, 1e-5)
    q = torch.randn(1, 2, 3, 4)
    with pytest.raises(xrt.InvalidArgument, match="attention: inputs are on different devices: "
                                                  "q on cpu, v on meta"):
        XF.attention(q, q, q.to("meta"))
    with pytest.raises(Exception, match=match):
        torch.compile(XF.layer_norm, fullgraph=True, backend="eager")(x, weight)
    # Meta tensors alone are torch's shape inference, and keep working.
    assert XF.layer_norm(x.to("meta"), weight).device.type == "meta"


def test_mixed_dtypes_and_unsupported_dtypes_are_named():
    x = torch.randn(2, 8)
    with pytest.raises(xrt.InvalidArgument, match="dtype mismatch"):
        OPS.layer_norm(x, torch.ones(8, dtype=torch.float64), None, 1e-5)
    with pytest.raises(xrt.Unsupported, match="int32"):
        OPS.rms_norm(torch.ones(2, 8, dtype=torch.int32), None, 1e-6)


def test_importing_xpuruntime_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, xpuruntime; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
