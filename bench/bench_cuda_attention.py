"""Attention on the GPU: xrt.ops.attention and attention_backward as the
dispatcher runs them (cuDNN's fused attention where cuDNN is installed) and
with each of our own kernels forced (impl="xrt_sm90", the Hopper kernels;
impl="xrt_sm80"), against torch's scaled_dot_product_attention with its
FlashAttention and cuDNN backends, in TFLOP/s, measured in the same run.

    python bench/bench_cuda_attention.py [--no-save]

A second table times grouped-query attention (q heads a multiple of k and
v's) against torch's SDPA with enable_gqa=True on each backend that takes
it; a third masked attention (key_lengths, a bool attn_mask, a sliding
window) against torch's SDPA given the same visibility as a bool attn_mask
on each backend that takes it, counting FLOPs of the visible scores only;
a fourth attention_varlen over 16k packed tokens against our dense sm80
kernel on the same tokens (equal lengths) and with uneven lengths, FLOPs
counted per sequence; then cuDNN's path (impl="cudnn") with key_lengths,
attn_mask, sliding windows, bottom-right alignment and head sizes 32 to
256 against torch's SDPA with the equivalent attn_mask, and
attention_varlen against our dense op on the same tokens
(--cudnn-masks-only runs just those).

Counts 4*B*H*N^2*D FLOPs for the forward (halved when causal) and 2.5 times
that for the backward. The backward gets the forward's output and
log-sum-exp (attention(..., return_lse=True)), as torch's autograd does.
The kernel the dispatcher chose is read from the xrt Profiler. Random bf16
inputs; CUDA events on the default stream, median of alternating repeats
after warm-up. Writes bench/results/<date>-cuda-attention.md.
"""
from __future__ import annotations

import argparse
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

import xpuruntime as xrt
from xpuruntime import ops

from benchlib import save_results
from cudabench import DEVICE, event_medians, gpu_line

# (batch, heads, seq, head_dim, causal)
CASES = [(4, 16, 4096, 128, False), (4, 16, 4096, 128, True),
         (2, 16, 16384, 128, False), (8, 16, 2048, 64, False)]
XRT_IMPLS = [None, "xrt_sm90", "xrt_sm80"]
# (batch, q heads, kv heads, seq, head_dim, causal)
GQA_CASES = [(4, 32, 8, 4096, 128, False), (4, 32, 8, 4096, 128, True),
             (8, 32, 4, 2048, 64, False)]
GQA_IMPLS = [None, "xrt", "xrt_sm80"]
GQA_BACKENDS = [("flash", SDPBackend.FLASH_ATTENTION),
                ("cudnn", SDPBackend.CUDNN_ATTENTION),
                ("efficient", SDPBackend.EFFICIENT_ATTENTION)]
BACKENDS = [("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)]
# (label, batch, q heads, kv heads, seq, head_dim): the masked cases' shape.
MASK_SHAPE = (4, 32, 8, 4096, 128)
MASK_CASES = ["key_lengths", "bool attn_mask", "causal window 1024"]
MASK_IMPLS = [None, "xrt_sm80"]
MASK_BACKENDS = GQA_BACKENDS + [("math", SDPBackend.MATH)]
# (heads, head_dim, causal) of the packed cases, 16384 tokens each.
VARLEN_CASES = [(16, 128, False), (16, 128, True)]
VARLEN_TOKENS = 16384


def torch_fns(q, k, v, grad, causal, backend, gqa=False, mask=None):
    """Forward and backward closures of torch SDPA on one backend, or
    (None, None) when that backend cannot run the case."""
    qr, kr, vr = (x.detach().requires_grad_(True) for x in (q, k, v))
    extra = {"enable_gqa": True} if gqa else {}
    if mask is not None:
        extra["attn_mask"] = mask
    try:
        with sdpa_kernel(backend):
            out = F.scaled_dot_product_attention(qr, kr, vr, is_causal=causal, **extra)
    except RuntimeError as error:
        print(f"torch {backend}: {error}".splitlines()[0], file=sys.stderr)
        return None, None

    def forward():
        with sdpa_kernel(backend):
            F.scaled_dot_product_attention(q, k, v, is_causal=causal, **extra)

    def backward():
        torch.autograd.grad(out, (qr, kr, vr), grad, retain_graph=True)

    return forward, backward


def xrt_fns(xq, xk, xv, xg, causal, impl, **masks):
    """Forward and backward closures of our attention with one impl= (None:
    the dispatcher's choice) and mask keywords; either is None where that
    impl cannot run."""
    try:
        out, lse = ops.attention(xq, xk, xv, causal=causal, impl=impl, return_lse=True, **masks)
    except xrt.Unsupported as error:
        print(f"impl={impl}: {error}".splitlines()[0], file=sys.stderr)
        return None, None

    def forward():
        ops.attention(xq, xk, xv, causal=causal, impl=impl, **masks)

    def backward():
        ops.attention_backward(xg, xq, xk, xv, causal=causal, output=out, lse=lse, impl=impl,
                               **masks)

    try:
        backward()
    except xrt.Unsupported as error:
        print(f"impl={impl} backward: {error}".splitlines()[0], file=sys.stderr)
        return forward, None
    return forward, backward


def gqa_rows(b: int, h: int, hk: int, n: int, d: int, causal: bool) -> list[tuple]:
    """Our GQA attention (dispatched, and impl='xrt') and torch SDPA with
    enable_gqa on each backend, forward and backward, in TFLOP/s."""
    q, grad = (torch.randn(b, h, n, d, device=DEVICE, dtype=torch.bfloat16) for _ in range(2))
    k, v = (torch.randn(b, hk, n, d, device=DEVICE, dtype=torch.bfloat16) for _ in range(2))
    xq, xk, xv, xg = (xrt.from_dlpack(x) for x in (q, k, v, grad))
    flops = 4 * b * h * n * n * d * (0.5 if causal else 1.0)
    fwd_fns, bwd_fns = [], []
    for impl in GQA_IMPLS:
        fwd, bwd = xrt_fns(xq, xk, xv, xg, causal, impl)
        fwd_fns.append(fwd)
        bwd_fns.append(bwd)
    chosen = chosen_impls(fwd_fns[0], bwd_fns[0])
    for _, backend in GQA_BACKENDS:
        fwd, bwd = torch_fns(q, k, v, grad, causal, backend, gqa=True)
        fwd_fns.append(fwd)
        bwd_fns.append(bwd)
    iters = max(1, int(2e13 // flops))
    name = f"B{b} H{h}/{hk} N{n} D{d}{' causal' if causal else ''}"
    return rate_rows(name, chosen, fwd_fns, bwd_fns, flops, iters, repeats=5)


def rate_rows(name, chosen, fwd_fns, bwd_fns, flops, iters, repeats) -> list[tuple]:
    """A forward and a backward table row: the case, the kernel the
    dispatcher chose ("-" where none ran), then TFLOP/s of each function
    (the backward counted as 2.5 forwards)."""
    rows = []
    for direction, fns, work in (("fwd", fwd_fns, flops), ("bwd", bwd_fns, 2.5 * flops)):
        times = event_medians(fns, iters=iters, repeats=repeats)
        impl = (chosen[0] if direction == "fwd" else chosen[-1]) if chosen else "-"
        rows.append((f"{name} {direction}", impl, *(work / t / 1e12 for t in times)))
    return rows


def chosen_impls(fwd, bwd) -> list[str]:
    """The kernels the dispatcher ran for fwd and bwd (where they run)."""
    with xrt.Profiler() as prof:
        for fn in (fwd, bwd):
            if fn:
                fn()
    return [e["args"]["impl"].removeprefix("cuda.") for e in prof.events()
            if e.get("ph") == "X" and e["name"].startswith("attention")]


def mask_case(label: str, b: int, n: int):
    """Our keywords, the same visibility as torch's bool attn_mask
    (broadcastable to (b, 1, n, n)), and the visible scores per head."""
    gen = torch.Generator(device=DEVICE).manual_seed(0)
    if label == "key_lengths":
        lengths = torch.randint(n // 4, n + 1, (b,), device=DEVICE, generator=gen,
                                dtype=torch.int32)
        keys = torch.arange(n, device=DEVICE)
        mask = (keys[None, :] < lengths[:, None])[:, None, None, :]
        return {"key_lengths": xrt.from_dlpack(lengths)}, mask, float(lengths.sum()) * n / b
    if label == "bool attn_mask":
        mask = torch.rand(n, n, device=DEVICE, generator=gen) > 0.1
        ours = xrt.asarray(mask.cpu().numpy(), device=DEVICE)
        return {"attn_mask": ours}, mask, float(mask.sum())
    window = 1024
    i = torch.arange(n, device=DEVICE)
    mask = (i[None, :] <= i[:, None]) & (i[None, :] > i[:, None] - window)
    return ({"window_left": window - 1, "causal": True}, mask, float(mask.sum()))


def masked_rows(label: str) -> list[tuple]:
    """Our masked attention (dispatched, and impl='xrt_sm80') and torch SDPA
    with the visibility as a bool attn_mask on each backend that takes it."""
    b, h, hk, n, d = MASK_SHAPE
    q, grad = (torch.randn(b, h, n, d, device=DEVICE, dtype=torch.bfloat16) for _ in range(2))
    k, v = (torch.randn(b, hk, n, d, device=DEVICE, dtype=torch.bfloat16) for _ in range(2))
    xq, xk, xv, xg = (xrt.from_dlpack(x) for x in (q, k, v, grad))
    keywords, mask, pairs = mask_case(label, b, n)
    causal = keywords.pop("causal", False)
    flops = 4 * b * h * d * pairs
    fwd_fns, bwd_fns = [], []
    for impl in MASK_IMPLS:
        fwd, bwd = xrt_fns(xq, xk, xv, xg, causal, impl, **keywords)
        fwd_fns.append(fwd)
        bwd_fns.append(bwd)
    chosen = chosen_impls(fwd_fns[0], bwd_fns[0])
    for _, backend in MASK_BACKENDS:
        fwd, bwd = torch_fns(q, k, v, grad, False, backend, gqa=True, mask=mask)
        fwd_fns.append(fwd)
        bwd_fns.append(bwd)
    iters = max(1, int(1e13 // flops))
    name = f"B{b} H{h}/{hk} N{n} D{d} {label}"
    return rate_rows(name, chosen, fwd_fns, bwd_fns, flops, iters, repeats=3)


def varlen_fns(xq, xk, xv, xg, cu, top: int, causal: bool):
    """Forward and backward closures of our attention_varlen (the backward
    given the forward's output and lse), sequences cu of at most top tokens."""
    out, lse = ops.attention_varlen(xq, xk, xv, cu, cu, top, top, causal, return_lse=True,
                                    impl="xrt_sm80")

    def forward():
        ops.attention_varlen(xq, xk, xv, cu, cu, top, top, causal, impl="xrt_sm80")

    def backward():
        ops.attention_varlen_backward(xg, xq, xk, xv, cu, cu, top, top, causal, output=out,
                                      lse=lse, impl="xrt_sm80")

    return forward, backward


def varlen_rows(h: int, d: int, causal: bool) -> list[tuple]:
    """Our attention_varlen (impl='xrt_sm80') over 16 sequences of 1024
    tokens, then over uneven lengths, forward and backward, against our
    dense sm80 kernel on (16, h, 1024, d): TFLOP/s and the ratio."""
    gen = torch.Generator().manual_seed(1)
    even = [1024] * 16
    uneven = (torch.rand(24, generator=gen) + 0.2).tolist()
    uneven = [max(1, int(x / sum(uneven) * VARLEN_TOKENS)) for x in uneven]
    uneven[-1] += VARLEN_TOKENS - sum(uneven)
    rows = []
    dense_times = None
    for label, lengths in (("16 x 1024", even), ("24 uneven", uneven)):
        q, k, v, grad = (torch.randn(VARLEN_TOKENS, h, d, device=DEVICE, dtype=torch.bfloat16)
                         for _ in range(4))
        cu = torch.tensor([0] + lengths, dtype=torch.int32).cumsum(0).to(torch.int32).to(DEVICE)
        xq, xk, xv, xg, xcu = (xrt.from_dlpack(x) for x in (q, k, v, grad, cu))
        per_seq = sum(n * (n + 1) / 2 if causal else n * n for n in lengths)
        flops = 4 * h * d * per_seq
        top = max(lengths)
        fns = list(varlen_fns(xq, xk, xv, xg, xcu, top, causal))
        if dense_times is None:  # the same tokens as (16, h, 1024, d), our sm80 kernel
            dq, dk, dv, dg = (xrt.from_dlpack(x.view(16, 1024, h, d).transpose(1, 2).contiguous())
                              for x in (q, k, v, grad))
            dense_fwd, dense_bwd = xrt_fns(dq, dk, dv, dg, causal, "xrt_sm80")
            fns += [dense_fwd, dense_bwd]
        iters = max(1, int(1e13 // flops))
        times = event_medians(fns, iters=iters, repeats=5)
        if dense_times is None:
            dense_times = times[2:]
            dense_flops = flops
        name = f"{VARLEN_TOKENS} tokens ({label}) H{h} D{d}{' causal' if causal else ''}"
        for kind, t, dense_t, work in (("fwd", times[0], dense_times[0], 1.0),
                                       ("bwd", times[1], dense_times[1], 2.5)):
            ours = work * flops / t / 1e12
            dense = work * dense_flops / dense_t / 1e12
            rows.append((f"{name} {kind}", ours, dense, ours / dense))
    return rows


def case_rows(b: int, h: int, n: int, d: int, causal: bool) -> list[tuple]:
    q, k, v, grad = (torch.randn(b, h, n, d, device=DEVICE, dtype=torch.bfloat16)
                     for _ in range(4))
    xq, xk, xv, xg = (xrt.from_dlpack(x) for x in (q, k, v, grad))
    flops = 4 * b * h * n * n * d * (0.5 if causal else 1.0)
    fwd_fns, bwd_fns = [], []
    for impl in XRT_IMPLS:
        fwd, bwd = xrt_fns(xq, xk, xv, xg, causal, impl)
        fwd_fns.append(fwd)
        bwd_fns.append(bwd)
    chosen = chosen_impls(fwd_fns[0], bwd_fns[0])
    for _, backend in BACKENDS:
        fwd, bwd = torch_fns(q, k, v, grad, causal, backend)
        fwd_fns.append(fwd)
        bwd_fns.append(bwd)
    # About 0.1-0.3 s per timed call group on an H100/H200.
    iters = max(1, int(2e13 // flops))
    name = f"B{b} H{h} N{n} D{d}{' causal' if causal else ''}"
    return rate_rows(name, chosen, fwd_fns, bwd_fns, flops, iters, repeats=5)


# ---- cuDNN with masks, packed sequences and more head sizes ----------------
# (label, batch, q heads, kv heads, Lq, Lk, head_dim, our keywords, mask kind)
CUDNN_MASK_CASES = [
    ("GQA key_lengths", 4, 32, 8, 4096, 4096, 128, {}, "key_lengths"),
    ("GQA causal key_lengths", 4, 32, 8, 4096, 4096, 128, {"causal": True}, "key_lengths"),
    ("GQA bool mask (1,1,N,N)", 4, 32, 8, 4096, 4096, 128, {}, "bool"),
    ("GQA additive bf16 (B,1,N,N)", 4, 32, 8, 4096, 4096, 128, {}, "additive"),
    ("GQA causal window 1024", 4, 32, 8, 4096, 4096, 128,
     {"causal": True, "window_left": 1024}, "window"),
    ("GQA bottom-right causal Lq 1024", 4, 32, 8, 1024, 4096, 128,
     {"causal": True, "causal_align": "bottom_right"}, "bottom_right"),
    ("D32", 4, 16, 16, 4096, 4096, 32, {}, None),
    ("D96", 4, 16, 16, 4096, 4096, 96, {}, None),
    ("D192 causal", 4, 16, 16, 4096, 4096, 192, {"causal": True}, None),
    ("D256", 4, 16, 16, 4096, 4096, 256, {}, None),
]
# (label, q heads, kv heads, head_dim, causal, sequence lengths): 16k tokens,
# a multiple of 8 (the dense comparison views them as 8 sequences)
CUDNN_VARLEN_CASES = [
    ("8 x 2048", 32, 8, 128, True, [2048] * 8),
    ("16k mixed", 32, 8, 128, True, [4096, 3000, 2500, 2048, 1800, 1200, 900, 500, 220, 120]),
]


def _torch_mask(kind, b, lq, lk, lengths, window):
    """torch's attn_mask for one case: bool (True = attend) or additive, and
    the visible fraction of (query, key) pairs for the FLOP count."""
    i = torch.arange(lq, device=DEVICE)[:, None]
    j = torch.arange(lk, device=DEVICE)[None, :]
    if kind == "key_lengths":
        mask = j[None] < lengths[:, None, None].to(DEVICE)  # (B, 1, Lk)
        mask = mask[:, None]  # (B, 1, 1, Lk)
    elif kind == "bool":
        mask = (torch.rand(1, 1, lq, lk, device=DEVICE) < 0.9)
    elif kind == "additive":
        mask = torch.randn(b, 1, lq, lk, device=DEVICE, dtype=torch.bfloat16)
    elif kind == "window":
        mask = ((j <= i) & (j >= i - window))[None, None]
    elif kind == "bottom_right":
        mask = (j <= i + (lk - lq))[None, None]
    else:
        return None, 1.0
    seen = mask if mask.dtype == torch.bool else torch.ones(1, dtype=torch.bool, device=DEVICE)
    return mask, float(seen.expand(b, 1, lq, lk).float().mean())


def _torch_masked_fns(q, k, v, grad, mask, causal, backend):
    qr, kr, vr = (x.detach().requires_grad_(True) for x in (q, k, v))
    try:
        with sdpa_kernel(backend):
            out = F.scaled_dot_product_attention(qr, kr, vr, attn_mask=mask, is_causal=causal,
                                                 enable_gqa=True)
    except RuntimeError as error:
        print(f"torch {backend}: {error}".splitlines()[0], file=sys.stderr)
        return None, None

    def forward():
        with sdpa_kernel(backend):
            F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal,
                                           enable_gqa=True)

    def backward():
        torch.autograd.grad(out, (qr, kr, vr), grad, retain_graph=True)

    return forward, backward


def _xrt_masked_fns(xq, xk, xv, xg, keywords):
    try:
        out, lse = ops.attention(xq, xk, xv, impl="cudnn", return_lse=True, **keywords)
    except xrt.Unsupported as error:
        print(f"cudnn: {error}".splitlines()[0], file=sys.stderr)
        return None, None

    def forward():
        ops.attention(xq, xk, xv, impl="cudnn", **keywords)

    def backward():
        ops.attention_backward(xg, xq, xk, xv, output=out, lse=lse, impl="cudnn", **keywords)

    return forward, backward


def cudnn_mask_lines() -> list[str]:
    """cuDNN's path for masks, grouped heads and head sizes our kernels lack
    (impl='cudnn') against torch's SDPA with the equivalent attn_mask on each
    backend that runs it; then packed sequences against our dense op on the
    same tokens."""
    lines = ["", "cuDNN with masks and head sizes (impl='cudnn'), bf16, TFLOP/s on the "
             "visible (query, key) pairs:", "",
             "| case | xpuruntime (cuDNN) | torch flash | torch cuDNN | torch efficient "
             "| vs best torch |", "|---|---|---|---|---|---|"]
    for label, b, h, hk, lq, lk, d, keywords, kind in CUDNN_MASK_CASES:
        q, grad = (torch.randn(b, h, lq, d, device=DEVICE, dtype=torch.bfloat16)
                   for _ in range(2))
        k, v = (torch.randn(b, hk, lk, d, device=DEVICE, dtype=torch.bfloat16) for _ in range(2))
        xq, xk, xv, xg = (xrt.from_dlpack(x) for x in (q, k, v, grad))
        ours = dict(keywords)
        lengths = torch.randint(lk // 2, lk + 1, (b,), dtype=torch.int32)
        mask, seen = _torch_mask(kind, b, lq, lk, lengths, keywords.get("window_left"))
        torch_causal = keywords.get("causal", False) and mask is None
        if kind == "key_lengths":
            ours["key_lengths"] = xrt.from_dlpack(lengths.to(DEVICE))
            if keywords.get("causal"):
                mask = mask & torch.ones(lq, lk, device=DEVICE, dtype=torch.bool).tril()
                seen = float(mask.expand(b, 1, lq, lk).float().mean())
        elif kind == "bool":
            ours["attn_mask"] = xrt.asarray(mask.cpu().numpy(), device=DEVICE)
        elif kind == "additive":
            ours["attn_mask"] = xrt.from_dlpack(mask)
        flops = 4 * b * h * lq * lk * d * seen * (0.5 if torch_causal else 1.0)
        fwd_fns, bwd_fns = [], []
        for fns in [_xrt_masked_fns(xq, xk, xv, xg, ours)] + [
                _torch_masked_fns(q, k, v, grad, mask, torch_causal, backend)
                for _, backend in GQA_BACKENDS]:
            fwd_fns.append(fns[0])
            bwd_fns.append(fns[1])
        iters = max(1, int(2e13 // flops))
        for direction, fns, work in (("fwd", fwd_fns, flops), ("bwd", bwd_fns, 2.5 * flops)):
            rates = [work / t / 1e12 for t in event_medians(fns, iters=iters, repeats=5)]
            best = max((x for x in rates[1:] if x == x), default=float("nan"))
            cells = " | ".join(f"{x:.1f}" for x in rates)
            name = f"{label} B{b} H{h}/{hk} Lq{lq} Lk{lk} D{d} {direction}"
            lines.append(f"| {name} | {cells} | {rates[0] / best:.2f} |")
        torch.cuda.synchronize()
    lines += ["", "Packed sequences (attention_varlen through cuDNN) against our dense op "
              "(dispatched) and torch SDPA (best backend) on a batch of the same total tokens, "
              "bf16, causal, TFLOP/s:", "",
              "| case | varlen | dense, same tokens | torch dense | varlen vs dense |",
              "|---|---|---|---|---|"]
    for label, h, hk, d, causal, lengths in CUDNN_VARLEN_CASES:
        total = sum(lengths)
        q, grad = (torch.randn(total, h, d, device=DEVICE, dtype=torch.bfloat16)
                   for _ in range(2))
        k, v = (torch.randn(total, hk, d, device=DEVICE, dtype=torch.bfloat16) for _ in range(2))
        cu = torch.tensor([0] + list(torch.tensor(lengths).cumsum(0)), dtype=torch.int32,
                          device=DEVICE)
        xq, xk, xv, xg, xcu = (xrt.from_dlpack(x) for x in (q, k, v, grad, cu))
        top = max(lengths)
        keywords = dict(causal=causal, max_seqlen_q=top, max_seqlen_k=top)
        out, lse = ops.attention_varlen(xq, xk, xv, xcu, xcu, return_lse=True, **keywords)
        # Dense: the same tokens as (B, H, N, D) views, 8 sequences of total / 8.
        dense_b = 8
        n = total // dense_b
        dq, dk, dv, dg = (x.reshape(dense_b, n, x.shape[1], d).transpose(1, 2)
                          for x in (q, k, v, grad))
        xdq, xdk, xdv, xdg = (xrt.from_dlpack(x) for x in (dq, dk, dv, dg))
        dense_out, dense_lse = ops.attention(xdq, xdk, xdv, causal=causal, return_lse=True)
        fwd_fns = [lambda: ops.attention_varlen(xq, xk, xv, xcu, xcu, **keywords),
                   lambda: ops.attention(xdq, xdk, xdv, causal=causal)]
        bwd_fns = [lambda: ops.attention_varlen_backward(xg, xq, xk, xv, xcu, xcu, output=out,
                                                         lse=lse, **keywords),
                   lambda: ops.attention_backward(xdg, xdq, xdk, xdv, causal=causal,
                                                  output=dense_out, lse=dense_lse)]
        torch_best = [None, None]
        for _, backend in GQA_BACKENDS:
            fwd, bwd = _torch_masked_fns(dq, dk, dv, dg, None, causal, backend)
            if fwd:
                torch_best = [fwd, bwd]
                break
        fwd_fns.append(torch_best[0])
        bwd_fns.append(torch_best[1])
        varlen_flops = sum(4 * h * n_ * n_ * d for n_ in lengths) * (0.5 if causal else 1.0)
        dense_flops = 4 * dense_b * h * n * n * d * (0.5 if causal else 1.0)
        for direction, fns, scale in (("fwd", fwd_fns, 1.0), ("bwd", bwd_fns, 2.5)):
            times = event_medians(fns, iters=10, repeats=5)
            rates = [varlen_flops * scale / times[0] / 1e12] + [
                dense_flops * scale / t / 1e12 for t in times[1:]]
            cells = " | ".join(f"{x:.1f}" for x in rates)
            lines.append(f"| {label} H{h}/{hk} D{d} {direction} | {cells} "
                         f"| {rates[0] / rates[1]:.2f} |")
        torch.cuda.synchronize()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-save", action="store_true", help="print only")
    parser.add_argument("--cudnn-masks-only", action="store_true",
                        help="only the cuDNN masks, packed sequences and head sizes tables")
    args = parser.parse_args()
    if args.cudnn_masks_only:
        print("\n".join(cudnn_mask_lines()))
        return 0
    rows = []
    for case in CASES:
        rows += case_rows(*case)
        torch.cuda.synchronize()
    lines = ["| case | dispatched to | xpuruntime | our Hopper kernel | our sm80 kernel "
             "| torch flash | torch cuDNN | xpuruntime vs flash | vs cuDNN "
             "| best of ours vs cuDNN |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for name, impl, ours, hopper, sm80, flash, cudnn in rows:
        best = max(x for x in (ours, hopper, sm80) if x == x)
        lines.append(f"| {name} | {impl} | {ours:.1f} | {hopper:.1f} | {sm80:.1f} | {flash:.1f} "
                     f"| {cudnn:.1f} | {ours / flash:.2f} | {ours / cudnn:.2f} "
                     f"| {best / cudnn:.2f} |")
    lines += ["", "Grouped-query attention (heads q/kv), bf16, TFLOP/s:", "",
              "| case | dispatched to | xpuruntime | impl='xrt' | our sm80 kernel | torch flash "
              "| torch cuDNN | torch efficient | xpuruntime vs best torch "
              "| sm80 vs best torch |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for case in GQA_CASES:
        for name, impl, ours, xrt_own, sm80, *theirs in gqa_rows(*case):
            best = max((x for x in theirs if x == x), default=float("nan"))
            cells = " | ".join(f"{x:.1f}" for x in (ours, xrt_own, sm80, *theirs))
            lines.append(f"| {name} | {impl} | {cells} | {ours / best:.2f} | {sm80 / best:.2f} |")
        torch.cuda.synchronize()
    lines += ["", "Masked attention, bf16, TFLOP/s of the visible scores (torch: the same "
              "visibility as a bool attn_mask):", "",
              "| case | dispatched to | xpuruntime | our sm80 kernel | torch flash | torch cuDNN "
              "| torch efficient | torch math | xpuruntime vs best torch "
              "| sm80 vs best torch |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for label in MASK_CASES:
        for name, impl, ours, sm80, *theirs in masked_rows(label):
            best = max((x for x in theirs if x == x), default=float("nan"))
            cells = " | ".join(f"{x:.1f}" for x in (ours, sm80, *theirs))
            lines.append(f"| {name} | {impl} | {cells} | {ours / best:.2f} | {sm80 / best:.2f} |")
        torch.cuda.synchronize()
    lines += ["", "Packed sequences (attention_varlen), bf16, TFLOP/s against our dense sm80 "
              "kernel on 16 x 1024 of the same tokens:", "",
              "| case | varlen | dense sm80 | varlen vs dense |", "|---|---|---|---|"]
    for case in VARLEN_CASES:
        for name, ours, dense, ratio in varlen_rows(*case):
            lines.append(f"| {name} | {ours:.1f} | {dense:.1f} | {ratio:.2f} |")
        torch.cuda.synchronize()
    lines += cudnn_mask_lines()
    table = "\n".join(lines)
    print(table)
    if not args.no_save:
        save_results("cuda-attention", "CUDA attention benchmarks",
                     f"torch {torch.__version__}, CUDA {torch.version.cuda}",
                     "python bench/bench_cuda_attention.py",
                     "TFLOP/s of bf16 attention: forward 4*B*H*N^2*D FLOPs (halved when "
                     "causal), backward 2.5 times that, given the forward's output and "
                     "log-sum-exp. 'xpuruntime' is the op as dispatched; 'our Hopper kernel' "
                     "and 'our sm80 kernel' force impl='xrt_sm90' and 'xrt_sm80'. Ratio above "
                     "1 means xpuruntime is faster. CUDA events on the default stream, median of 5 alternating "
                     "repeats after warm-up, random inputs; nan: that kernel or torch "
                     "backend could not run the case.", table,
                     device=gpu_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
