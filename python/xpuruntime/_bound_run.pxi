# Runs of one session with inputs and outputs fixed in advance: what
# xpuruntime.onnxruntime's IOBinding keeps between runs. Names are resolved
# and input handles retained once, so a run is one C call and the wrapping
# of its outputs, with no Python objects made for the inputs.


cdef class _BoundRun:
    """``_BoundRun(session, inputs, output_names)``: ``inputs`` maps model
    input names to Tensors on the session's device (or the host's),
    ``output_names`` lists model outputs. ``run(run_options)`` returns the
    outputs as new Tensors, like ``session.run_tensors``."""

    cdef readonly InferenceSession session
    cdef size_t num_inputs
    cdef size_t num_outputs
    cdef const char** in_names    # point into session._input_names
    cdef xrt_tensor_t** inputs    # retained until this object goes
    cdef const char** out_names   # point into session._output_names

    def __cinit__(self, InferenceSession session not None, dict inputs not None,
                  list output_names not None):
        cdef size_t i = 0
        self.session = session
        self.in_names = <const char**>calloc(max(len(inputs), 1), sizeof(char*))
        self.inputs = <xrt_tensor_t**>calloc(max(len(inputs), 1), sizeof(xrt_tensor_t*))
        self.out_names = <const char**>calloc(max(len(output_names), 1), sizeof(char*))
        if self.in_names == NULL or self.inputs == NULL or self.out_names == NULL:
            raise MemoryError()
        for name, tensor in inputs.items():
            index = session._input_index.get(name)
            if index is None:
                raise InvalidArgument(f"{name!r} is not a model input; the inputs are "
                                      f"{[arg.name for arg in session._inputs]}")
            self.in_names[i] = <bytes>session._input_names[<Py_ssize_t>index]
            self.inputs[i] = _input_handle(tensor, session.device.handle, session._host, None)
            i += 1
            self.num_inputs = i
        for i in range(len(output_names)):
            index = session._output_index.get(output_names[i])
            if index is None:
                raise InvalidArgument(f"{output_names[i]!r} is not a model output; the outputs "
                                      f"are {[arg.name for arg in session._outputs]}")
            self.out_names[i] = <bytes>session._output_names[<Py_ssize_t>index]
        self.num_outputs = len(output_names)

    def __dealloc__(self):
        cdef size_t i
        if self.inputs != NULL:
            for i in range(self.num_inputs):
                xrt_tensor_release(self.inputs[i])
        free(self.inputs)
        free(self.in_names)
        free(self.out_names)

    def run(self, run_options=None):
        cdef _RunControl control = _run_control(run_options)
        cdef xrt_run_options_t* c_options = control.handle if control is not None else NULL
        cdef xrt_tensor_t* out_stack[_STACK_VALUES]
        cdef xrt_tensor_t** outputs = out_stack
        cdef xrt_status_t status
        cdef size_t i
        cdef xrt_tensor_t* out
        cdef list result
        # Held for the whole call: another thread may close() the session.
        cdef xrt_session_t* handle = self.session._live()
        check(xrt_session_retain(handle))
        if self.num_outputs > _STACK_VALUES:
            outputs = <xrt_tensor_t**>malloc(self.num_outputs * sizeof(xrt_tensor_t*))
            if outputs == NULL:
                xrt_session_release(handle)
                raise MemoryError()
        for i in range(self.num_outputs):
            outputs[i] = NULL
        try:
            with nogil:
                status = xrt_session_run_with_options(
                    handle, c_options, self.in_names, <const xrt_tensor_t* const*>self.inputs,
                    self.num_inputs, self.out_names, self.num_outputs, outputs)
            check(status)
            result = [None] * self.num_outputs
            for i in range(self.num_outputs):
                out = outputs[i]
                outputs[i] = NULL
                result[i] = _tensor_from_handle(out)
            return result
        finally:
            xrt_session_release(handle)
            for i in range(self.num_outputs):  # those not handed to a Tensor
                xrt_tensor_release(outputs[i])
            if outputs != out_stack:
                free(outputs)


def _numpy_list(list tensors not None):
    """``[t.numpy() for t in tensors]`` without a Python frame: IOBinding's
    copy_outputs_to_cpu, called once a run."""
    return [(<Tensor>t).numpy() for t in tensors]
