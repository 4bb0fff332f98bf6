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


def add_layer_norm_setup(ctx, inputs, output):
    _x, _residual, weight, bias, eps = inputs
    ctx.save_for_backward(output[1], weight)  # the sum: all the backward needs of x
    ctx.eps = eps
    ctx.has_bias = bias is not None


def add_layer_norm_grad(backward):
    def grad_of(ctx, grad, grad_sum):
        total, weight = ctx.saved_tensors
        dsum, dweight, dbias = backward(grad.contiguous(), total, weight,
                                        None if grad_sum is None else grad_sum.contiguous(),
                                        ctx.eps)
        return (dsum, dsum, dweight if weight is not None else None,
                dbias if ctx.has_bias else None, None)
    return grad_of


def add_rms_norm_setup(ctx, inputs, output):
    _x, _residual, weight, eps = inputs
    ctx.save_for_backward(output[1], weight)
    ctx.eps = eps


def add_rms_norm_grad(backward):
    def grad_of(ctx, grad, grad_sum):
        total, weight = ctx.saved_tensors
        dsum, dweight = backward(grad.contiguous(), total, weight,
                                 None if grad_sum is None else grad_sum.contiguous(), ctx.eps)
        return dsum, dsum, dweight if weight is not None else None, None
    return grad_of


def bias_gelu_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def bias_gelu_grad(backward):
    def grad_of(ctx, grad):
        x, bias = ctx.saved_tensors
        return backward(grad.contiguous(), x, bias)
    return grad_of


# The torch ops get only the mask arguments given (torch leaves trailing
# ones that hold their defaults out); functional.py passes none or all.
_NO_MASKS = (None, None, None, "top_left")
# q, k, v get gradients; causal, scale and the masks do not (torch drops
# the Nones beyond an apply's inputs).
_NO_GRADS = (None,) * 6


def _save_attention(ctx, inputs, *extra):
    """Saves q, k, v, then extra, then attn_mask and key_lengths if any
    mask was given; ctx.window: the rest of the masks, to pass on."""
    q, k, v, causal, scale, *masks = inputs
    ctx.causal = causal
    ctx.scale = scale
    if not masks:
        ctx.save_for_backward(q, k, v, *extra)
        ctx.window = ()
        return
    attn_mask, key_lengths, window_left, causal_align = (*masks, *_NO_MASKS[len(masks):])
    if attn_mask is not None and attn_mask.requires_grad:
        raise NotImplementedError("xpuruntime attention: attn_mask gets no gradient; detach it")
    ctx.save_for_backward(q, k, v, *extra, attn_mask, key_lengths)
    ctx.window = (window_left, causal_align)


def attention_setup(ctx, inputs, output):
    _save_attention(ctx, inputs)


def attention_grad(backward):
    def grad_of(ctx, grad):
        q, k, v, *masks = ctx.saved_tensors
        dq, dk, dv = backward(grad, q, k, v, ctx.causal, ctx.scale, None, None, *masks,
                              *ctx.window)
        return (dq, dk, dv) + _NO_GRADS
    return grad_of


def attention_lse_setup(ctx, inputs, output):
    out, lse = output
    ctx.mark_non_differentiable(lse)
    _save_attention(ctx, inputs, out, lse)


def attention_lse_grad(backward):
    def grad_of(ctx, grad, _grad_lse):
        q, k, v, out, lse, *masks = ctx.saved_tensors
        dq, dk, dv = backward(grad, q, k, v, ctx.causal, ctx.scale, out, lse, *masks,
                              *ctx.window)
        return (dq, dk, dv) + _NO_GRADS
    return grad_of


def attention_varlen_setup(ctx, inputs, output):
    q, k, v, cu_q, cu_k, max_q, max_k, causal, scale, *window = inputs
    out, lse = output
    ctx.mark_non_differentiable(lse)
    ctx.save_for_backward(q, k, v, cu_q, cu_k, out, lse)
    ctx.attrs = (max_q, max_k, causal, scale)
    ctx.window = window  # window_left and causal_align, as far as given


def attention_varlen_grad(backward):
    def grad_of(ctx, grad, _grad_lse):
        q, k, v, cu_q, cu_k, out, lse = ctx.saved_tensors
        dq, dk, dv = backward(grad.contiguous(), q, k, v, cu_q, cu_k, *ctx.attrs, out, lse,
                              *ctx.window)
        return (dq, dk, dv) + (None,) * 8
    return grad_of
