"""Drop-in modules: subclasses of torch's LayerNorm, RMSNorm,
MultiheadAttention and TransformerEncoderLayer whose forward runs
xpuruntime's kernels. Parameters, state dicts and constructor arguments
are torch's own, so a trained torch model loads into them unchanged."""

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
    """torch.nn.MultiheadAttention (batch_first=True, or unbatched (L, E)
    inputs) whose attention runs in xpuruntime, with its masks: ``attn_mask``
    (L, S) or (batch * heads, L, S) and ``key_padding_mask`` (batch, S),
    bool (True = not attended) or float (added), and ``is_causal`` (with or
    without the causal attn_mask, which it then stands for, as torch
    documents the hint). A query that sees no key gets zeros (torch gives
    NaN). Returned attention weights are not supported (they would need the
    full weight matrix).

    Dropout of the attention weights (``dropout > 0`` in training mode) has
    no xpuruntime kernel: such calls run torch's
    ``scaled_dot_product_attention`` with ``dropout_p`` on the same masks,
    drawing from torch's generator as torch's own module does (so a fully
    masked query follows torch there). In eval mode, or with
    ``dropout=0``, the attention is xpuruntime's."""

    def __init__(self, embed_dim, num_heads, *args, batch_first=True, **kwargs):
        if not batch_first:
            raise ValueError("xpuruntime.torch.Attention takes batch_first=True tensors only")
        super().__init__(embed_dim, num_heads, *args, batch_first=True, **kwargs)
        if self.bias_k is not None or self.add_zero_attn:
            raise ValueError("add_bias_kv and add_zero_attn are not supported")

    def forward(self, query, key, value, key_padding_mask=None, need_weights=False,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        if need_weights:
            raise NotImplementedError("xpuruntime.torch.Attention: need_weights=True is not "
                                      "supported; pass need_weights=False")
        if query.dim() == 2:  # unbatched (L, E), as torch's module takes it
            same = query is key and key is value
            query = query.unsqueeze(0)
            key, value = (query, query) if same else (key.unsqueeze(0), value.unsqueeze(0))
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
            out, _ = self.forward(query, key, value, key_padding_mask, False, attn_mask,
                                  average_attn_weights, is_causal)
            return out.squeeze(0), None
        if self._qkv_same_embed_dim and query is key and key is value:
            # Self-attention: one product for q, k and v, as torch's own.
            packed = F.linear(query, self.in_proj_weight, self.in_proj_bias)
            q, k, v = (self._heads(t) for t in packed.chunk(3, dim=-1))
        else:
            q, k, v = (self._heads(F.linear(t, w, b)) for t, w, b in
                       zip((query, key, value), self._projections(), self._biases()))
        mask = _merge(None if is_causal else self._attn_mask(attn_mask, q, k.shape[2]),
                      self._padding_mask(key_padding_mask, q, k.shape[2]))
        if self.training and self.dropout > 0:
            return self._torch_attention_with_dropout(q, k, v, mask, is_causal), None
        # (batch, heads, seq, head_dim); the lse spares the backward a forward.
        out, _ = functional.attention_lse(q, k, v, is_causal, None, attn_mask=mask)
        out = out.transpose(1, 2).reshape(query.shape[0], query.shape[1], self.embed_dim)
        return self.out_proj(out), None

    def _torch_attention_with_dropout(self, q, k, v, mask, is_causal):
        """torch's attention for the dropout our kernels lack; torch takes
        either a mask or is_causal, so with both the causal one joins in."""
        if is_causal and mask is not None:
            causal = torch.ones(q.shape[2], k.shape[2], dtype=torch.bool, device=q.device).tril()
            mask, is_causal = _merge(mask, causal), False
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout,
                                             is_causal=is_causal)
        # Projected in torch's sequence-first layout, so that a dropout
        # after this module draws the same mask from a seed as after torch's.
        batch, _, length, _ = out.shape
        out = out.permute(2, 0, 1, 3).reshape(length * batch, self.embed_dim)
        return self.out_proj(out).view(length, batch, self.embed_dim).transpose(0, 1)

    def _attn_mask(self, mask, q, keys):
        """attn_mask (L, S) or (batch * heads, L, S), the shapes torch's
        module takes, as (L, S) or (batch, heads, L, S)."""
        if mask is None:
            return None
        batch, heads, length = q.shape[:3]
        if tuple(mask.shape) not in ((length, keys), (batch * heads, length, keys)):
            raise ValueError(f"xpuruntime.torch.Attention: attn_mask must be (L, S) = "
                             f"({length}, {keys}) or (batch * num_heads, L, S) = "
                             f"({batch * heads}, {length}, {keys}), got {tuple(mask.shape)}")
        if mask.dim() == 3:
            mask = mask.view(batch, heads, length, keys)
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


def _is_exact_gelu(activation):
    return activation is F.gelu or (isinstance(activation, torch.nn.GELU)
                                    and activation.approximate == "none")


class TransformerEncoderLayer(torch.nn.TransformerEncoderLayer):
    """torch.nn.TransformerEncoderLayer computed with xpuruntime's kernels:
    the attention (:class:`Attention`), each residual add fused into the
    norm after it (:func:`functional.add_layer_norm`) and, for the exact
    GELU, the first linear layer's bias fused into the activation
    (:func:`functional.bias_gelu`). Same constructor, parameters and state
    dict as torch's. Dropouts run as torch's; that of the attention
    weights, in training, as :class:`Attention` says."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=F.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, device, dtype)
        # Our attention takes (batch, seq, width): _sa_block hands it a
        # transposed view of seq-first inputs; the rest of the layer keeps
        # torch's layout, so each dropout draws torch's mask from a seed.
        # The parameters keep torch's names and shapes.
        self.self_attn = Attention(d_model, nhead, dropout=dropout, bias=bias, batch_first=True,
                                   device=device, dtype=dtype)
        self.batch_first = batch_first

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        if src.dim() == 2:  # unbatched (S, E), as torch's layer takes it
            axis = 0 if self.batch_first else 1
            padding = None if src_key_padding_mask is None else src_key_padding_mask.unsqueeze(0)
            return self.forward(src.unsqueeze(axis), src_mask, padding, is_causal).squeeze(axis)
        if is_causal and src_key_padding_mask is None:
            src_mask = None  # the hint stands for the mask, as in torch's own attention
        x = src
        n1, n2 = self.norm1, self.norm2
        if self.norm_first:
            h = self._sa_block(functional.layer_norm(x, n1.weight, n1.bias, n1.eps), src_mask,
                               src_key_padding_mask, is_causal)
            y, x = functional.add_layer_norm(h, x, n2.weight, n2.bias, n2.eps)
            x = x + self._ff_block(y)
        else:
            h = self._sa_block(x, src_mask, src_key_padding_mask, is_causal)
            x, _ = functional.add_layer_norm(h, x, n1.weight, n1.bias, n1.eps)
            x, _ = functional.add_layer_norm(self._ff_block(x), x, n2.weight, n2.bias, n2.eps)
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = x if self.batch_first else x.transpose(0, 1)
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                             need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(out if self.batch_first else out.transpose(0, 1))

    def _ff_block(self, x):
        first = self.linear1
        if first.bias is not None and _is_exact_gelu(self.activation):
            h = functional.bias_gelu(F.linear(x, first.weight), first.bias)
        else:
            h = self.activation(first(x))
        return self.dropout2(self.linear2(self.dropout(h)))
