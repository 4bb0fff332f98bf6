"""Training with xpuruntime's kernels follows training with torch's: a small
transformer (2 layers, width 128, 4 heads) trained for 200 steps from the
same weights on the same batches gives the same loss at every step."""
import pytest

torch = pytest.importorskip("torch")
xt = pytest.importorskip("xpuruntime.torch")

import xpuruntime as xrt  # noqa: E402

WIDTH, HEADS, LAYERS, VOCAB, SEQ, BATCH, STEPS = 128, 4, 2, 64, 32, 8, 200


class Block(torch.nn.Module):
    def __init__(self, norm, attention):
        super().__init__()
        self.norm1, self.norm2 = norm(WIDTH), norm(WIDTH)
        self.attn = attention(WIDTH, HEADS, batch_first=True)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(WIDTH, 4 * WIDTH), torch.nn.GELU(),
                                       torch.nn.Linear(4 * WIDTH, WIDTH))

    def forward(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, h, need_weights=False, is_causal=True,
                          attn_mask=self.causal_mask(x))[0]
        return x + self.mlp(self.norm2(x))

    def causal_mask(self, x):
        # torch's attention wants the mask it is told is causal; ours does not.
        if isinstance(self.attn, xt.Attention):
            return None
        return torch.nn.Transformer.generate_square_subsequent_mask(x.shape[1])


class TinyLM(torch.nn.Module):
    def __init__(self, norm, attention):
        super().__init__()
        self.embed = torch.nn.Embedding(VOCAB, WIDTH)
        self.blocks = torch.nn.ModuleList(Block(norm, attention) for _ in range(LAYERS))
        self.norm = norm(WIDTH)
        self.head = torch.nn.Linear(WIDTH, VOCAB)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def _losses(model, batches):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for tokens in batches:
        logits = model(tokens[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, VOCAB),
                                                 tokens[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@pytest.mark.slow
def test_training_follows_torch():
    torch.manual_seed(1234)
    reference = TinyLM(torch.nn.LayerNorm, torch.nn.MultiheadAttention)
    ours = TinyLM(xt.LayerNorm, xt.Attention)
    ours.load_state_dict(reference.state_dict())
    # Sequences with structure to learn: runs of a repeated token.
    batches = [torch.randint(0, VOCAB, (BATCH, SEQ // 4 + 1)).repeat_interleave(4, dim=1)[:, :SEQ + 1]
               for _ in range(STEPS)]
    want = _losses(reference, batches)
    with xrt.Profiler() as profiler:
        got = _losses(ours, batches)
    ran = {event["name"] for event in profiler.events()}
    assert {"layer_norm", "layer_norm_backward", "attention_lse", "attention_backward"} <= ran
    assert want[-1] < want[0] * 0.5, "the model should learn something"
    for step, (a, b) in enumerate(zip(got, want)):
        assert abs(a - b) <= 1e-4 * abs(b), f"step {step}: loss {a} vs torch's {b}"
