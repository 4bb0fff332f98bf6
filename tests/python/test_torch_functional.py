"""xpuruntime.torch.functional: the eager path (autograd.Functions over the
kernels, plain calls without gradients) gives what the custom ops give,
gradients included, and hands over to the custom ops where torch's
dispatcher must see the call."""
import pytest

torch = pytest.importorskip("torch")
xt = pytest.importorskip("xpuruntime.torch")

XF = xt.functional
OPS = torch.ops.xpuruntime


def _double(*shape):
    return torch.randn(*shape, dtype=torch.float64, requires_grad=True)


# (functional call, the custom op it stands for, input shapes)
CASES = {
    "layer_norm": (lambda x, w, b: XF.layer_norm(x, w, b, 1e-5),
                   lambda x, w, b: OPS.layer_norm(x, w, b, 1e-5), [(3, 7), (7,), (7,)]),
    "rms_norm": (lambda x, w: XF.rms_norm(x, w, 1e-6),
                 lambda x, w: OPS.rms_norm(x, w, 1e-6), [(4, 9), (9,)]),
    "attention": (lambda q, k, v: XF.attention(q, k, v, True, 0.3),
                  # with a gradient wanted it keeps the lse, as attention_lse
                  lambda q, k, v: OPS.attention_lse(q, k, v, True, 0.3)[0],
                  [(2, 2, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3)]),
    "attention_lse": (lambda q, k, v: XF.attention_lse(q, k, v, False)[0],
                      lambda q, k, v: OPS.attention_lse(q, k, v, False, None)[0],
                      [(1, 3, 17, 8), (1, 3, 9, 8), (1, 3, 9, 8)]),
}


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    ours, _, shapes = CASES[name]
    inputs = [_double(*s) for s in shapes]
    # lse is float32 inside the attention backward: about 7 digits.
    assert torch.autograd.gradcheck(ours, inputs, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", CASES)
def test_eager_path_matches_the_custom_op_exactly(name):
    ours, op, shapes = CASES[name]
    inputs = [torch.randn(*s, requires_grad=True) for s in shapes]
    grad_out = None
    results = []
    for fn in (ours, op):
        out = fn(*inputs)
        grad_out = torch.randn_like(out) if grad_out is None else grad_out
        results.append((out, torch.autograd.grad(out, inputs, grad_out)))
    (got, got_grads), (want, want_grads) = results
    assert got.grad_fn is not None
    torch.testing.assert_close(got, want, rtol=0, atol=0)
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=0, atol=0)


def test_without_gradients_the_result_is_a_plain_tensor():
    x, w = torch.randn(5, 16), torch.randn(16, requires_grad=True)
    assert XF.layer_norm(x).grad_fn is None
    with torch.no_grad():
        y = XF.rms_norm(x, w)
    assert y.grad_fn is None and not y.requires_grad
    torch.testing.assert_close(y, OPS.rms_norm(x, w.detach(), 1e-6), rtol=0, atol=0)


def test_non_contiguous_inputs_and_gradients():
    x = torch.randn(16, 6).t().requires_grad_(True)  # (6, 16), strided
    q = torch.randn(2, 9, 4, 8).transpose(1, 2).requires_grad_(True)  # (batch, seq, heads, dim)
    for out, want, leaf in ((XF.layer_norm(x), torch.nn.functional.layer_norm(x, (16,)), x),
                            (XF.attention(q, q, q, True),
                             torch.nn.functional.scaled_dot_product_attention(q, q, q,
                                                                              is_causal=True), q)):
        torch.testing.assert_close(out, want)
        grad = torch.randn_like(out).transpose(-1, -2).contiguous().transpose(-1, -2)
        torch.testing.assert_close(torch.autograd.grad(out, leaf, grad)[0],
                                   torch.autograd.grad(want, leaf, grad)[0])


@pytest.mark.parametrize("power", [1, 2])
def test_second_derivatives_fail_loudly(power):
    """Naming the op, also where the first gradient's own inputs need no
    gradient (power 1: the grad of a sum is constant), where torch's
    message would be that the tensor "does not require grad"."""
    x = torch.randn(3, 8, requires_grad=True)
    (dx,) = torch.autograd.grad(XF.layer_norm(x).pow(power).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError, match=r"xpuruntime::layer_norm_backward is not "
                                           r"differentiable \(a second derivative"):
        dx.sum().backward()
    q = torch.randn(1, 2, 4, 8, requires_grad=True)
    (dq,) = torch.autograd.grad(XF.attention(q, q, q, causal=True).pow(power).sum(), q,
                                create_graph=True)
    with pytest.raises(RuntimeError, match="xpuruntime::attention_backward is not differentiable"):
        dq.sum().backward()


def test_torch_func_transforms_say_to_use_autograd():
    """torch.func.grad cannot wrap a Function the dispatcher calls; vmap
    without a gradient runs (per sample, through torch's fallback)."""
    x = torch.randn(3, 2, 8)
    with pytest.raises(NotImplementedError, match=r"xpuruntime::layer_norm has no gradient under "
                                                  r"torch.func transforms"):
        torch.func.grad(lambda a: XF.layer_norm(a).sum())(x[0])
    torch.testing.assert_close(torch.func.vmap(XF.layer_norm)(x),
                               torch.nn.functional.layer_norm(x, (8,)), rtol=1e-5, atol=1e-5)


def test_meta_tensors_go_through_the_custom_ops_fake_impls():
    x = torch.empty(4, 32, device="meta", requires_grad=True)
    y = XF.layer_norm(x, None, None, 1e-5)
    assert y.device.type == "meta" and y.shape == (4, 32)
    q = torch.empty(1, 2, 7, 8, device="meta")
    out, lse = XF.attention_lse(q, q, q, True)
    assert out.shape == (1, 2, 7, 8) and lse.shape == (1, 2, 7) and lse.dtype == torch.float32


def test_torch_compile_traces_the_functions_without_graph_breaks():
    def block(x, w):
        h = XF.layer_norm(x, w, None, 1e-5)
        q = h.view(2, 5, 2, 8).transpose(1, 2)
        return XF.rms_norm(XF.attention(q, q, q, True).transpose(1, 2).reshape(2, 5, 16), w)
    compiled = torch.compile(block, backend="aot_eager", fullgraph=True)
    x, w = torch.randn(2, 5, 16, requires_grad=True), torch.randn(16, requires_grad=True)
    out = compiled(x, w)
    torch.testing.assert_close(out, block(x, w))
    out.sum().backward()
    assert x.grad is not None and w.grad is not None and torch.isfinite(x.grad).all()
