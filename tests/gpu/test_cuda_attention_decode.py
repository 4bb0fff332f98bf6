"""attention_decode and kv_cache_append on cuda:0: new queries against a
contiguous or paged KV cache (shuffled blocks, -1 padding), grouped heads,
1 to 16 new queries (bottom-right causal among them), lengths at the
kernel's tile edges and long enough to be split over the key axis, checked
against the float64 closed form and the CPU kernels on fresh random data.
Cache rows no sequence owns hold NaN, so a kernel that reads one fails."""

import numpy as np
import pytest
from cuda_util import DEVICE, check_norm, poison_pool

import attention_reference as aref
import reference as ref
import xpuruntime as xrt
from xpuruntime import ops

pytestmark = pytest.mark.gpu

TOLERANCE = {"float16": 5e-3, "bfloat16": 1e-2}


def _paged(rng, dense, lens, block_size):
    """The rows of dense (B, cap, Hkv, D) that lens cover, as a paged cache
    in shuffled blocks (spare ones and the rest of the last block NaN) and
    its block table, one spare column of -1."""
    b, cap = dense.shape[:2]
    per_seq = -(-cap // block_size)
    order = rng.permutation(b * per_seq + 3)
    cache = np.full((len(order), block_size) + dense.shape[2:], np.nan, dense.dtype)
    table = np.full((b, per_seq + 1), -1, np.int32)
    for s in range(b):
        for i in range(-(-int(lens[s]) // block_size)):
            block = order[s * per_seq + i]
            table[s, i] = block
            rows = dense[s, i * block_size:min((i + 1) * block_size, int(lens[s]))]
            cache[block, :len(rows)] = rows
    return cache, table


def _caches(rng, lens, cap, hk, d, dtype, block_size):
    """k and v caches (xrt, cuda:0; NaN past each length), block table or
    None, and their float64 dense values (B, cap, Hkv, D)."""
    dense = []
    for _ in range(2):
        data, data64 = ref.random(rng, (len(lens), cap, hk, d), dtype)
        for s, n in enumerate(lens):
            data[s, n:] = np.nan
        dense.append((data, data64))
    if block_size is None:
        return [xrt.asarray(x, device=DEVICE) for x, _ in dense], None, [x64 for _, x64 in dense]
    seed = int(rng.integers(1 << 31))
    paged = [_paged(np.random.default_rng(seed), x, lens, block_size) for x, _ in dense]
    table = xrt.asarray(paged[0][1], device=DEVICE)
    return [xrt.asarray(c, device=DEVICE) for c, _ in paged], table, [x64 for _, x64 in dense]


def _expected(q64, k64, v64, lens, causal=True, window_left=None, scale=None):
    """float64 output (B, Lq, H, D), sequence by sequence."""
    lq = q64.shape[1]
    out = np.zeros(q64.shape[:3] + v64.shape[3:])
    for s, n in enumerate(lens):
        seen = aref.visible(lq, n, causal, window_left, bottom_right=True)
        o, _ = aref.forward(q64[s].transpose(1, 0, 2)[None], k64[s, :n].transpose(1, 0, 2)[None],
                            v64[s, :n].transpose(1, 0, 2)[None], seen, scale=scale)
        out[s] = o[0].transpose(1, 0, 2)
    return out


def _run(rng, lens, lq, h, hk, d, dtype, block_size, cap=None, **keywords):
    cap = max(lens) if cap is None else cap
    b = len(lens)
    q, q64 = ref.random(rng, (b, lq, h, d), dtype)
    (kc, vc), table, (k64, v64) = _caches(rng, lens, cap, hk, d, dtype, block_size)
    seqlens = xrt.asarray(np.array(lens, np.int32), device=DEVICE)
    poison_pool(((b, lq, h, d), dtype))
    got = ops.attention_decode(xrt.asarray(q, device=DEVICE), kc, vc, seqlens, table, **keywords)
    check_norm(got, _expected(q64, k64, v64, lens, keywords.get("causal", True),
                              keywords.get("window_left"), keywords.get("scale")),
               dtype, TOLERANCE[dtype])
    return got


# Lengths 0 and 1, below, at and past the 64-key tile, shorter than q_len.
EDGE_LENS = [0, 1, 3, 63, 64, 65, 200]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("h,hk", [(8, 8), (8, 4), (16, 2), (8, 1)])
@pytest.mark.parametrize("lq", [1, 4, 16])
@pytest.mark.parametrize("block_size", [None, 16, 64])
def test_decode_matches_float64(rng, dtype, d, h, hk, lq, block_size):
    _run(rng, EDGE_LENS, lq, h, hk, d, dtype, block_size, cap=256)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("lq", [1, 16])
@pytest.mark.parametrize("block_size", [None, 256])
def test_long_caches_split_over_keys(rng, dtype, lq, block_size):
    """8k keys for few blocks: the kernel splits the key axis and combines."""
    _run(rng, [8192, 5001], lq, 32, 8, 128, dtype, block_size)


@pytest.mark.parametrize("d", [32, 96, 192, 256])
@pytest.mark.parametrize("block_size", [None, 32])
def test_other_head_dims(rng, d, block_size):
    _run(rng, [1, 100, 3000], 2, 8, 2, d, "bfloat16", block_size)


@pytest.mark.parametrize("causal,window_left", [(False, None), (True, 5), (False, 70)])
def test_decode_masks_and_scale(rng, causal, window_left):
    _run(rng, [0, 7, 130, 1000], 4, 8, 2, 128, "float16", 16, causal=causal,
         window_left=window_left, scale=0.3)


@pytest.mark.parametrize("block_size", [None, 16])
def test_decode_matches_the_cpu_kernel(rng, block_size):
    lens = [5, 64, 129]
    b, lq, h, hk, d, dtype = len(lens), 3, 8, 2, 64, "bfloat16"
    q, _ = ref.random(rng, (b, lq, h, d), dtype)
    k, _ = ref.random(rng, (b, 160, hk, d), dtype)
    v, _ = ref.random(rng, (b, 160, hk, d), dtype)
    table = None
    if block_size:
        (k, table), (v, _) = (_paged(np.random.default_rng(7), x, lens, block_size) for x in (k, v))
    seqlens = np.array(lens, np.int32)
    want = ops.attention_decode(q, k, v, seqlens, table).numpy().astype(np.float64)
    on_gpu = [None if x is None else xrt.asarray(x, device=DEVICE)
              for x in (q, k, v, seqlens, table)]
    poison_pool(((b, lq, h, d), dtype))
    check_norm(ops.attention_decode(*on_gpu), want, dtype, TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("block_size", [None, 8])
@pytest.mark.parametrize("new_len", [1, 5])
def test_append_matches_the_cpu_kernel(rng, dtype, block_size, new_len):
    b, cap, hk, d = 3, 40, 2, 64
    lens = np.array([0, 9, 40 - new_len], np.int32)
    full, _ = ref.random(rng, (b, cap, hk, d), dtype)
    k, _ = ref.random(rng, (b, new_len, hk, d), dtype)
    v, _ = ref.random(rng, (b, new_len, hk, d), dtype)
    table = None
    if block_size:
        caches = [_paged(np.random.default_rng(5), full, np.full(b, cap), block_size)
                  for _ in range(2)]
        k_cache, v_cache, table = caches[0][0], caches[1][0].copy(), caches[0][1]
    else:
        k_cache, v_cache = full.copy(), full.copy()
    on_gpu = [xrt.asarray(x, device=DEVICE) for x in (k_cache, v_cache)]
    want_lens = ops.kv_cache_append(k_cache, v_cache, k, v, lens, table)
    gpu_table = None if table is None else xrt.asarray(table, device=DEVICE)
    got_lens = ops.kv_cache_append(*on_gpu, xrt.asarray(k, device=DEVICE),
                                   xrt.asarray(v, device=DEVICE),
                                   xrt.asarray(lens, device=DEVICE), gpu_table)
    np.testing.assert_array_equal(got_lens.numpy(), want_lens.numpy())
    # Byte for byte, NaN rows (unowned) included.
    for got, want in zip(on_gpu, (k_cache, v_cache)):
        np.testing.assert_array_equal(got.numpy().view(np.uint8), want.view(np.uint8))


def test_append_then_decode(rng):
    """A cache grown by kv_cache_append on the GPU decodes like one written directly."""
    b, cap, h, hk, d, dtype, new_len = 2, 300, 8, 2, 128, "bfloat16", 4
    lens = np.array([100, 0], np.int32)
    k_all, k64 = ref.random(rng, (b, cap, hk, d), dtype)
    v_all, v64 = ref.random(rng, (b, cap, hk, d), dtype)
    k_cache = xrt.asarray(k_all, device=DEVICE)
    v_cache = xrt.asarray(v_all, device=DEVICE)
    k_new, kn64 = ref.random(rng, (b, new_len, hk, d), dtype)
    v_new, vn64 = ref.random(rng, (b, new_len, hk, d), dtype)
    grown = ops.kv_cache_append(k_cache, v_cache, xrt.asarray(k_new, device=DEVICE),
                                xrt.asarray(v_new, device=DEVICE),
                                xrt.asarray(lens, device=DEVICE))
    for s in range(b):
        k64[s, lens[s]:lens[s] + new_len] = kn64[s]
        v64[s, lens[s]:lens[s] + new_len] = vn64[s]
    q, q64 = ref.random(rng, (b, new_len, h, d), dtype)
    poison_pool(((b, new_len, h, d), dtype))
    got = ops.attention_decode(xrt.asarray(q, device=DEVICE), k_cache, v_cache, grown)
    check_norm(got, _expected(q64, k64, v64, list(lens + new_len)), dtype, TOLERANCE[dtype])


def test_bad_lengths_and_block_tables_are_refused_as_on_the_cpu():
    """The checks run before any kernel: same type and message as the CPU's."""
    q = np.zeros((2, 1, 4, 64), np.float16)
    cache = np.zeros((2, 16, 2, 64), np.float16)
    paged = np.zeros((5, 4, 2, 64), np.float16)
    cases = [
        (lambda: (q, cache, cache, np.array([3, 17], np.int32), None),
         r"cache_seqlens\[1\] is 17, expected 0 to 16"),
        (lambda: (q, cache, cache, np.array([-1, 2], np.int32), None),
         r"cache_seqlens\[0\] is -1, expected 0 to 16"),
        (lambda: (q, paged, paged, np.array([6, 2], np.int32),
                  np.array([[0, 5], [1, -1]], np.int32)),
         r"block_table\[0\]\[1\] is 5, outside the cache's 5 blocks"),
        (lambda: (q, paged, paged, np.array([6, 2], np.int32),
                  np.array([[0, -1], [1, -1]], np.int32)),
         r"block_table\[0\]\[1\] is -1, outside the cache's 5 blocks"),
    ]
    for operands, message in cases:
        args = operands()
        with pytest.raises(xrt.InvalidArgument, match=message):
            ops.attention_decode(*args)
        with pytest.raises(xrt.InvalidArgument, match=message):
            ops.attention_decode(*[None if x is None else xrt.asarray(x, device=DEVICE)
                                   for x in args])
    k_new = xrt.asarray(np.zeros((2, 14, 2, 64), np.float16), device=DEVICE)
    with pytest.raises(xrt.InvalidArgument, match=r"cache_seqlens\[0\] is 3 before the new rows, "
                       r"expected 0 to 2"):
        ops.kv_cache_append(xrt.asarray(cache, device=DEVICE), xrt.asarray(cache, device=DEVICE),
                            k_new, k_new, xrt.asarray(np.array([3, 0], np.int32), device=DEVICE))
    one = xrt.asarray(np.zeros((2, 1, 2, 64), np.float16), device=DEVICE)
    with pytest.raises(xrt.InvalidArgument, match=r"block_table\[1\]\[0\] is -1"):
        ops.kv_cache_append(xrt.asarray(paged, device=DEVICE), xrt.asarray(paged, device=DEVICE),
                            one, one, xrt.asarray(np.array([1, 0], np.int32), device=DEVICE),
                            xrt.asarray(np.array([[0, -1], [-1, -1]], np.int32), device=DEVICE))


def test_what_the_kernel_does_not_run_is_refused_by_name():
    lens = xrt.asarray(np.array([3], np.int32), device=DEVICE)
    for dtype, d, name in [("float16", 80, "head_dim 80"), ("float32", 64, "dtype float32")]:
        q = xrt.asarray(np.zeros((1, 1, 4, d), dtype), device=DEVICE)
        cache = xrt.asarray(np.zeros((1, 8, 2, d), dtype), device=DEVICE)
        with pytest.raises(xrt.Unsupported, match=name):
            ops.attention_decode(q, cache, cache, lens)


def test_empty_batch_and_queries():
    for b, lq in [(0, 1), (2, 0)]:
        q = xrt.asarray(np.zeros((b, lq, 4, 64), np.float16), device=DEVICE)
        cache = xrt.asarray(np.zeros((b, 8, 2, 64), np.float16), device=DEVICE)
        lens = xrt.asarray(np.full(b, 3, np.int32), device=DEVICE)
        assert ops.attention_decode(q, cache, cache, lens).shape == (b, lq, 4, 64)


def test_torch_ops_on_cuda_tensors():
    """torch.ops.xpuruntime: kv_cache_append writes torch's cache in place,
    attention_decode reads it; against torch's SDPA on the same rows."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("xpuruntime.torch")
    b, cap, h, hk, d, dt = 2, 200, 8, 2, 128, torch.bfloat16
    k_cache, v_cache = (torch.randn(b, cap, hk, d, device=DEVICE, dtype=dt) for _ in range(2))
    k_new, v_new = (torch.randn(b, 1, hk, d, device=DEVICE, dtype=dt) for _ in range(2))
    lens = torch.tensor([50, 120], dtype=torch.int32, device=DEVICE)
    grown = torch.ops.xpuruntime.kv_cache_append(k_cache, v_cache, k_new, v_new, lens)
    assert grown.tolist() == [51, 121]
    for s, n in enumerate(lens.tolist()):
        assert torch.equal(k_cache[s, n], k_new[s, 0])
        assert torch.equal(v_cache[s, n], v_new[s, 0])
    q = torch.randn(b, 1, h, d, device=DEVICE, dtype=dt)
    out = torch.ops.xpuruntime.attention_decode(q, k_cache, v_cache, grown, None, None)
    for s in range(b):
        n = int(grown[s])
        want = torch.nn.functional.scaled_dot_product_attention(
            *(x.transpose(1, 2).double() for x in (q[s:s + 1], k_cache[s:s + 1, :n],
                                                    v_cache[s:s + 1, :n])), enable_gqa=True)
        got = out[s:s + 1].transpose(1, 2).double()
        assert ((got - want).norm() / want.norm()).item() < TOLERANCE["bfloat16"]
