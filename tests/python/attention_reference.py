"""float64 closed forms of masked, grouped-head attention (forward, lse,
backward), and the visibility rule of the mask keywords written out
element by element."""
import math

import numpy as np


def visible(lq, lk, causal=False, window_left=None, bottom_right=False, valid=None):
    """(lq, lk) bool: query i sees key j. valid keys are the first `valid`
    (all by default); bottom-right puts query i on key i + valid - lq."""
    valid = lk if valid is None else valid
    offset = valid - lq if bottom_right else 0
    out = np.zeros((lq, lk), dtype=bool)
    for i in range(lq):
        for j in range(valid):
            seen = True
            if causal and j > i + offset:
                seen = False
            if window_left is not None and j < i + offset - window_left:
                seen = False
            out[i, j] = seen
    return out


def allowed(b, lq, lk, causal=False, window_left=None, bottom_right=False, key_lengths=None):
    """(b, 1, lq, lk) visibility of every batch entry."""
    return np.stack([
        visible(lq, lk, causal, window_left, bottom_right,
                None if key_lengths is None else int(key_lengths[i]))
        for i in range(b)])[:, None]


def _expand(x, heads):
    """kv heads repeated for the q heads that read them."""
    return np.repeat(x, heads // x.shape[1], axis=1)


def _weights(q, k, seen, add, scale):
    s = q @ np.swapaxes(_expand(k, q.shape[1]), -1, -2) * scale
    if add is not None:
        s = s + add
    s = np.where(seen, s, -np.inf)
    top = s.max(-1, keepdims=True, initial=-np.inf)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(s - top)
    total = e.sum(-1, keepdims=True)
    p = e / np.where(total > 0, total, 1.0)
    lse = np.where(total[..., 0] > 0, (top + np.log(np.where(total > 0, total, 1.0)))[..., 0],
                   -np.inf)
    return p, lse


def forward(q, k, v, seen, add=None, scale=None):
    """Output and lse; seen broadcasts to (B, H, Lq, Lk), add (or None) too.
    Queries that see nothing give zeros and lse -inf."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    p, lse = _weights(q, k, seen, add, scale)
    return p @ _expand(v, q.shape[1]), lse


def backward(grad, q, k, v, seen, add=None, scale=None):
    """dq, dk, dv; dk and dv summed over the q heads sharing a kv head."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    h, hk = q.shape[1], k.shape[1]
    p, _ = _weights(q, k, seen, add, scale)
    ke, ve = _expand(k, h), _expand(v, h)
    dp = grad @ np.swapaxes(ve, -1, -2)
    ds = p * (dp - (grad * (p @ ve)).sum(-1, keepdims=True))
    dq = ds @ ke * scale
    dk = np.swapaxes(ds, -1, -2) @ q * scale
    dv = np.swapaxes(p, -1, -2) @ grad
    shape = lambda x: x.reshape(x.shape[0], hk, h // hk, *x.shape[2:]).sum(2)
    return dq, shape(dk), shape(dv)
