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


def softmax(x, int axis=-1, *, stream=None):
    """Softmax along ``axis`` (negative counts from the end)."""
    cdef Tensor tx = _operand(x, None)
    cdef xrt_stream_t* s = _stream_handle(stream)
    cdef xrt_tensor_t* out = NULL
    cdef xrt_status_t status = XRT_OK
    cdef _Held held
    held.count = 0
    try:
        _hold(&held, tx)
        with nogil:
            status = xrt_softmax(held.handles[0], axis, s, &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


def layer_norm(x, weight=None, bias=None, double eps=1e-5, *, stream=None):
    """Layer normalisation over the last axis; weight and bias have its length."""
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
            status = xrt_layer_norm(held.handles[0], held.handles[1], held.handles[2], eps, s,
                                    &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


def rms_norm(x, weight=None, double eps=1e-6, *, stream=None):
    """RMS normalisation over the last axis; weight has its length."""
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
            status = xrt_rms_norm(held.handles[0], held.handles[1], eps, s, &out)
    finally:
        _release_held(&held)
    check(status)
    return _tensor_from_handle(out)


cdef tuple _norm_backward(str op, size_t num_outputs, object grad, object x, object weight,
                          double eps, object stream):
    cdef Tensor tx = _operand(x, _tensor_or_none(grad))
    cdef Tensor tg = _operand(grad, tx)
    cdef Tensor tw = None if weight is None else _operand(weight, tx)
    cdef xrt_attr_t attr
    attr.name = b"eps"
    attr.type = XRT_ATTR_FLOAT
    attr.f = eps
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


def layer_norm_backward(grad, x, weight=None, double eps=1e-5, *, stream=None):
    """Gradients of ``layer_norm(x, weight, bias, eps)`` for the output
    gradient ``grad``: ``(dx, dweight, dbias)``. Mean and variance are
    recomputed from x; without a weight it counts as ones."""
    return _norm_backward("layer_norm_backward", 3, grad, x, weight, eps, stream)


def rms_norm_backward(grad, x, weight=None, double eps=1e-6, *, stream=None):
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


cdef tuple _run_attention(str op, list operands, bint causal, object scale, object impl,
                          object stream, size_t num_outputs):
    cdef double c_scale = 0.0  # the C API's "default"
    if scale is not None:
        c_scale = scale
        if not c_scale > 0.0:
            raise InvalidArgument(f"{op} scale must be > 0, got {scale!r}")
    # q goes where k (forward) or grad (backward) is when q is a plain array.
    cdef bint backward = op == "attention_backward"
    cdef Tensor lead = _operand(operands[1] if backward else operands[0],
                                _tensor_or_none(operands[0] if backward else operands[1]))
    cdef list tensors = [None if value is None else _operand(value, lead) for value in operands]
    cdef bytes kernel = _attention_kernel(op, impl, lead)
    cdef const char* c_kernel = NULL if kernel is None else <const char*>kernel
    cdef bytes c_op_name = op.encode()
    cdef const char* c_op = c_op_name
    cdef xrt_attr_t attrs[2]
    attrs[0].name = b"causal"
    attrs[0].type = XRT_ATTR_INT
    attrs[0].i = causal
    attrs[1].name = b"scale"
    attrs[1].type = XRT_ATTR_FLOAT
    attrs[1].f = c_scale
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
                                     held.count, attrs, 2, s, outs, num_outputs)
    finally:
        _release_held(&held)
    check(status)
    return tuple([_tensor_from_handle(outs[i]) for i in range(num_outputs)])


def attention(q, k, v, bint causal=False, scale=None, *, impl=None, stream=None,
              bint return_lse=False):
    """Scaled dot-product attention over (batch, heads, seq, head_dim) operands,
    as torch's scaled_dot_product_attention. ``causal`` masks key j for query
    i when j > i (top-left aligned); ``scale`` defaults to 1/sqrt(head_dim).

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
    if return_lse:
        return _run_attention("attention_lse", [q, k, v], causal, scale, impl, stream, 2)
    return _run_attention("attention", [q, k, v], causal, scale, impl, stream, 1)[0]


def attention_backward(grad, q, k, v, bint causal=False, scale=None, *, output=None, lse=None,
                       impl=None, stream=None):
    """Gradients of ``attention(q, k, v, causal, scale)`` for the output
    gradient ``grad``: ``(dq, dk, dv)``. With the forward's ``output`` and
    ``lse`` (``attention(..., return_lse=True)``) the attention weights come
    from them; without, they are recomputed from q and k. ``impl`` as for
    :func:`attention`."""
    operands = [grad, q, k, v]
    if output is not None or lse is not None:
        operands += [output, lse]
    return _run_attention("attention_backward", operands, causal, scale, impl, stream, 3)


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
    cdef bytes op_name = op.encode()
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
    names = [name.encode() for name, _ in items]
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
    cdef xrt_attr_t* c_attrs = <xrt_attr_t*>PyMem_Malloc((num_attrs if num_attrs else 1) * sizeof(xrt_attr_t))
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
