"""xpuruntime.torch on CUDA tensors: results and gradients against torch in
bf16, kernels on torch's current stream, bf16 training, torch.compile."""
import pytest
from cuda_util import SPIN_CYCLES, bf16_leaf, relative_error, torch

xt = pytest.importorskip("xpuruntime.torch")

import xpuruntime as xrt  # noqa: E402

pytestmark = pytest.mark.gpu
F = torch.nn.functional
OPS = torch.ops.xpuruntime
DEVICE = "cuda:0"


@pytest.mark.parametrize("shape", [(4, 4096), (37, 1000), (2, 3, 129)])
def test_norms_and_gradients_match_torch_in_bf16(shape):
    n = shape[-1]
    for ours, theirs, params in [
        (lambda x, w, b: OPS.layer_norm(x, w, b, 1e-5),
         lambda x, w, b: F.layer_norm(x, (n,), w, b, 1e-5), (bf16_leaf(n), bf16_leaf(n))),
        (lambda x, w: OPS.rms_norm(x, w, 1e-6),
         lambda x, w: F.rms_norm(x, (n,), w, 1e-6), (bf16_leaf(n),)),
    ]:
        x, grad = bf16_leaf(*shape), torch.randn(*shape, device=DEVICE, dtype=torch.bfloat16)
        got = ours(x, *params)
        want = theirs(x, *params)
        assert relative_error(got, want) < 1e-2
        got_grads = torch.autograd.grad(got, (x, *params), grad)
        want_grads = torch.autograd.grad(want, (x, *params), grad)
        for g, w in zip(got_grads, want_grads):
            assert relative_error(g, w) < 2e-2


@pytest.mark.parametrize("layer_norm", [OPS.layer_norm, xt.functional.layer_norm],
                         ids=["custom_op", "functional"])
def test_kernels_run_on_torchs_current_stream(layer_norm):
    """x is written on a side stream held busy first; our op queued on that
    stream must see the written values, with no synchronisation in between.
    Two streams taken in turn, twice: each call finds its own stream."""
    sides = [torch.cuda.Stream(), torch.cuda.Stream()]
    source = torch.randn(64, 4096, device=DEVICE)
    want = F.layer_norm(source * 3.0 + 1.0, (4096,))
    for side in sides * 2:
        torch.cuda.synchronize()
        with torch.cuda.stream(side):
            torch.cuda._sleep(SPIN_CYCLES)
            x = source * 3.0 + 1.0
            y = layer_norm(x, None, None, 1e-5)
        side.synchronize()
        torch.testing.assert_close(y, want)


def test_mixed_devices_are_named():
    x = torch.randn(2, 8, device=DEVICE)
    with pytest.raises(xrt.InvalidArgument, match="different devices: x on cuda:0, weight on cpu"):
        OPS.layer_norm(x, torch.ones(8), None, 1e-5)


def _train_both_and_compile(reference, ours, data, classes=16):
    """Trains both models with SGD on the same batches from the same weights:
    ours follows torch's loss within what bf16 allows at every step, then
    torch.compile traces ours without graph breaks and agrees with it."""
    ours.load_state_dict(reference.state_dict())
    losses = []
    for net in (reference, ours):
        optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
        run = []
        for x, labels in data:
            loss = F.cross_entropy(net(x).float().reshape(-1, classes), labels.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            run.append(loss.item())
        losses.append(run)
    for step, (want, got) in enumerate(zip(*losses)):
        assert abs(got - want) <= 3e-2 * abs(want), f"step {step}: {got} vs torch's {want}"
    compiled = torch.compile(ours, backend="aot_eager", fullgraph=True)
    x = data[0][0]
    torch.testing.assert_close(compiled(x), ours(x))


def test_bf16_training_follows_torch_and_compiles():
    torch.manual_seed(0)

    def model(norm):
        return torch.nn.Sequential(torch.nn.Linear(256, 256), norm(256), torch.nn.GELU(),
                                   torch.nn.Linear(256, 256), xt.RMSNorm(256)
                                   if norm is xt.LayerNorm else torch.nn.RMSNorm(256),
                                   torch.nn.Linear(256, 16)).to(DEVICE, torch.bfloat16)

    data = [(torch.randn(64, 256, device=DEVICE, dtype=torch.bfloat16),
             torch.randint(0, 16, (64,), device=DEVICE)) for _ in range(50)]
    _train_both_and_compile(model(torch.nn.LayerNorm), model(xt.LayerNorm), data)


def test_bf16_transformer_with_our_attention_follows_torch():
    """Pre-norm attention blocks in bf16: ours (LayerNorm, Attention) against
    torch's (LayerNorm, MultiheadAttention with a causal mask)."""
    torch.manual_seed(0)
    width, heads, seq = 128, 2, 64  # head_dim 64, which our kernel serves

    class Block(torch.nn.Module):
        def __init__(self, norm, attention):
            super().__init__()
            self.norm = norm(width)
            self.attn = attention(width, heads, batch_first=True)
            self.head = torch.nn.Linear(width, 16)

        def forward(self, x):
            h = self.norm(x)
            mask = None if isinstance(self.attn, xt.Attention) else \
                torch.nn.Transformer.generate_square_subsequent_mask(seq, device=DEVICE,
                                                                     dtype=x.dtype)
            out = self.attn(h, h, h, need_weights=False, is_causal=True, attn_mask=mask)[0]
            return self.head(x + out)

    data = [(torch.randn(8, seq, width, device=DEVICE, dtype=torch.bfloat16),
             torch.randint(0, 16, (8, seq), device=DEVICE)) for _ in range(30)]
    _train_both_and_compile(
        Block(torch.nn.LayerNorm, torch.nn.MultiheadAttention).to(DEVICE, torch.bfloat16),
        Block(xt.LayerNorm, xt.Attention).to(DEVICE, torch.bfloat16), data)


def test_packed_attention_and_its_gradients_match_torch_in_bf16():
    """torch.ops.xpuruntime.attention_varlen on CUDA tensors against torch's
    SDPA per sequence, forward and gradients."""
    heads, dim, lengths = 4, 64, (70, 130)
    q, k, v = (bf16_leaf(sum(lengths), heads, dim) for _ in range(3))
    cu = torch.tensor([0, lengths[0], sum(lengths)], dtype=torch.int32, device=DEVICE)
    got, lse = OPS.attention_varlen(q, k, v, cu, cu, max(lengths), max(lengths), True, None)
    assert lse.shape == (heads, sum(lengths)) and lse.dtype == torch.float32
    pieces = []
    for start, end in zip(cu[:-1].tolist(), cu[1:].tolist()):
        one = [t[start:end].transpose(0, 1)[None] for t in (q, k, v)]
        pieces.append(F.scaled_dot_product_attention(*one, is_causal=True)[0].transpose(0, 1))
    want = torch.cat(pieces)
    assert relative_error(got, want) < 1e-2
    grad = torch.randn_like(got)
    for g, w in zip(torch.autograd.grad(got, (q, k, v), grad),
                    torch.autograd.grad(want, (q, k, v), grad)):
        assert relative_error(g, w) < 2e-2


def test_cache_append_then_decode_match_torch_in_bf16():
    """kv_cache_append writes the new rows into the caches (and moves their
    versions), then attention_decode of three new queries per sequence
    against torch's SDPA over the filled rows (bottom-right causal)."""
    batch, capacity, heads, heads_kv, dim, new_len = 2, 256, 8, 2, 64, 3
    k_cache, v_cache = (torch.zeros(batch, capacity, heads_kv, dim, device=DEVICE,
                                    dtype=torch.bfloat16) for _ in range(2))
    filled = torch.tensor([100, 0], dtype=torch.int32, device=DEVICE)
    for cache in (k_cache, v_cache):
        cache[0, :100] = torch.randn(100, heads_kv, dim, device=DEVICE, dtype=torch.bfloat16)
    new_k, new_v = (torch.randn(batch, new_len, heads_kv, dim, device=DEVICE,
                                dtype=torch.bfloat16) for _ in range(2))
    versions = (k_cache._version, v_cache._version)
    lengths = OPS.kv_cache_append(k_cache, v_cache, new_k, new_v, filled)
    assert lengths.tolist() == [103, 3]
    assert (k_cache._version, v_cache._version) > versions
    torch.testing.assert_close(k_cache[0, 100:103], new_k[0], rtol=0, atol=0)
    torch.testing.assert_close(v_cache[1, :3], new_v[1], rtol=0, atol=0)

    q = torch.randn(batch, new_len, heads, dim, device=DEVICE, dtype=torch.bfloat16)
    got = OPS.attention_decode(q, k_cache, v_cache, lengths, None, None)
    for b, n in enumerate(lengths.tolist()):
        keys, values = (c[b, :n].transpose(0, 1)[None] for c in (k_cache, v_cache))
        seen = torch.ones(new_len, n, dtype=torch.bool, device=DEVICE).tril(n - new_len)
        want = F.scaled_dot_product_attention(q[b].transpose(0, 1)[None], keys, values,
                                              attn_mask=seen, enable_gqa=True)
        assert relative_error(got[b], want[0].transpose(0, 1)) < 1e-2
