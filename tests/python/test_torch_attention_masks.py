"""The torch side of grouped heads and masks: functional attention against
torch's SDPA (forward and gradients, eager and torch.compile), and
xt.Attention against torch.nn.MultiheadAttention with its masks."""
import pytest
import torch

import xpuruntime.torch as xt
import xpuruntime.torch.functional as XF


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
            "float": torch.randn(6, 9, dtype=torch.float64)}[kind]
    causal = kind == "causal"
    ours = (torch.compile(XF.attention, fullgraph=True, backend="aot_eager") if compiled
            else XF.attention)
    got = ours(q, k, v, causal, attn_mask=mask)
    want = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask,
                                                            is_causal=causal, enable_gqa=True)
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


@pytest.mark.parametrize("masks", ["padding", "causal", "causal+padding", "bool", "float3d+padding"])
def test_module_masks_match_multihead_attention(masks):
    torch.manual_seed(0)
    ours = xt.Attention(32, 4)
    theirs = torch.nn.MultiheadAttention(32, 4, batch_first=True)
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
    got, _ = ours(x, x, x, need_weights=False, **keywords)
    want, _ = theirs(x, x, x, need_weights=False, **keywords)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    for a, b in zip(torch.autograd.grad(got.sum(), [x] + list(ours.parameters())),
                    torch.autograd.grad(want.sum(), [x] + list(theirs.parameters()))):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
