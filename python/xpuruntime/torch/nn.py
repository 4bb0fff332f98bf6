"""Drop-in modules: subclasses of torch's LayerNorm, RMSNorm and
MultiheadAttention whose forward runs xpuruntime's kernels. Parameters,
state dicts and constructor arguments are torch's own, so a trained torch
model loads into them unchanged."""

import math

import torch
import torch.nn.functional as F

from . import functional


def _flatten_normalized(x, normalized_shape, *params):
    """x with the normalised axes merged into one (our kernels normalise the
    last axis), and the parameters flattened to match."""
    n = math.prod(normalized_shape)
    lead = x.shape[: x.ndim - len(normalized_shape)]
    flat = [None if p is None else p.reshape(n) for p in params]
    return x.reshape(*lead, n), flat


class LayerNorm(torch.nn.LayerNorm):
    """torch.nn.LayerNorm computed by xpuruntime."""

    def forward(self, x):
        x2, (weight, bias) = _flatten_normalized(x, self.normalized_shape, self.weight, self.bias)
        return functional.layer_norm(x2, weight, bias, self.eps).reshape(x.shape)


class RMSNorm(torch.nn.RMSNorm):
    """torch.nn.RMSNorm computed by xpuruntime (eps None: the dtype's
    machine epsilon, as torch)."""

    def forward(self, x):
        eps = self.eps if self.eps is not None else torch.finfo(x.dtype).eps
        x2, (weight,) = _flatten_normalized(x, self.normalized_shape, self.weight)
        return functional.rms_norm(x2, weight, eps).reshape(x.shape)


class Attention(torch.nn.MultiheadAttention):
    """torch.nn.MultiheadAttention (batch_first=True) whose attention runs in
    xpuruntime. Masks other than ``is_causal`` and returned attention weights
    are not supported (they would need the full weight matrix)."""

    def __init__(self, embed_dim, num_heads, *args, batch_first=True, **kwargs):
        if not batch_first:
            raise ValueError("xpuruntime.torch.Attention takes batch_first=True tensors only")
        super().__init__(embed_dim, num_heads, *args, batch_first=True, **kwargs)
        if self.dropout:
            raise ValueError(f"attention dropout is not supported, got dropout={self.dropout}")
        if self.bias_k is not None or self.add_zero_attn:
            raise ValueError("add_bias_kv and add_zero_attn are not supported")

    def forward(self, query, key, value, key_padding_mask=None, need_weights=False,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        for name, given in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
            if given is not None:
                raise NotImplementedError(f"xpuruntime.torch.Attention: {name} is not supported "
                                          "(use is_causal=True for a causal mask)")
        if need_weights:
            raise NotImplementedError("xpuruntime.torch.Attention: need_weights=True is not "
                                      "supported; pass need_weights=False")
        if self._qkv_same_embed_dim and query is key and key is value:
            # Self-attention: one product for q, k and v, as torch's own.
            packed = F.linear(query, self.in_proj_weight, self.in_proj_bias)
            q, k, v = (self._heads(t) for t in packed.chunk(3, dim=-1))
        else:
            q, k, v = (self._heads(F.linear(t, w, b)) for t, w, b in
                       zip((query, key, value), self._projections(), self._biases()))
        # (batch, heads, seq, head_dim); the lse spares the backward a forward.
        out, _ = functional.attention_lse(q, k, v, is_causal, None)
        out = out.transpose(1, 2).reshape(query.shape[0], query.shape[1], self.embed_dim)
        return self.out_proj(out), None

    def _projections(self):
        if self._qkv_same_embed_dim:
            return self.in_proj_weight.chunk(3)
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def _biases(self):
        if self.in_proj_bias is None:
            return None, None, None
        return self.in_proj_bias.chunk(3)

    def _heads(self, x):
        batch, seq, _ = x.shape
        return x.view(batch, seq, self.num_heads, self.head_dim).transpose(1, 2)
