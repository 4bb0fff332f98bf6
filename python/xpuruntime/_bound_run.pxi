# Runs of one session with inputs and outputs fixed in advance: what
# xpuruntime.onnxruntime's IOBinding keeps between runs. Names are resolved
# and input handles retained once, so a run is one C call, with no Python
# objects made for the inputs, and, once outputs are kept, none for them.


cdef class _BoundRun:
    """``_BoundRun(session, inputs, output_names, given, keep, kept=None)``: ``inputs``
    maps model input names to Tensors on the session's device (or the
    host's), ``output_names`` lists model outputs and ``given`` the caller's
    Tensor for each (None where the run makes one), which the run writes
    into (xrt_session_run_into). ``run(run_options)`` returns the outputs as
    Tensors. With ``keep``, a run writes each output into the previous
    run's (from the first run on: ``kept``, an earlier _BoundRun's ``last``),
    as onnxruntime's IO binding does, so its Tensors change with the next
    run; when one no longer fits (a shape that follows the data) the run is
    made again into new outputs."""

    cdef readonly InferenceSession session
    cdef size_t num_inputs
    cdef size_t num_outputs
    cdef const char** in_names    # point into session._input_names
    cdef xrt_tensor_t** inputs    # retained until this object goes
    cdef dict slots               # input name -> its index in in_names/inputs
    cdef const char** out_names   # point into session._output_names
    cdef list given               # per output: the caller's Tensor, or None
    cdef bint keep
    cdef readonly list last       # the last run's outputs, or None
    cdef list views               # numpy views of `last` on the host, made once

    def __cinit__(self, InferenceSession session not None, dict inputs not None,
                  list output_names not None, list given not None, bint keep,
                  list kept=None):
        cdef size_t i = 0
        self.session = session
        self.slots = {}
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
            self.slots[name] = i
            i += 1
            self.num_inputs = i
        for i in range(len(output_names)):
            index = session._output_index.get(output_names[i])
            if index is None:
                raise InvalidArgument(f"{output_names[i]!r} is not a model output; the outputs "
                                      f"are {[arg.name for arg in session._outputs]}")
            self.out_names[i] = <bytes>session._output_names[<Py_ssize_t>index]
        self.num_outputs = len(output_names)
        if len(given) != self.num_outputs:
            raise InvalidArgument(f"{len(given)} given outputs for {self.num_outputs} outputs")
        self.given = given
        self.keep = keep
        if keep and kept is not None and len(kept) == self.num_outputs:
            self.last = kept

    def __dealloc__(self):
        cdef size_t i
        if self.inputs != NULL:
            for i in range(self.num_inputs):
                xrt_tensor_release(self.inputs[i])
        free(self.inputs)
        free(self.in_names)
        free(self.out_names)

    def set_input(self, name, tensor):
        """Binds input ``name`` (bound already) to ``tensor`` instead, in
        place: IOBinding's rebinding of an input to new memory of the same
        shape. False when ``name`` is not bound here."""
        index = self.slots.get(name)
        if index is None:
            return False
        cdef xrt_tensor_t* handle = _input_handle(tensor, self.session.device.handle,
                                                  self.session._host, None)
        xrt_tensor_release(self.inputs[<size_t>index])
        self.inputs[<size_t>index] = handle
        return True

    def run(self, run_options=None):
        cdef _RunControl control = _run_control(run_options)
        if self.keep and self.last is not None:
            try:
                return self._run_into(control, self.last)
            except InvalidArgument:
                self.last = None  # a kept output no longer fits: new ones
        self.last = self._run_into(control, self.given)
        self.views = None
        return self.last

    cdef list _run_into(self, _RunControl control, list targets):
        """The outputs: targets[i] itself where it is a Tensor (written
        into), else a new Tensor; `targets` itself when all are given."""
        cdef xrt_run_options_t* c_options = control.handle if control is not None else NULL
        cdef xrt_tensor_t* out_stack[_STACK_VALUES]
        cdef xrt_tensor_t* held_stack[_STACK_VALUES]
        cdef xrt_tensor_t** outputs = out_stack
        cdef xrt_tensor_t** held = held_stack  # the given handles, retained for the call
        cdef xrt_tensor_t* in_stack[_STACK_VALUES]
        cdef xrt_tensor_t** ins = in_stack  # the inputs, retained: set_input may swap one
        cdef size_t num_held_inputs = 0
        cdef xrt_status_t status
        cdef size_t i
        cdef size_t made = 0
        cdef list result
        # Held for the whole call: another thread may close() the session.
        cdef xrt_session_t* handle = self.session._live()
        check(xrt_session_retain(handle))
        if self.num_outputs > _STACK_VALUES:
            outputs = <xrt_tensor_t**>malloc(self.num_outputs * sizeof(xrt_tensor_t*))
            held = <xrt_tensor_t**>malloc(self.num_outputs * sizeof(xrt_tensor_t*))
        if self.num_inputs > _STACK_VALUES:
            ins = <xrt_tensor_t**>malloc(self.num_inputs * sizeof(xrt_tensor_t*))
        if outputs == NULL or held == NULL or ins == NULL:
            if outputs != out_stack:
                free(outputs)
                free(held)
            if ins != in_stack:
                free(ins)
            xrt_session_release(handle)
            raise MemoryError()
        for i in range(self.num_inputs):
            ins[i] = self.inputs[i]
            xrt_tensor_retain(ins[i])
        num_held_inputs = self.num_inputs
        for i in range(self.num_outputs):
            outputs[i] = NULL
            held[i] = NULL
        try:
            for i in range(self.num_outputs):
                target = targets[i]
                if target is None:
                    made += 1
                else:
                    held[i] = outputs[i] = _retained(<Tensor?>target)
            with nogil:
                status = xrt_session_run_into(
                    handle, c_options, self.in_names, <const xrt_tensor_t* const*>ins,
                    self.num_inputs, self.out_names, self.num_outputs, outputs)
            check(status)
            if made == 0:
                return targets
            result = list(targets)
            for i in range(self.num_outputs):
                if held[i] == NULL:
                    result[i] = _tensor_from_handle(outputs[i])
                    outputs[i] = NULL
            return result
        finally:
            xrt_session_release(handle)
            for i in range(num_held_inputs):
                xrt_tensor_release(ins[i])
            if ins != in_stack:
                free(ins)
            for i in range(self.num_outputs):  # the given, and new ones not handed to a Tensor
                xrt_tensor_release(held[i] if held[i] != NULL else outputs[i])
            if outputs != out_stack:
                free(outputs)
                free(held)

    def copies(self):
        """The last run's outputs as new numpy arrays (onnxruntime's
        copy_outputs_to_cpu): copies, since a later run may write into the
        outputs again. A host output's view is made once."""
        cdef list tensors = self.last
        cdef Tensor tensor
        if tensors is None:
            return []
        if self.views is None:
            self.views = [None] * len(tensors)
        cdef list views = self.views
        cdef list result = [None] * len(tensors)
        for i in range(len(tensors)):
            view = views[i]
            if view is None:
                tensor = tensors[i]
                if not tensor._on_host():
                    result[i] = tensor.numpy()  # a copy already
                    continue
                view = views[i] = tensor.numpy()
            result[i] = view.copy()
        return result
