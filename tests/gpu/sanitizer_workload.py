"""A short run of every CUDA kernel for compute-sanitizer (memcheck,
racecheck): small odd sizes, every dtype, results compared with the CPU
backend so a kernel that runs clean but computes wrong still fails.

    compute-sanitizer --tool memcheck --error-exitcode 1 python3 tests/gpu/sanitizer_workload.py
    compute-sanitizer --tool racecheck ... sanitizer_workload.py --ours-only

--ours-only leaves out cuDNN's attention kernels: racecheck does not model
the asynchronous-proxy barriers of their wgmma/TMA code and reports hazards
inside them (seen on an H200 with cuDNN 9); memcheck runs them.
"""
import sys

import numpy as np

import xpuruntime as xrt
from xpuruntime import ops

GPU = "cuda:0"
TOLERANCE = {"float32": 1e-4, "float16": 2e-2, "bfloat16": 5e-2}


def close(got, expected, dtype, what):
    got = np.asarray(got.to("cpu").numpy(), np.float64)
    expected = np.asarray(expected.numpy(), np.float64)
    error = np.max(np.abs(got - expected) / (1 + np.abs(expected)), initial=0.0)
    if not np.isfinite(got).all() or error > TOLERANCE[dtype]:
        raise AssertionError(f"{what} {dtype} {expected.shape}: max relative error {error}")


def grouped_heads(rng):
    """Our kernels with k and v of fewer heads (the sm80 backward declines them)."""
    for dtype in ("float16", "bfloat16"):
        q, k, v, g = (xrt.asarray(rng.standard_normal(shape), dtype=dtype)
                      for shape in [(1, 4, 65, 64), (1, 2, 130, 64), (1, 2, 130, 64),
                                    (1, 4, 65, 64)])
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
            m = xrt.asarray(rng.standard_normal((shape[-1], 5)), dtype=dtype)
            close(ops.matmul(dx, m.to(GPU)), ops.matmul(x, m), dtype, "matmul")
    for dtype in ("float16", "bfloat16"):
        for lq, lk, d, causal in [(17, 33, 64, False), (33, 17, 64, True), (5, 70, 128, True)]:
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
    grouped_heads(rng)
    if not ours_only:
        masked_cudnn(rng)
    xrt.synchronize(GPU)
    print("sanitizer workload: every kernel ran and matched the CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main("--ours-only" in sys.argv[1:]))
