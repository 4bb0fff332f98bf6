# Ops. Arguments may be Tensors or anything asarray takes; Tensors go
# straight to the C call (this is the hot path of small ops from Python).

cdef Tensor _convert_operand(object value, Tensor like):
    """A non-Tensor argument as a Tensor on ``like``'s device (cpu without one).
    Python scalars and lists take ``like``'s dtype (numpy does so for scalars),
    so ``add(x, 1)`` and ``layer_norm(x, [1.0] * n)`` keep x's dtype."""
    if like is None:
        return asarray(value)
    if isinstance(value, (bool, int, float, list, tuple)):
        return asarray(value, device=like.device, dtype=like.dtype)
    return asarray(value, device=like.device)


cdef inline Tensor _operand(object value, Tensor like):
    if isinstance(value, Tensor):
        return <Tensor>value
    return _convert_operand(value, like)


cdef inline Tensor _tensor_or_none(object value):
    return <Tensor>value if isinstance(value, Tensor) else None


# A call holds (retains) every tensor handle it passes to C for as long as
# it runs: Python code on the way (an operand's __array__, an attribute's
# __float__) or another thread's release() then cannot free one under it.
# Operands are converted first; handles are taken last.
cdef enum:
    _MAX_HELD = 8


cdef struct _Held:
    xrt_tensor_t* handles[_MAX_HELD]
    size_t count


cdef inline int _hold(_Held* held, Tensor tensor) except -1:
    """Appends tensor's handle (NULL for None), retained until _release_held."""
    cdef xrt_tensor_t* handle = NULL
    if held.count >= _MAX_HELD:
        raise InvalidArgument(f"an op call takes at most {_MAX_HELD} tensors")
    if tensor is not None:
        handle = _retained(tensor)
    held.handles[held.count] = handle
    held.count += 1
    return 0


cdef inline void _release_held(_Held* held) noexcept nogil:
    cdef size_t i
    for i in range(held.count):
        xrt_tensor_release(held.handles[i])
    held.count = 0


ctypedef xrt_status_t (*_BinaryOp)(const xrt_tensor_t*, const xrt_tensor_t*, xrt_stream_t*,
                                   xrt_tensor_t**) noexcept nogil


cdef Tensor _binary(_BinaryOp op, object a, object b, object stream):
    cdef Tensor ta = _operand(a, _tensor_or_none(b))
    cdef Tensor tb = _operand(b, ta)
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        _hold(&held, ta)
        _hold(&held, tb)
        with nogil:
            status = op(held.handles[0], held.handles[1], s, &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


def matmul(a, b, *, stream=None, allow_tf32=False):
    """numpy matmul; batch dimensions broadcast. ``allow_tf32`` lets float32
    products on GPUs round their inputs to TF32 (faster, ~1e-3 relative)."""
    if allow_tf32:
        return run("matmul", a, b, allow_tf32=1, stream=stream)
    return _binary(xrt_matmul, a, b, stream)


def add(a, b, *, stream=None):
    """Elementwise ``a + b`` with numpy broadcasting."""
    return _binary(xrt_add, a, b, stream)


def gelu(x, *, stream=None):
    """``x * Phi(x)``, the erf form (torch's and ONNX's default)."""
    cdef Tensor tx = _operand(x, None)
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        _hold(&held, tx)
        with nogil:
            status = xrt_gelu(held.handles[0], s, &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


def softmax(x, axis=-1, *, stream=None):
    """Softmax along ``axis`` (negative counts from the end)."""
    cdef int32_t c_axis = _int_attr("softmax", "axis", axis, INT32_MIN, INT32_MAX)
    cdef Tensor tx = _operand(x, None)
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        _hold(&held, tx)
        with nogil:
            status = xrt_softmax(held.handles[0], c_axis, s, &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


def layer_norm(x, weight=None, bias=None, eps=1e-5, *, stream=None):
    """Layer normalisation over the last axis; weight and bias have its length."""
    cdef double c_eps = _float_attr("layer_norm", "eps", eps)
    cdef Tensor tx = _operand(x, None)
    cdef Tensor tw = None if weight is None else _operand(weight, tx)
    cdef Tensor tb = None if bias is None else _operand(bias, tx)
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        _hold(&held, tx)
        _hold(&held, tw)
        _hold(&held, tb)
        with nogil:
            status = xrt_layer_norm(held.handles[0], held.handles[1], held.handles[2], c_eps, s,
                                    &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


def rms_norm(x, weight=None, eps=1e-6, *, stream=None):
    """RMS normalisation over the last axis; weight has its length."""
    cdef double c_eps = _float_attr("rms_norm", "eps", eps)
    cdef Tensor tx = _operand(x, None)
    cdef Tensor tw = None if weight is None else _operand(weight, tx)
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        _hold(&held, tx)
        _hold(&held, tw)
        with nogil:
            status = xrt_rms_norm(held.handles[0], held.handles[1], c_eps, s, &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


cdef tuple _norm_backward(str op, size_t num_outputs, object grad, object x, object weight,
                          object eps, object stream):
    cdef double c_eps = _float_attr(op, "eps", eps)
    cdef Tensor tx = _operand(x, _tensor_or_none(grad))
    cdef Tensor tg = _operand(grad, tx)
    cdef Tensor tw = None if weight is None else _operand(weight, tx)
    cdef xrt_attr_t attr
    attr.name = b"eps"
    attr.type = XRT_ATTR_FLOAT
    attr.f = c_eps
    cdef bytes name = op.encode()
    cdef const char* c_op = name
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* outs[3]
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        _hold(&held, tg)
        _hold(&held, tx)
        _hold(&held, tw)
        with nogil:
            status = xrt_op_run_outputs(c_op, <const xrt_tensor_t**>held.handles, 3, &attr, 1,
                                        s, outs, num_outputs)
    finally:
        _release_held(&held)
    check(status)
    return tuple([_tensor_from_handle(outs[i]) for i in range(num_outputs)])


def layer_norm_backward(grad, x, weight=None, eps=1e-5, *, stream=None):
    """Gradients of ``layer_norm(x, weight, bias, eps)`` for the output
    gradient ``grad``: ``(dx, dweight, dbias)``. Mean and variance are
    recomputed from x; without a weight it counts as ones."""
    return _norm_backward("layer_norm_backward", 3, grad, x, weight, eps, stream)


def rms_norm_backward(grad, x, weight=None, eps=1e-6, *, stream=None):
    """Gradients of ``rms_norm(x, weight, eps)``: ``(dx, dweight)``."""
    return _norm_backward("rms_norm_backward", 2, grad, x, weight, eps, stream)


# attention's impl= names: per device kind, the kernels each one means, tried
# in order (the Hopper kernels decline other GPUs, so "xrt" falls through to
# the sm80 kernels there).
_ATTENTION_IMPLS = {
    "xrt": {"cpu": ("cpu.attention",),
            "cuda": ("cuda.flash_attention_sm90", "cuda.flash_attention")},
    "xrt_sm90": {"cuda": ("cuda.flash_attention_sm90",)},
    "xrt_sm80": {"cuda": ("cuda.flash_attention",)},
    "cudnn": {"cuda": ("cuda.cudnn_attention",)},
}


cdef bytes _attention_kernel(str op, object impl, Tensor lead):
    """The kernel name impl asks for (None: the dispatcher's choice)."""
    if impl is None:
        return None
    kernels = _ATTENTION_IMPLS.get(impl)
    if kernels is None:
        raise InvalidArgument(
            f"{op}: impl must be None or one of {', '.join(map(repr, _ATTENTION_IMPLS))}, "
            f"got {impl!r}")
    names = kernels.get(lead.device.kind)
    if names is None:
        raise Unsupported(f"{op}: impl {impl!r} does not run on {lead.device.name} "
                          f"(it runs on: {', '.join(kernels)})")
    suffix = op[len("attention"):]
    return ",".join(name + suffix for name in names).encode()


_CAUSAL_ALIGN = {"top_left": 0, "bottom_right": 1}


cdef object _mask_attrs(str op, object scale, object window_left, object causal_align):
    """The attributes every attention op shares, checked, as (name, value)."""
    cdef double c_scale = _scale_attr(op, scale)
    cdef int64_t window = -1
    if window_left is not None:
        window = _int_attr(op, "window_left", window_left)
        if window < 0:
            raise InvalidArgument(f"{op}: window_left must be None or >= 0, got {window_left!r}")
    attrs = [(b"scale", c_scale), (b"window_left", window)]
    if causal_align is not None:
        align = _CAUSAL_ALIGN.get(causal_align)
        if align is None:
            raise InvalidArgument(f"{op}: causal_align must be 'top_left' or 'bottom_right', "
                                  f"got {causal_align!r}")
        attrs.append((b"causal_align", align))
    return attrs


cdef Tensor _index_operand(object value, Tensor lead):
    """Lengths, offsets and block tables: int32 Tensors; lists become them."""
    if isinstance(value, (list, tuple)):
        return asarray(value, device=lead.device, dtype="int32")
    return _operand(value, lead)


cdef tuple _run_attention(str op, list operands, list attrs, object impl, object stream,
                          size_t num_outputs, size_t lead_index, tuple index_inputs):
    """Runs attention op `op`: operands[lead_index] gives the device (and
    converts the others), those at index_inputs are int32; attrs are
    (name, value) pairs, float values as XRT_ATTR_FLOAT."""
    cdef Tensor lead = _operand(operands[lead_index],
                                _tensor_or_none(operands[1 if lead_index == 0 else 0]))
    cdef list tensors = []
    for i, value in enumerate(operands):
        if value is None:
            tensors.append(None)
        elif i in index_inputs:
            tensors.append(_index_operand(value, lead))
        else:
            tensors.append(_operand(value, lead))
    cdef bytes kernel = _attention_kernel(op, impl, lead)
    cdef const char* c_kernel = NULL if kernel is None else <const char*>kernel
    cdef bytes c_op_name = op.encode()
    cdef const char* c_op = c_op_name
    cdef xrt_attr_t c_attrs[8]
    cdef size_t num_attrs = len(attrs)
    names = [name for name, _ in attrs]  # keeps the bytes alive for the call
    for i, (name, value) in enumerate(attrs):
        c_attrs[i].name = <const char*>names[i]
        if isinstance(value, float):
            c_attrs[i].type = XRT_ATTR_FLOAT
            c_attrs[i].f = value
        else:
            c_attrs[i].type = XRT_ATTR_INT
            c_attrs[i].i = value
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* outs[3]
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        for tensor in tensors:
            _hold(&held, tensor)
        with nogil:
            status = xrt_op_run_impl(c_op, c_kernel, <const xrt_tensor_t**>held.handles,
                                     held.count, c_attrs, num_attrs, s, outs, num_outputs)
    finally:
        _release_held(&held)
    check(status)
    return tuple([_tensor_from_handle(outs[i]) for i in range(num_outputs)])


def attention(q, k, v, bint causal=False, scale=None, *, attn_mask=None, key_lengths=None,
              window_left=None, causal_align="top_left", impl=None, stream=None,
              bint return_lse=False):
    """Scaled dot-product attention over (batch, heads, seq, head_dim) operands,
    as torch's scaled_dot_product_attention. k and v may have fewer heads than
    q, a divisor of them (grouped-query attention: q head h reads kv head
    h // (heads / heads_kv)). ``scale`` defaults to 1/sqrt(head_dim).

    Masks, combined: ``causal`` masks key j for query i when j > i
    (``causal_align="top_left"``, torch's) or j > i + Lk - Lq
    (``"bottom_right"``, the queries at the end of the keys); ``window_left``
    also masks keys more than that many before the diagonal (sliding-window
    attention); ``attn_mask`` broadcastable to (batch, heads, Lq, Lk) is bool
    (True = attend) or float (added to the scores); ``key_lengths`` int32
    (batch,) keeps the first key_lengths[b] keys (key padding). A query that
    sees no key gets zeros.

    ``return_lse=True`` returns ``(out, lse)``: lse (batch, heads, seq) float32
    is the natural log-sum-exp of each query's scaled, masked scores, which
    :func:`attention_backward` takes to skip recomputing the forward.

    ``impl`` picks the implementation: None lets the dispatcher choose (on
    CUDA, cuDNN's fused attention where cuDNN is installed and has a plan
    for the call, else our flash kernels), ``"xrt"`` forces our own kernels
    (on CUDA the Hopper kernels on compute capability 9.0, else the sm_80
    ones), ``"xrt_sm90"`` / ``"xrt_sm80"`` one of those two kinds,
    ``"cudnn"`` cuDNN's
    (``Unsupported`` when it cannot run the call)."""
    attrs = [(b"causal", int(causal))] + _mask_attrs("attention", scale, window_left, causal_align)
    operands = [q, k, v, attn_mask, key_lengths]
    if return_lse:
        return _run_attention("attention_lse", operands, attrs, impl, stream, 2,
                              0, (4,))
    return _run_attention("attention", operands, attrs, impl, stream, 1, 0, (4,))[0]


def attention_backward(grad, q, k, v, bint causal=False, scale=None, *, output=None, lse=None,
                       attn_mask=None, key_lengths=None, window_left=None,
                       causal_align="top_left", impl=None, stream=None):
    """Gradients of ``attention(q, k, v, causal, scale, ...)`` (the same mask
    keywords) for the output gradient ``grad``: ``(dq, dk, dv)``, dk and dv
    with k and v's heads. With the forward's ``output`` and ``lse``
    (``attention(..., return_lse=True)``) the attention weights come from
    them; without, they are recomputed from q and k. ``impl`` as for
    :func:`attention`."""
    attrs = ([(b"causal", int(causal))] +
             _mask_attrs("attention_backward", scale, window_left, causal_align))
    operands = [grad, q, k, v, output, lse, attn_mask, key_lengths]
    return _run_attention("attention_backward", operands, attrs, impl, stream, 3, 1, (7,))


def _max_seqlen_attrs(str op, max_seqlen_q, max_seqlen_k):
    return [(b"max_seqlen_q",
             -1 if max_seqlen_q is None else _int_attr(op, "max_seqlen_q", max_seqlen_q)),
            (b"max_seqlen_k",
             -1 if max_seqlen_k is None else _int_attr(op, "max_seqlen_k", max_seqlen_k))]


def attention_varlen(q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q=None, max_seqlen_k=None,
                     bint causal=False, scale=None, *, window_left=None,
                     causal_align="top_left", impl=None, stream=None, bint return_lse=False):
    """Attention over packed sequences of different lengths, as
    FlashAttention's varlen API: q (total_q, heads, head_dim), k and v
    (total_k, heads_kv, head_dim); sequence b is rows cu_seqlens_q[b] ..
    cu_seqlens_q[b + 1] of q against rows cu_seqlens_k[b] .. of k and v
    (int32, batch + 1 entries starting at 0 and ending at the totals). No
    sequence may be longer than ``max_seqlen_*`` when given. Masks and
    grouped heads as :func:`attention`. Returns (total_q, heads, head_dim_v),
    with ``return_lse=True`` also lse (heads, total_q) float32. ``impl`` as
    for :func:`attention`."""
    attrs = ([(b"causal", int(causal))] +
             _mask_attrs("attention_varlen", scale, window_left, causal_align) +
             _max_seqlen_attrs("attention_varlen", max_seqlen_q, max_seqlen_k))
    operands = [q, k, v, cu_seqlens_q, cu_seqlens_k]
    if return_lse:
        return _run_attention("attention_varlen_lse", operands, attrs, impl, stream, 2,
                              0, (3, 4))
    return _run_attention("attention_varlen", operands, attrs, impl, stream, 1,
                          0, (3, 4))[0]


def attention_varlen_backward(grad, q, k, v, cu_seqlens_q, cu_seqlens_k, max_seqlen_q=None,
                              max_seqlen_k=None, bint causal=False, scale=None, *, output=None,
                              lse=None, window_left=None, causal_align="top_left",
                              impl=None, stream=None):
    """Gradients of :func:`attention_varlen` for the output gradient
    ``grad``: ``(dq, dk, dv)`` packed like q, k, v. ``output`` and ``lse`` as
    for :func:`attention_backward`, ``impl`` as for :func:`attention_varlen`."""
    attrs = ([(b"causal", int(causal))] +
             _mask_attrs("attention_varlen_backward", scale, window_left, causal_align) +
             _max_seqlen_attrs("attention_varlen_backward", max_seqlen_q, max_seqlen_k))
    operands = [grad, q, k, v, cu_seqlens_q, cu_seqlens_k, output, lse]
    return _run_attention("attention_varlen_backward", operands, attrs, impl, stream, 3,
                          1, (4, 5))


def attention_decode(q, k_cache, v_cache, cache_seqlens, block_table=None, scale=None, *,
                     bint causal=True, window_left=None, stream=None):
    """Attention of a few new queries per sequence against a KV cache, as
    FlashAttention's kv-cache API: q (batch, q_len, heads, head_dim) are the
    last q_len positions of sequences whose first cache_seqlens[b] (int32)
    keys and values are cached (the new ones included, see
    :func:`kv_cache_append`). The cache is contiguous (batch, capacity,
    heads_kv, head_dim), or paged (num_blocks, block_size, heads_kv,
    head_dim) with ``block_table`` int32 (batch, max_blocks) naming the
    blocks of each sequence in order (unused entries -1). ``causal``
    (default) is bottom-right aligned. Returns an array shaped like q."""
    attrs = [(b"causal", int(causal))] + _mask_attrs("attention_decode", scale, window_left, None)
    return _run_attention("attention_decode", [q, k_cache, v_cache, cache_seqlens, block_table],
                          attrs, None, stream, 1, 0, (3, 4))[0]


def kv_cache_append(k_cache, v_cache, k, v, cache_seqlens, block_table=None, *, stream=None):
    """Writes k and v (batch, new_len, heads_kv, head_dim) into the caches
    (laid out as :func:`attention_decode`'s; contiguous Tensors, changed in
    place) at positions cache_seqlens[b] .. + new_len, and returns the new
    lengths, cache_seqlens + new_len (int32)."""
    return _run_attention("kv_cache_append", [k_cache, v_cache, k, v, cache_seqlens, block_table],
                          [], None, stream, 1, 0, (4, 5))[0]


cdef enum:
    _MAX_RUN_OUTPUTS = 8


def run(op, *inputs, stream=None, num_outputs=1, **attrs):
    """Runs any registered op (plugin ops included) by name.

    None stands for an absent optional input. int and bool attributes are
    passed as integers, floats as floats. Returns the op's output, or with
    ``num_outputs=n`` above 1 a tuple of its n outputs (n must be the op's
    output count).
    """
    if not 1 <= num_outputs <= _MAX_RUN_OUTPUTS:
        raise InvalidArgument(f"num_outputs={num_outputs!r} of op {op!r} is not between 1 and "
                              f"{_MAX_RUN_OUTPUTS}")
    cdef size_t c_num_outputs = num_outputs
    cdef bytes op_name = _c_text(op, "op name", lookup=True)
    cdef const char* c_op = op_name
    cdef Tensor first = None
    for value in inputs:
        if isinstance(value, Tensor):
            first = value
            break
    tensors = [None if value is None else _operand(value, first) for value in inputs]
    # Attribute values are converted (their __int__/__float__ run) before any
    # handle is taken; names and values are snapshotted once.
    items = list(attrs.items())
    names = [_c_text(name, "attribute name", lookup=True) for name, _ in items]
    values = []
    for name, value in items:
        if isinstance(value, (bool, int, np.integer, np.bool_)):
            value = int(value)
            if not -2**63 <= value < 2**63:
                raise InvalidArgument(f"attribute {name}={value} of op {op!r} does not fit "
                                      "in int64")
            values.append(value)
        elif isinstance(value, (float, np.floating)):
            values.append(float(value))
        else:
            raise InvalidArgument(f"attribute {name}={value!r} of op {op!r} is not an int, "
                                  "bool or float")
    cdef size_t num_inputs = len(tensors)
    cdef size_t num_attrs = len(names)
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_attr_t* c_attrs = <xrt_attr_t*>PyMem_Malloc(
        (num_attrs if num_attrs else 1) * sizeof(xrt_attr_t))
    if c_attrs == NULL:
        raise MemoryError()
    cdef xrt_tensor_t* outs[_MAX_RUN_OUTPUTS]
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        for i in range(num_attrs):
            c_attrs[i].name = names[i]
            if type(values[i]) is int:
                c_attrs[i].type = XRT_ATTR_INT
                c_attrs[i].i = values[i]
            else:
                c_attrs[i].type = XRT_ATTR_FLOAT
                c_attrs[i].f = values[i]
        for tensor in tensors:
            _hold(&held, tensor)
        with nogil:
            status = xrt_op_run_outputs(c_op, <const xrt_tensor_t**>held.handles, num_inputs,
                                        c_attrs, num_attrs, s, outs, c_num_outputs)
    finally:
        _release_held(&held)
        PyMem_Free(c_attrs)
    check(status)
    if c_num_outputs == 1:
        return _tensor_from_handle(outs[0])
    return tuple([_tensor_from_handle(outs[i]) for i in range(c_num_outputs)])
