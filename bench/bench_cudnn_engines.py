"""Which kernels torch's cuDNN SDPA and our impl="cudnn" attention run,
and ms per call of each, on the same inputs (bf16, H100/H200)."""
import sys
import time
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.profiler import ProfilerActivity, profile
import xpuruntime as xrt
from xpuruntime import ops

torch.manual_seed(0)
dev = "cuda"


def timed(fn, reps=10):
    """ms per call: batches of calls, the device synchronised (every stream)."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        torch.cuda.synchronize()
        runs.append((time.perf_counter() - start) / reps * 1e3)
    return min(runs)


def kernels(fn):
    fn(); torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn(); torch.cuda.synchronize()
    out = {}
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            out.setdefault(e.name, [0, 0.0])
            out[e.name][0] += 1
            out[e.name][1] += e.device_time_total
    return sorted(out.items(), key=lambda kv: -kv[1][1])


for (B, H, HKV, N, D, causal) in [(4, 16, 16, 4096, 128, False), (4, 16, 16, 4096, 128, True),
                                  (4, 32, 8, 4096, 128, False)]:
    q = torch.randn(B, H, N, D, device=dev, dtype=torch.bfloat16)
    k = torch.randn(B, HKV, N, D, device=dev, dtype=torch.bfloat16)
    v = torch.randn(B, HKV, N, D, device=dev, dtype=torch.bfloat16)
    g = torch.randn_like(q)
    gqa = {"enable_gqa": True} if HKV != H else {}
    qr, kr, vr = (x.detach().requires_grad_(True) for x in (q, k, v))
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        out_t = F.scaled_dot_product_attention(qr, kr, vr, is_causal=causal, **gqa)

    def t_fwd():
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            F.scaled_dot_product_attention(q, k, v, is_causal=causal, **gqa)

    def t_bwd():
        torch.autograd.grad(out_t, (qr, kr, vr), g, retain_graph=True)

    xq, xk, xv, xg = (xrt.from_dlpack(t) for t in (q, k, v, g))
    out, lse = ops.attention(xq, xk, xv, causal=causal, impl="cudnn", return_lse=True)

    def x_fwd():
        ops.attention(xq, xk, xv, causal=causal, impl="cudnn")

    def x_bwd():
        ops.attention_backward(xg, xq, xk, xv, causal=causal, output=out, lse=lse, impl="cudnn")

    print(f"\n## B{B} H{H}/{HKV} N{N} D{D} causal={causal}")
    for name, fn in (("torch fwd", t_fwd), ("ours fwd", x_fwd), ("torch bwd", t_bwd),
                     ("ours bwd", x_bwd)):
        print(f"{name}: {timed(fn):.3f} ms")
        for kname, (count, us) in kernels(fn)[:6]:
            print(f"    {us:9.1f} us  x{count}  {kname[:150]}")
    sys.stdout.flush()
