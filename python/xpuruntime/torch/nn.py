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


def _keep_mask(mask, name, dtype):
    """A MultiheadAttention mask (bool True = ignore, or float added) in
    xpuruntime's terms: bool True = attend, or float added, in dtype."""
    if mask.dtype == torch.bool:
        return ~mask
    if not mask.is_floating_point():
        raise TypeError(f"xpuruntime.torch.Attention: {name} must be bool or float, "
                        f"got {mask.dtype}")
    return mask.to(dtype)


def _merge(a, b):
    """Both masks at once: bool masks intersect, otherwise they add (a bool
    one as 0 / -inf)."""
    if a is None or b is None:
        return a if b is None else b
    if a.dtype == torch.bool and b.dtype == torch.bool:
        return a & b
    dtype = a.dtype if a.dtype != torch.bool else b.dtype
    as_float = lambda m: (torch.zeros((), dtype=dtype, device=m.device).masked_fill(
        ~m, float("-inf")) if m.dtype == torch.bool else m)
    return as_float(a) + as_float(b)


class Attention(torch.nn.MultiheadAttention):
    """torch.nn.MultiheadAttention (batch_first=True) whose attention runs in
    xpuruntime, with its masks: ``attn_mask`` (L, S) or (batch * heads, L, S)
    and ``key_padding_mask`` (batch, S), bool (True = not attended) or float
    (added), and ``is_causal`` (with or without the causal attn_mask, which
    it then stands for, as torch documents the hint). A query that sees no
    key gets zeros (torch gives NaN). Returned attention weights are not
    supported (they would need the full weight matrix)."""

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
        mask = _merge(None if is_causal else self._attn_mask(attn_mask, q),
                      self._padding_mask(key_padding_mask, q, k.shape[2]))
        # (batch, heads, seq, head_dim); the lse spares the backward a forward.
        out, _ = functional.attention_lse(q, k, v, is_causal, None, attn_mask=mask)
        out = out.transpose(1, 2).reshape(query.shape[0], query.shape[1], self.embed_dim)
        return self.out_proj(out), None

    def _attn_mask(self, mask, q):
        """attn_mask as (L, S) or (batch, heads, L, S)."""
        if mask is None:
            return None
        batch, heads, length = q.shape[:3]
        if mask.dim() == 3:
            if mask.shape[0] != batch * heads:
                raise ValueError(f"xpuruntime.torch.Attention: a 3-D attn_mask must be "
                                 f"(batch * num_heads, L, S) = ({batch * heads}, {length}, S), "
                                 f"got {tuple(mask.shape)}")
            mask = mask.view(batch, heads, *mask.shape[1:])
        elif mask.dim() != 2:
            raise ValueError(f"xpuruntime.torch.Attention: attn_mask must be 2-D or 3-D, got "
                             f"shape {tuple(mask.shape)}")
        return _keep_mask(mask, "attn_mask", q.dtype)

    def _padding_mask(self, mask, q, keys):
        """key_padding_mask (batch, S) as (batch, 1, 1, S)."""
        if mask is None:
            return None
        if mask.shape != (q.shape[0], keys):
            raise ValueError(f"xpuruntime.torch.Attention: key_padding_mask must be (batch, S) = "
                             f"({q.shape[0]}, {keys}), got {tuple(mask.shape)}")
        return _keep_mask(mask, "key_padding_mask", q.dtype)[:, None, None, :]

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
