"""The torch side of grouped heads and masks: functional attention against
torch's SDPA (forward and gradients, eager and torch.compile), and
xt.Attention against torch.nn.MultiheadAttention with its masks."""
import pytest

torch = pytest.importorskip("torch")
xt = pytest.importorskip("xpuruntime.torch")

import xpuruntime.torch.functional as XF  # noqa: E402


def _operands(h=4, hk=2, lq=6, lk=9):
    gen = torch.Generator().manual_seed(h * 100 + hk * 10 + lq)
    return [torch.randn(shape, generator=gen, dtype=torch.float64, requires_grad=True)
            for shape in ((2, h, lq, 8), (2, hk, lk, 8), (2, hk, lk, 8))]


def _grads(out, tensors):
    return torch.autograd.grad(out, tensors, torch.ones_like(out))


@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
@pytest.mark.parametrize("compiled", [False, True])
def test_functional_matches_sdpa(kind, compiled):
    q, k, v = _operands()
    mask = {"none": None, "causal": None,
            "bool": torch.rand(2, 1, 6, 9, generator=torch.Generator().manual_seed(1)) > 0.2,
            "float": torch.randn(6, 9, dtype=torch.float64,
                                 generator=torch.Generator().manual_seed(2))}[kind]
    causal = kind == "causal"
    ours = (torch.compile(XF.attention, fullgraph=True, backend="aot_eager") if compiled
            else XF.attention)
    got = ours(q, k, v, causal, attn_mask=mask)
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                            is_causal=causal, enable_gqa=True)
    torch.testing.assert_close(got, want)
    # The backward takes the float32 lse.
    for a, b in zip(_grads(got, (q, k, v)), _grads(want, (q, k, v))):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_functional_without_keys_matches_sdpa(compiled):
    """Lk == 0: torch's SDPA gives zeros and passes no gradient to q."""
    q, k, v = _operands(lk=0)
    ours = (torch.compile(XF.attention, fullgraph=True, backend="aot_eager") if compiled
            else XF.attention)
    got = ours(q, k, v)
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    torch.testing.assert_close(got, want)
    for a, b in zip(_grads(got, (q, k, v)), _grads(want, (q, k, v))):
        torch.testing.assert_close(a, b)


def test_functional_key_lengths_window_bottom_right():
    q, k, v = _operands(8, 1, 5, 9)
    lengths = torch.tensor([9, 6], dtype=torch.int32)
    got = XF.attention(q, k, v, True, key_lengths=lengths, window_left=3,
                       causal_align="bottom_right")
    rows = torch.arange(5)[:, None]
    cols = torch.arange(9)[None, :]
    keep = torch.stack([(cols < n) & (cols <= rows + n - 5) & (cols >= rows + n - 5 - 3)
                        for n in (9, 6)])[:, None]
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=keep,
                                                            enable_gqa=True)
    torch.testing.assert_close(got, want)
    for a, b in zip(_grads(got, (q, k, v)), _grads(want, (q, k, v))):
        torch.testing.assert_close(a, b)


def test_mask_needing_a_gradient_is_refused():
    q, k, v = _operands()
    mask = torch.zeros(6, 9, dtype=torch.float64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="attn_mask gets no gradient"):
        XF.attention(q, k, v, attn_mask=mask)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("masks", ["padding", "causal", "causal+padding", "bool", "float3d+padding"])
def test_module_masks_match_multihead_attention(masks, dropout):
    """With dropout (training mode), from one seed the same weights drop as
    in torch's module."""
    torch.manual_seed(0)
    ours = xt.Attention(32, 4, dropout=dropout)
    theirs = torch.nn.MultiheadAttention(32, 4, dropout=dropout, batch_first=True)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 6, 32, requires_grad=True)
    padding = torch.tensor([[False] * 6, [False] * 4 + [True] * 2])
    causal = torch.nn.Transformer.generate_square_subsequent_mask(6)
    keywords = {
        "padding": dict(key_padding_mask=padding),
        "causal": dict(attn_mask=causal, is_causal=True),
        "causal+padding": dict(attn_mask=causal, is_causal=True, key_padding_mask=padding),
        "bool": dict(attn_mask=torch.eye(6, dtype=torch.bool).roll(1, 1)),
        "float3d+padding": dict(attn_mask=torch.randn(8, 6, 6),
                                key_padding_mask=padding.float() * -1e4),
    }[masks]
    torch.manual_seed(1)
    got, _ = ours(x, x, x, need_weights=False, **keywords)
    torch.manual_seed(1)
    want, _ = theirs(x, x, x, need_weights=False, **keywords)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    for a, b in zip(torch.autograd.grad(got.sum(), [x] + list(ours.parameters())),
                    torch.autograd.grad(want.sum(), [x] + list(theirs.parameters()))):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def _packed_reference(q, k, v, cu_q, cu_k, causal):
    pieces = []
    for b in range(len(cu_q) - 1):
        per_seq = [x[s:e].transpose(0, 1)[None] for x, (s, e) in
                   ((q, (cu_q[b], cu_q[b + 1])), (k, (cu_k[b], cu_k[b + 1])),
                    (v, (cu_k[b], cu_k[b + 1])))]
        out = torch.nn.functional.scaled_dot_product_attention(*per_seq, is_causal=causal,
                                                               enable_gqa=True)
        pieces.append(out[0].transpose(0, 1))
    return torch.cat(pieces)


@pytest.mark.parametrize("compiled", [False, True])
def test_varlen_custom_op_with_gradients(compiled):
    gen = torch.Generator().manual_seed(3)
    q = torch.randn(10, 4, 8, dtype=torch.float64, generator=gen, requires_grad=True)
    k, v = (torch.randn(12, 2, 8, dtype=torch.float64, generator=gen, requires_grad=True)
            for _ in range(2))
    cu_q = torch.tensor([0, 4, 10], dtype=torch.int32)
    cu_k = torch.tensor([0, 5, 12], dtype=torch.int32)
    op = torch.ops.xpuruntime.attention_varlen
    if compiled:
        op = torch.compile(op, fullgraph=True, backend="aot_eager")
    got, lse = op(q, k, v, cu_q, cu_k, 6, 7, True, None)
    assert lse.shape == (4, 10)
    want = _packed_reference(q, k, v, cu_q, cu_k, True)
    torch.testing.assert_close(got, want)
    # The backward takes the float32 lse.
    for a, b in zip(_grads(got, (q, k, v)), _grads(want, (q, k, v))):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


def test_decode_and_append_custom_ops_compile():
    k_cache, v_cache = torch.zeros(2, 8, 2, 8), torch.zeros(2, 8, 2, 8)
    lengths = torch.tensor([3, 0], dtype=torch.int32)
    new = torch.randn(2, 1, 2, 8)

    def step(q, k_cache, v_cache, new, lengths):
        lengths = torch.ops.xpuruntime.kv_cache_append(k_cache, v_cache, new, new, lengths)
        return torch.ops.xpuruntime.attention_decode(q, k_cache, v_cache, lengths, None, None)

    q = torch.randn(2, 1, 4, 8)
    got = torch.compile(step, fullgraph=True, backend="aot_eager")(q, k_cache, v_cache, new,
                                                                   lengths)
    torch.testing.assert_close(k_cache[0, 3], new[0, 0])
    torch.testing.assert_close(v_cache[1, 0], new[1, 0])
    for b, n in enumerate((4, 1)):
        keys = k_cache[b, :n].transpose(0, 1)[None]
        want = torch.nn.functional.scaled_dot_product_attention(
            q[b].transpose(0, 1)[None], keys, v_cache[b, :n].transpose(0, 1)[None],
            enable_gqa=True)
        torch.testing.assert_close(got[b], want[0].transpose(0, 1))


def test_decode_refuses_a_gradient_by_name():
    q = torch.randn(1, 1, 2, 8, requires_grad=True)
    cache = torch.randn(1, 4, 2, 8)
    lengths = torch.tensor([4], dtype=torch.int32)
    out = torch.ops.xpuruntime.attention_decode(q, cache, cache, lengths, None, None)
    with torch.no_grad():
        plain = torch.ops.xpuruntime.attention_decode(q, cache, cache, lengths, None, None)
    torch.testing.assert_close(out.detach(), plain, rtol=0, atol=0)
    with pytest.raises(RuntimeError, match=r"attention_decode is not differentiable \(it is "
                                           r"forward only.*inputs q$"):
        out.sum().backward()
