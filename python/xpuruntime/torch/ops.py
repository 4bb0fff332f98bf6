"""``torch.ops.xpuruntime.*``: xpuruntime's kernels as torch operators,
defined with ``torch.library.Library.define`` and implemented for the CPU
and CUDA dispatch keys by the C-level calls of _calls.py (a Python
custom_op wrapper would cost about twice as much per call), with an
Autograd kernel per op whose formulas call the backward operators, and
fake implementations that let ``torch.compile`` trace them without graph
breaks. Eager code reaches
the same kernels faster through :mod:`xpuruntime.torch.functional`, which
calls these operators only while torch.compile traces."""

import torch

import xpuruntime as xrt
from xpuruntime._core import _CAUSAL_ALIGN, _STATUS_ERRORS

from . import _calls, _formulas, _native

_NAMESPACE = "xpuruntime"
_LIB = torch.library.Library(_NAMESPACE, "DEF")


def _define(schema, call, fake):
    """Defines ``xpuruntime::<name>`` from its schema, runs ``call`` for CPU
    and CUDA tensors (unless _native's C++ kernels do), ``fake`` for
    tracing; returns its overload."""
    name = schema.split("(", 1)[0]
    _LIB.define(schema)
    if name not in _native.OPS:
        for key in ("CPU", "CUDA"):
            _LIB.impl(name, call, key)
    op = getattr(getattr(torch.ops, _NAMESPACE), name).default
    torch.library.register_fake(f"{_NAMESPACE}::{name}", _on_one_device(op, fake), lib=_LIB)
    return op


def _on_one_device(op, fake):
    """``fake`` behind the runtime's rule that an op's tensors share one
    device. The runtime checks it when it runs; the fake must check it too,
    because torch sends a mix with a meta tensor to the fake (which would
    return uninitialised memory on the other device) and torch.compile
    traces through the fake only."""
    names = [argument.name for argument in op._schema.arguments]

    def checked(*args, **kwargs):
        lead = None
        for name, value in (*zip(names, args), *kwargs.items()):
            if not isinstance(value, torch.Tensor):
                continue
            if lead is None:
                lead = name, value.device
            elif value.device != lead[1]:
                raise xrt.InvalidArgument(
                    f"{op._opname}: inputs are on different devices: {lead[0]} on {lead[1]}, "
                    f"{name} on {value.device}")
        return fake(*args, **kwargs)

    return checked


_AFTER_AUTOGRAD = torch._C._after_autograd_keyset
_PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)
# torch's C helper where it has one (not yet in 2.5), the same test otherwise.
_any_requires_grad = getattr(torch._C, "_any_requires_grad", None) or (
    lambda *args: any(isinstance(a, torch.Tensor) and a.requires_grad for a in args))
_dispatch_modes = torch._C._len_torch_dispatch_stack
_functorch_active = torch._C._are_functorch_transforms_active
_grad_enabled = torch.is_grad_enabled
_c_apply = torch._C._FunctionBase.__dict__["apply"]


def _direct(args) -> bool:
    """Whether the Autograd kernel may run the kernels itself: only plain
    CPU or CUDA tensors, and no dispatch mode (fake tensors, tracing) or
    functorch transform that must see the op below it."""
    if _dispatch_modes() or _functorch_active():
        return False
    for a in args:
        if isinstance(a, torch.Tensor) and (type(a) not in _PLAIN_TYPES
                                            or not (a.is_cpu or a.is_cuda)):
            return False
    return True


def _autograd(op, call, grad_of, setup):
    """op's Autograd kernel: an autograd.Function over the op whose
    backward is ``grad_of`` (a register_autograd backward). For plain
    tensors it runs ``call`` (the C-level call) itself, which spares a
    second trip through the dispatcher; for anything else it redispatches
    below autograd, so tracers see the op. What register_autograd would
    register, less the Python layers of Function.apply and argument
    binding, which cost several times the kernel call. Ops that _native
    implements get its C++ Autograd kernels instead."""
    if op._opname in _native.OPS:
        return

    def below_autograd(keyset, args):
        with torch._C._AutoDispatchBelowAutograd():
            return op.redispatch(keyset & _AFTER_AUTOGRAD, *args)

    def forward(ctx, keyset, direct, *args):
        output = call(*args) if direct else below_autograd(keyset, args)
        setup(ctx, args, output)
        return output

    def backward(ctx, *grads):
        return (None, None, *grad_of(ctx, *grads))

    function = type(f"{op._opname}_autograd", (torch.autograd.Function,), {
        "forward": staticmethod(forward), "backward": staticmethod(backward)})
    apply = _c_apply.__get__(None, function)

    def kernel(keyset, *args):
        direct = _direct(args)
        if not (_grad_enabled() and _any_requires_grad(*args)):
            return call(*args) if direct else below_autograd(keyset, args)
        if _functorch_active():
            # The Function would be called from inside the dispatcher, where
            # functorch cannot wrap it (torch asks for a setup_context, which
            # would not help here).
            raise NotImplementedError(
                f"xpuruntime::{op._opname} has no gradient under torch.func transforms "
                "(grad, jacrev, vjp); differentiate it with torch.autograd (.backward(), "
                "torch.autograd.grad) instead")
        return apply(keyset, direct, *args)

    _LIB.impl(op._opname, kernel, "Autograd", with_keyset=True)


def _not_differentiable(op, call, why):
    """op's Autograd kernel for an op without a gradient (a backward op, or
    a forward-only one): the call itself (for plain tensors, as
    _autograd's) or a redispatch below autograd. Where a gradient through
    it could be wanted, its outputs carry a node that fails when
    differentiated, naming the op, ``why`` and the inputs that require
    grad, instead of torch's warning."""
    names = [argument.name for argument in op._schema.arguments]

    def run(keyset, args):
        if _direct(args):
            return call(*args)
        with torch._C._AutoDispatchBelowAutograd():
            return op.redispatch(keyset & _AFTER_AUTOGRAD, *args)

    def kernel(keyset, *args):
        if not (_grad_enabled() and _any_requires_grad(*args)):
            return run(keyset, args)
        with torch.no_grad():
            outputs = run(keyset, args)
        wanting = ", ".join(name for name, value in zip(names, args)
                            if isinstance(value, torch.Tensor) and value.requires_grad)
        # One output comes back from DelayedError as a tensor, several as a tuple.
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        fail = torch._C._functions.DelayedError(
            f"xpuruntime::{op._opname} is not differentiable ({why}); a gradient was asked "
            f"for through its inputs {wanting}", len(outputs))
        # DelayedError gives its outputs a grad_fn only for inputs that require grad.
        return fail(*(t.detach().requires_grad_() for t in outputs))

    _LIB.impl(op._opname, kernel, "Autograd", with_keyset=True)


def _empty_like_contiguous(x):
    return torch.empty(x.shape, dtype=x.dtype, device=x.device)


def _empty_in_axis_order_of(like, shape):
    """An empty (batch, heads, seq, dim) tensor laid out as the runtime lays
    out an attention output: (batch, seq, heads, dim) in memory when ``like``
    is such a view (heads inner to seq, both longer than 1), else contiguous.
    torch.compile trusts these strides, so they must be the kernel's."""
    b, h, l, d = shape
    if like.shape[1] > 1 and like.shape[2] > 1 and like.stride(1) < like.stride(2):
        return like.new_empty((b, l, h, d)).transpose(1, 2)
    return like.new_empty(shape)


def _row(x):
    return x.new_empty((x.shape[-1],))


# ---- norms ------------------------------------------------------------------

layer_norm = _define(
    "layer_norm(Tensor x, Tensor? weight, Tensor? bias, float eps) -> Tensor",
    _calls.layer_norm, lambda x, weight, bias, eps: _empty_like_contiguous(x))
layer_norm_backward = _define(
    "layer_norm_backward(Tensor grad, Tensor x, Tensor? weight, float eps)"
    " -> (Tensor, Tensor, Tensor)",
    _calls.layer_norm_backward,
    lambda grad, x, weight, eps: (_empty_like_contiguous(x), _row(x), _row(x)))
_autograd(layer_norm, _calls.layer_norm, _formulas.layer_norm_grad(layer_norm_backward),
          _formulas.layer_norm_setup)

rms_norm = _define(
    "rms_norm(Tensor x, Tensor? weight, float eps) -> Tensor",
    _calls.rms_norm, lambda x, weight, eps: _empty_like_contiguous(x))
rms_norm_backward = _define(
    "rms_norm_backward(Tensor grad, Tensor x, Tensor? weight, float eps) -> (Tensor, Tensor)",
    _calls.rms_norm_backward,
    lambda grad, x, weight, eps: (_empty_like_contiguous(x), _row(x)))
_autograd(rms_norm, _calls.rms_norm, _formulas.rms_norm_grad(rms_norm_backward),
          _formulas.rms_norm_setup)

# ---- residual add fused into a norm: (norm of x + residual, the sum) ------------

add_layer_norm = _define(
    "add_layer_norm(Tensor x, Tensor residual, Tensor? weight, Tensor? bias, float eps)"
    " -> (Tensor, Tensor)",
    _calls.add_layer_norm,
    lambda x, residual, weight, bias, eps: (_empty_like_contiguous(x),
                                            _empty_like_contiguous(x)))
add_layer_norm_backward = _define(
    "add_layer_norm_backward(Tensor grad, Tensor sum, Tensor? weight, Tensor? grad_sum,"
    " float eps) -> (Tensor, Tensor, Tensor)",
    _calls.add_layer_norm_backward,
    lambda grad, total, weight, grad_sum, eps: (_empty_like_contiguous(total), _row(total),
                                                _row(total)))
_autograd(add_layer_norm, _calls.add_layer_norm,
          _formulas.add_layer_norm_grad(add_layer_norm_backward), _formulas.add_layer_norm_setup)

add_rms_norm = _define(
    "add_rms_norm(Tensor x, Tensor residual, Tensor? weight, float eps) -> (Tensor, Tensor)",
    _calls.add_rms_norm,
    lambda x, residual, weight, eps: (_empty_like_contiguous(x), _empty_like_contiguous(x)))
add_rms_norm_backward = _define(
    "add_rms_norm_backward(Tensor grad, Tensor sum, Tensor? weight, Tensor? grad_sum,"
    " float eps) -> (Tensor, Tensor)",
    _calls.add_rms_norm_backward,
    lambda grad, total, weight, grad_sum, eps: (_empty_like_contiguous(total), _row(total)))
_autograd(add_rms_norm, _calls.add_rms_norm,
          _formulas.add_rms_norm_grad(add_rms_norm_backward), _formulas.add_rms_norm_setup)

# ---- gelu(x + bias) ------------------------------------------------------------

bias_gelu = _define(
    "bias_gelu(Tensor x, Tensor bias) -> Tensor",
    _calls.bias_gelu, lambda x, bias: _empty_like_contiguous(x))
bias_gelu_backward = _define(
    "bias_gelu_backward(Tensor grad, Tensor x, Tensor bias) -> (Tensor, Tensor)",
    _calls.bias_gelu_backward, lambda grad, x, bias: (_empty_like_contiguous(x), _row(x)))
_autograd(bias_gelu, _calls.bias_gelu, _formulas.bias_gelu_grad(bias_gelu_backward),
          _formulas.bias_gelu_setup)

# ---- attention ------------------------------------------------------------------
# Over (batch, heads, seq, head_dim), as torch's scaled_dot_product_attention
# (causal masks top-left aligned unless causal_align is "bottom_right"); k
# and v may have fewer heads than q (grouped-query attention). Masks as
# xpuruntime.ops.attention takes them: attn_mask bool (True = attend) or
# additive, broadcastable to (batch, heads, Lq, Lk); key_lengths int32
# (batch,); window_left keys before the diagonal (None: unlimited).
# attention_lse adds the float32 log-sum-exp of each query's scores,
# (batch, heads, seq), which attention_backward takes (with the output)
# instead of recomputing the forward.

_MASKS = ("Tensor? attn_mask=None, Tensor? key_lengths=None, int? window_left=None,"
          " str causal_align=\"top_left\"")


def _attention_out(q, v):
    return _empty_in_axis_order_of(q, (*q.shape[:-1], v.shape[-1]))


attention = _define(
    f"attention(Tensor q, Tensor k, Tensor v, bool causal, float? scale, {_MASKS}) -> Tensor",
    _calls.attention_op, lambda q, k, v, causal, scale, *masks: _attention_out(q, v))
attention_lse = _define(
    f"attention_lse(Tensor q, Tensor k, Tensor v, bool causal, float? scale, {_MASKS})"
    " -> (Tensor, Tensor)",
    _calls.attention_lse_op,
    lambda q, k, v, causal, scale, *masks: (_attention_out(q, v),
                                            q.new_empty(q.shape[:-1], dtype=torch.float32)))
attention_backward = _define(
    "attention_backward(Tensor grad, Tensor q, Tensor k, Tensor v, bool causal, float? scale,"
    f" Tensor? output=None, Tensor? lse=None, {_MASKS}) -> (Tensor, Tensor, Tensor)",
    _calls.attention_backward,
    lambda grad, q, k, v, causal, scale, *rest: tuple(
        _empty_in_axis_order_of(x, x.shape) for x in (q, k, v)))
_autograd(attention, _calls.attention_op, _formulas.attention_grad(attention_backward),
          _formulas.attention_setup)
_autograd(attention_lse, _calls.attention_lse_op,
          _formulas.attention_lse_grad(attention_backward), _formulas.attention_lse_setup)

# ---- packed sequences and decoding -------------------------------------------------
# attention_varlen (xpuruntime.ops.attention_varlen): sequences packed as
# (total, heads, head_dim) rows at cu_seqlens offsets; returns the output
# and the float32 lse (heads, total_q). attention_decode: new queries
# against a contiguous or paged KV cache, forward only. kv_cache_append
# writes k and v into the caches in place and returns cache_seqlens + new_len.

_WINDOW = "int? window_left=None, str causal_align=\"top_left\""

attention_varlen = _define(
    "attention_varlen(Tensor q, Tensor k, Tensor v, Tensor cu_seqlens_q, Tensor cu_seqlens_k,"
    f" int? max_seqlen_q, int? max_seqlen_k, bool causal, float? scale, {_WINDOW})"
    " -> (Tensor, Tensor)",
    _calls.attention_varlen,
    lambda q, k, v, *rest: (q.new_empty((*q.shape[:-1], v.shape[-1])),
                            q.new_empty((q.shape[1], q.shape[0]), dtype=torch.float32)))
attention_varlen_backward = _define(
    "attention_varlen_backward(Tensor grad, Tensor q, Tensor k, Tensor v,"
    " Tensor cu_seqlens_q, Tensor cu_seqlens_k, int? max_seqlen_q, int? max_seqlen_k,"
    f" bool causal, float? scale, Tensor output, Tensor lse, {_WINDOW})"
    " -> (Tensor, Tensor, Tensor)",
    _calls.attention_varlen_backward,
    lambda grad, q, k, v, *rest: tuple(_empty_like_contiguous(x) for x in (q, k, v)))
_autograd(attention_varlen, _calls.attention_varlen,
          _formulas.attention_varlen_grad(attention_varlen_backward),
          _formulas.attention_varlen_setup)

attention_decode = _define(
    "attention_decode(Tensor q, Tensor k_cache, Tensor v_cache, Tensor cache_seqlens,"
    " Tensor? block_table, float? scale, bool causal=True, int? window_left=None) -> Tensor",
    _calls.attention_decode,
    lambda q, k_cache, v_cache, *rest: q.new_empty((*q.shape[:-1], v_cache.shape[-1])))

kv_cache_append = _define(
    "kv_cache_append(Tensor(a!) k_cache, Tensor(b!) v_cache, Tensor k, Tensor v,"
    " Tensor cache_seqlens, Tensor? block_table=None) -> Tensor",
    _calls.kv_cache_append, lambda k_cache, v_cache, k, v, cache_seqlens, *rest: torch.empty_like(
        cache_seqlens))


def _bump_cache_versions(keyset, k_cache, v_cache, *args):
    """kv_cache_append's ADInplaceOrView kernel: the caches change in place,
    so autograd must see their versions move (as for torch's in-place ops)."""
    torch.autograd.graph.increment_version((k_cache, v_cache))
    with torch._C._AutoDispatchBelowADInplaceOrView():
        return kv_cache_append.redispatch(keyset & torch._C._after_ADInplaceOrView_keyset,
                                          k_cache, v_cache, *args)


if "kv_cache_append" not in _native.OPS:  # else _native's C++ kernel does this
    _LIB.impl("kv_cache_append", _bump_cache_versions, "ADInplaceOrView", with_keyset=True)

for _backward in (layer_norm_backward, rms_norm_backward, add_layer_norm_backward,
                  add_rms_norm_backward, bias_gelu_backward, attention_backward,
                  attention_varlen_backward):
    _not_differentiable(_backward, getattr(_calls, _backward._opname),
                        "a second derivative of an xpuruntime op")
if "attention_decode" not in _native.OPS:  # else _native's C++ Autograd kernel refuses
    _not_differentiable(attention_decode, _calls.attention_decode,
                        "it is forward only, for inference")

if _native.module is not None:
    _native.register(_STATUS_ERRORS, _CAUSAL_ALIGN)
