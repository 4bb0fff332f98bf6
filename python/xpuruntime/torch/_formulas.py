"""The autograd formulas of xpuruntime's ops, written once for both ways of
calling them: the custom ops (ops.py) pass their backward custom ops, so
torch.compile traces the backward too; the eager path (functional.py)
passes the plain calls, which skip torch's dispatcher. Each setup has the
signature of torch.library.register_autograd's setup_context (and of
torch.autograd.Function.setup_context)."""


def layer_norm_setup(ctx, inputs, output):
    x, weight, bias, eps = inputs
    ctx.save_for_backward(x, weight)
    ctx.eps = eps
    ctx.has_bias = bias is not None


def layer_norm_grad(backward):
    def grad_of(ctx, grad):
        x, weight = ctx.saved_tensors
        dx, dweight, dbias = backward(grad.contiguous(), x, weight, ctx.eps)
        return (dx, dweight if weight is not None else None, dbias if ctx.has_bias else None,
                None)
    return grad_of


def rms_norm_setup(ctx, inputs, output):
    x, weight, eps = inputs
    ctx.save_for_backward(x, weight)
    ctx.eps = eps


def rms_norm_grad(backward):
    def grad_of(ctx, grad):
        x, weight = ctx.saved_tensors
        dx, dweight = backward(grad.contiguous(), x, weight, ctx.eps)
        return dx, dweight if weight is not None else None, None
    return grad_of


def _save_attention(ctx, inputs, *extra):
    q, k, v, causal, scale, attn_mask, key_lengths, window_left, causal_align = inputs
    if attn_mask is not None and attn_mask.requires_grad:
        raise NotImplementedError("xpuruntime attention: attn_mask gets no gradient; detach it")
    ctx.save_for_backward(q, k, v, attn_mask, key_lengths, *extra)
    ctx.attrs = (causal, scale)
    ctx.masks = dict(window_left=window_left, causal_align=causal_align)


# q, k, v get gradients; causal, scale and the masks do not.
_NO_GRADS = (None,) * 6


def attention_setup(ctx, inputs, output):
    _save_attention(ctx, inputs)


def attention_grad(backward):
    def grad_of(ctx, grad):
        q, k, v, attn_mask, key_lengths = ctx.saved_tensors
        dq, dk, dv = backward(grad, q, k, v, *ctx.attrs, None, None, attn_mask, key_lengths,
                              **ctx.masks)
        return (dq, dk, dv) + _NO_GRADS
    return grad_of


def attention_lse_setup(ctx, inputs, output):
    out, lse = output
    ctx.mark_non_differentiable(lse)
    _save_attention(ctx, inputs, out, lse)


def attention_lse_grad(backward):
    def grad_of(ctx, grad, _grad_lse):
        q, k, v, attn_mask, key_lengths, out, lse = ctx.saved_tensors
        dq, dk, dv = backward(grad, q, k, v, *ctx.attrs, out, lse, attn_mask, key_lengths,
                              **ctx.masks)
        return (dq, dk, dv) + _NO_GRADS
    return grad_of


def attention_varlen_setup(ctx, inputs, output):
    q, k, v, cu_q, cu_k, max_q, max_k, causal, scale, window_left, causal_align = inputs
    out, lse = output
    ctx.mark_non_differentiable(lse)
    ctx.save_for_backward(q, k, v, cu_q, cu_k, out, lse)
    ctx.attrs = (max_q, max_k, causal, scale)
    ctx.masks = dict(window_left=window_left, causal_align=causal_align)


def attention_varlen_grad(backward):
    def grad_of(ctx, grad, _grad_lse):
        q, k, v, cu_q, cu_k, out, lse = ctx.saved_tensors
        dq, dk, dv = backward(grad.contiguous(), q, k, v, cu_q, cu_k, *ctx.attrs, out, lse,
                              **ctx.masks)
        return (dq, dk, dv) + (None,) * 8
    return grad_of
