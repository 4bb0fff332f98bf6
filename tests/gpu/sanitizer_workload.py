"""A short run of every CUDA kernel for compute-sanitizer (memcheck,
racecheck): small odd sizes, every dtype, results compared with the CPU
backend so a kernel that runs clean but computes wrong still fails.

    compute-sanitizer --tool memcheck --error-exitcode 1 python3 tests/gpu/sanitizer_workload.py
    compute-sanitizer --tool racecheck ... sanitizer_workload.py --ours-only

--ours-only leaves out cuDNN's attention kernels: racecheck does not model
the asynchronous-proxy barriers of their wgmma/TMA code and reports hazards
inside them (seen on an H200 with cuDNN 9); memcheck runs them. For the
same reason it keeps our Hopper backward's ring from being refilled (see
grouped_heads).
"""
import sys

import numpy as np

import xpuruntime as xrt
from xpuruntime import ops

GPU = "cuda:0"
TOLERANCE = {"float32": 1e-4, "float16": 2e-2, "bfloat16": 5e-2}
FUSED_OUTPUTS = {"add_layer_norm": 2, "add_rms_norm": 2, "add_layer_norm_backward": 3,
                 "add_rms_norm_backward": 2, "bias_gelu": 1, "bias_gelu_backward": 2}


def close(got, expected, dtype, what):
    got = np.asarray(got.to("cpu").numpy(), np.float64)
    expected = np.asarray(expected.numpy(), np.float64)
    error = np.max(np.abs(got - expected) / (1 + np.abs(expected)), initial=0.0)
    if not np.isfinite(got).all() or error > TOLERANCE[dtype]:
        raise AssertionError(f"{what} {dtype} {expected.shape}: max relative error {error}")


def decode(rng, dtype):
    """kv_cache_append, then attention_decode on contiguous and paged caches
    (blocks shuffled, -1 padding), long enough for the key axis to be split."""
    lens = np.array([1100, 0, 70], np.int32)
    b, cap, hk, h, d, new = 3, 1152, 2, 8, 64, 3
    block_size, per_seq = 64, 1152 // 64
    order = rng.permutation(b * per_seq + 2).astype(np.int32)
    table = np.full((b, per_seq + 1), -1, np.int32)
    table[:, :per_seq] = order[:b * per_seq].reshape(b, per_seq)
    for paged in (False, True):
        shape = (b * per_seq + 2, block_size, hk, d) if paged else (b, cap, hk, d)
        k_cache, v_cache = (xrt.asarray(rng.standard_normal(shape), dtype=dtype)
                            for _ in range(2))
        k_new, v_new = (xrt.asarray(rng.standard_normal((b, new, hk, d)), dtype=dtype)
                        for _ in range(2))
        q = xrt.asarray(rng.standard_normal((b, new, h, d)), dtype=dtype)
        cpu_table = table if paged else None
        gpu_table = xrt.asarray(table).to(GPU) if paged else None
        gk, gv = (x.to(GPU) for x in (k_cache, v_cache))
        grown = ops.kv_cache_append(gk, gv, k_new.to(GPU), v_new.to(GPU),
                                    xrt.asarray(lens).to(GPU), gpu_table)
        want_lens = ops.kv_cache_append(k_cache, v_cache, k_new, v_new, lens, cpu_table)
        close(gk, k_cache, dtype, "kv_cache_append")
        close(gv, v_cache, dtype, "kv_cache_append")
        close(ops.attention_decode(q.to(GPU), gk, gv, grown, gpu_table),
              ops.attention_decode(q, k_cache, v_cache, want_lens, cpu_table), dtype,
              f"attention_decode {'paged' if paged else 'contiguous'}")
def grouped_heads(rng, ours_only):
    """Our kernels with k and v of fewer heads (the sm80 backward declines them).

    65 queries give the Hopper backward four query tiles per block (two per
    q head), so its two-stage ring of Q, dO, lse2 and delta is refilled.
    The refill is a bulk copy ordered after the consumers' reads by an
    mbarrier, which racecheck does not model: it reports the copy
    (UBLKCP) against the reads of lse2 and delta (LDS). Under --ours-only
    (racecheck) 33 queries keep to one tile per head, each stage used once;
    memcheck runs the refill."""
    lq = 33 if ours_only else 65
    for dtype in ("float16", "bfloat16"):
        q, k, v, g = (xrt.asarray(rng.standard_normal(shape), dtype=dtype)
                      for shape in [(1, 4, lq, 64), (1, 2, 130, 64), (1, 2, 130, 64),
                                    (1, 4, lq, 64)])
        dq, dk, dv, dg = (t.to(GPU) for t in (q, k, v, g))
        close(ops.attention(dq, dk, dv, True, impl="xrt"), ops.attention(q, k, v, True), dtype,
              "grouped attention xrt")
        try:
            grads = ops.attention_backward(dg, dq, dk, dv, True, impl="xrt")
        except xrt.Unsupported:
            continue
        for got, want in zip(grads, ops.attention_backward(g, q, k, v, True)):
            close(got, want, dtype, "grouped attention_backward xrt")


def masked_cudnn(rng):
    """cuDNN's attention with the mask inputs and packed sequences, and our
    kernels around it (bias conversion, rows that see no key)."""
    dtype = "bfloat16"
    q, k, v, g = (xrt.asarray(rng.standard_normal(shape), dtype=dtype)
                  for shape in [(2, 4, 33, 64), (2, 2, 70, 64), (2, 2, 70, 64), (2, 4, 33, 64)])
    lengths = np.array([70, 0], np.int32)
    mask = rng.random((33, 70)) < 0.8
    for keywords in (dict(key_lengths=lengths), dict(attn_mask=mask, causal=True),
                     dict(causal=True, window_left=5, causal_align="bottom_right")):
        cpu = {name: xrt.asarray(value) if isinstance(value, np.ndarray) else value
               for name, value in keywords.items()}
        gpu = {name: value.to(GPU) if isinstance(value, xrt.Tensor) else value
               for name, value in cpu.items()}
        dq, dk, dv, dg = (t.to(GPU) for t in (q, k, v, g))
        close(ops.attention(dq, dk, dv, impl="cudnn", **gpu), ops.attention(q, k, v, **cpu),
              dtype, f"cudnn attention {sorted(keywords)}")
        for got, want in zip(ops.attention_backward(dg, dq, dk, dv, impl="cudnn", **gpu),
                             ops.attention_backward(g, q, k, v, **cpu)):
            close(got, want, dtype, f"cudnn attention_backward {sorted(keywords)}")
    cu = xrt.asarray(np.array([0, 5, 5, 33], np.int32))
    pq, pk, pv, pg = (xrt.asarray(rng.standard_normal((33, h, 64)), dtype=dtype)
                      for h in (4, 2, 2, 4))
    gpu = [t.to(GPU) for t in (pq, pk, pv, cu, cu)]
    close(ops.attention_varlen(*gpu, causal=True, impl="cudnn"),
          ops.attention_varlen(pq, pk, pv, cu, cu, causal=True), dtype, "cudnn attention_varlen")
    for got, want in zip(ops.attention_varlen_backward(pg.to(GPU), *gpu, causal=True,
                                                       impl="cudnn"),
                         ops.attention_varlen_backward(pg, pq, pk, pv, cu, cu, causal=True)):
        close(got, want, dtype, "cudnn attention_varlen_backward")


def main(ours_only):
    rng = np.random.default_rng()
    for dtype in TOLERANCE:
        for shape in [(1, 1), (3, 7), (5, 4097), (2, 3, 1000), (4, 4096)]:
            x = xrt.asarray(rng.standard_normal(shape), dtype=dtype)
            g = xrt.asarray(rng.standard_normal(shape), dtype=dtype)
            w = xrt.asarray(rng.standard_normal(shape[-1:]), dtype=dtype)
            b = xrt.asarray(rng.standard_normal(shape[-1:]), dtype=dtype)
            dx, dg, dw, db = (t.to(GPU) for t in (x, g, w, b))
            close(ops.add(dx, db), ops.add(x, b), dtype, "add")
            close(ops.gelu(dx), ops.gelu(x), dtype, "gelu")
            close(ops.softmax(dx), ops.softmax(x), dtype, "softmax")
            close(ops.softmax(dx, 0), ops.softmax(x, 0), dtype, "softmax axis 0")
            close(ops.layer_norm(dx, dw, db), ops.layer_norm(x, w, b), dtype, "layer_norm")
            close(ops.rms_norm(dx, dw), ops.rms_norm(x, w), dtype, "rms_norm")
            for got, want in zip(ops.layer_norm_backward(dg, dx, dw),
                                 ops.layer_norm_backward(g, x, w)):
                close(got, want, dtype, "layer_norm_backward")
            for got, want in zip(ops.rms_norm_backward(dg, dx, dw), ops.rms_norm_backward(g, x, w)):
                close(got, want, dtype, "rms_norm_backward")
            for name, args in [("add_layer_norm", (x, g, w, b)), ("add_rms_norm", (x, g, w)),
                               ("add_layer_norm_backward", (g, x, w, g)),
                               ("add_rms_norm_backward", (g, x, w, None)),
                               ("bias_gelu", (x, b)), ("bias_gelu_backward", (g, x, b))]:
                n = FUSED_OUTPUTS[name]
                on_gpu = [None if a is None else a.to(GPU) for a in args]
                got, want = ops.run(name, *on_gpu, num_outputs=n), ops.run(name, *args, num_outputs=n)
                if n == 1:
                    got, want = (got,), (want,)
                for one, expected in zip(got, want):
                    close(one, expected, dtype, name)
            m = xrt.asarray(rng.standard_normal((shape[-1], 5)), dtype=dtype)
            close(ops.matmul(dx, m.to(GPU)), ops.matmul(x, m), dtype, "matmul")
    for dtype in ("float16", "bfloat16"):
        # Lk 0: no key at all (zeros, dq zero).
        for lq, lk, d, causal in [(17, 33, 64, False), (33, 17, 64, True), (5, 70, 128, True),
                                  (9, 0, 64, True)]:
            q, k, v, g = (xrt.asarray(rng.standard_normal(shape), dtype=dtype)
                          for shape in [(1, 2, lq, d), (1, 2, lk, d), (1, 2, lk, d), (1, 2, lq, d)])
            dq, dk, dv, dg = (t.to(GPU) for t in (q, k, v, g))
            # Our kernels (the Hopper ones on Hopper, the sm80 ones), then
            # the dispatcher's choice (cuDNN where installed).
            for impl in ("xrt", "xrt_sm80") + (() if ours_only else (None,)):
                close(ops.attention(dq, dk, dv, causal, impl=impl), ops.attention(q, k, v, causal),
                      dtype, f"attention {impl}")
                for got, want in zip(ops.attention_backward(dg, dq, dk, dv, causal, impl=impl),
                                     ops.attention_backward(g, q, k, v, causal)):
                    close(got, want, dtype, f"attention_backward {impl}")
        # Our sm80 kernels with grouped heads and every mask at once.
        lq, lk, d = 70, 45, 64
        q, g = (xrt.asarray(rng.standard_normal((2, 4, lq, d)), dtype=dtype) for _ in range(2))
        k, v = (xrt.asarray(rng.standard_normal((2, 2, lk, d)), dtype=dtype) for _ in range(2))
        masks = dict(attn_mask=xrt.asarray(rng.random((lq, lk)) > 0.2),
                     key_lengths=xrt.asarray(np.array([lk, 20], np.int32)))
        on_gpu = {name: t.to(GPU) for name, t in masks.items()}
        keywords = dict(window_left=30, causal_align="bottom_right")
        dq, dk, dv, dg = (t.to(GPU) for t in (q, k, v, g))
        close(ops.attention(dq, dk, dv, True, impl="xrt_sm80", **on_gpu, **keywords),
              ops.attention(q, k, v, True, **masks, **keywords), dtype, "masked attention")
        for got, want in zip(
                ops.attention_backward(dg, dq, dk, dv, True, impl="xrt_sm80", **on_gpu, **keywords),
                ops.attention_backward(g, q, k, v, True, **masks, **keywords)):
            close(got, want, dtype, "masked attention_backward")
        # Packed sequences, one of them empty.
        cu = xrt.asarray(np.array([0, 0, 1, 71, 104], np.int32))
        q, g = (xrt.asarray(rng.standard_normal((104, 4, d)), dtype=dtype) for _ in range(2))
        k, v = (xrt.asarray(rng.standard_normal((104, 2, d)), dtype=dtype) for _ in range(2))
        dq, dk, dv, dg, dcu = (t.to(GPU) for t in (q, k, v, g, cu))
        close(ops.attention_varlen(dq, dk, dv, dcu, dcu, causal=True, impl="xrt_sm80"),
              ops.attention_varlen(q, k, v, cu, cu, causal=True), dtype, "attention_varlen")
        for got, want in zip(
                ops.attention_varlen_backward(dg, dq, dk, dv, dcu, dcu, causal=True,
                                              impl="xrt_sm80"),
                ops.attention_varlen_backward(g, q, k, v, cu, cu, causal=True)):
            close(got, want, dtype, "attention_varlen_backward")
        decode(rng, dtype)
    grouped_heads(rng, ours_only)
    if not ours_only:
        masked_cudnn(rng)
    xrt.synchronize(GPU)
    print("sanitizer workload: every kernel ran and matched the CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main("--ours-only" in sys.argv[1:]))
