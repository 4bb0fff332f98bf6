"""IOBinding: onnxruntime's bound inputs and outputs, over run_into.

Bound inputs are xrt Tensors (host arrays shared, device memory wrapped in
place); a run leaves its outputs where the session's device is, so on a GPU
nothing crosses to the host until ``copy_outputs_to_cpu``. As in
onnxruntime, an output bound to a device is written into the previous run's
output (``get_outputs()`` values change with the next run;
``copy_outputs_to_cpu`` copies), and an output bound to caller memory on
the session's device (``bind_ortvalue_output``, ``buffer_ptr``) is written
there by the run itself; one bound to another device receives a copy.
Names are resolved and inputs held once, when the binding changes, not at
every run.
"""

import numpy as np

from .. import _core
from ..errors import InvalidArgument
from ._ortvalue import OrtValue, xrt_device


class IOBinding:
    """onnxruntime.IOBinding for one session (``session.io_binding()``)."""

    def __init__(self, session):
        self._session = session
        self._inputs = {}
        # name -> None (left on the session's device), a Device to copy it
        # to, or the Tensor to fill.
        self._outputs = {}
        self._results = []
        self._bound = None  # the _BoundRun of the last run
        self._stale = True  # the bindings changed since: the next run makes a new one
        # Whether that new one may write into the last run's outputs: while
        # the outputs and the inputs' shapes stay, as onnxruntime does.
        self._keep = False
        self._copies = False  # an output goes to another device

    # ---- inputs ----------------------------------------------------------

    def _bind(self, name, tensor):
        old = self._inputs.get(name)
        changed = old is None or old.shape != tensor.shape or old.dtype != tensor.dtype
        if changed:  # else the model took this dtype and shape already
            self._check_input(name, tensor)
        if tensor.device != self._session._sess.device and tensor.device.kind != "cpu":
            raise InvalidArgument(f"bound input {name!r} is on {tensor.device.name}, the "
                                  f"session runs on {self._session._sess.device.name}")
        self._inputs[name] = tensor
        if changed:
            self._stale, self._keep = True, False
        elif not self._stale and not self._bound.set_input(name, tensor):
            self._stale = True

    def _check_input(self, name, tensor):
        arg = self._session._input_args.get(name)
        if arg is None:
            raise InvalidArgument(f"bound input {name!r} is not a model input; the inputs are "
                                  f"{list(self._session._input_args)}")
        if arg.dtype is not None and tensor.dtype != arg.dtype:
            raise InvalidArgument(f"bound input {name!r} is {tensor.dtype}, the model takes "
                                  f"{arg.dtype}")
        if len(tensor.shape) != len(arg.shape) or any(
                isinstance(d, int) and d != e for d, e in zip(arg.shape, tensor.shape)):
            raise InvalidArgument(f"bound input {name!r} has shape {list(tensor.shape)}, the "
                                  f"model takes {arg.shape}")

    def bind_cpu_input(self, name, arr_on_cpu):
        self._bind(name, _core.asarray(np.asarray(arr_on_cpu)))

    def bind_input(self, name, device_type, device_id, element_type, shape, buffer_ptr):
        """An input in memory the caller owns, at ``buffer_ptr`` on the device."""
        tensor = _core._wrap_address(buffer_ptr, shape, np.dtype(element_type),
                                     xrt_device(device_type, device_id))
        self._bind(name, tensor)

    def bind_ortvalue_input(self, name, ortvalue):
        if not isinstance(ortvalue, OrtValue):
            raise TypeError(f"bind_ortvalue_input takes an OrtValue, not "
                            f"{type(ortvalue).__name__}")
        self._bind(name, ortvalue.tensor)

    def clear_binding_inputs(self):
        self._inputs.clear()
        self._stale = True
        self._keep = False

    # ---- outputs ---------------------------------------------------------

    def _check_output(self, name):
        if name not in self._session._output_args:
            raise InvalidArgument(f"bound output {name!r} is not a model output; the outputs "
                                  f"are {list(self._session._output_args)}")

    def bind_output(self, name, device_type="cpu", device_id=0, element_type=None, shape=None,
                    buffer_ptr=None):
        """An output left on the session's device, or written to caller
        memory at ``buffer_ptr`` (``element_type`` and ``shape`` then
        required)."""
        self._check_output(name)
        device = _core.Device(xrt_device(device_type, device_id))
        if buffer_ptr is None:
            # Left where the session makes it, or copied to the device named.
            self._set_output(name, None if device == self._session._sess.device else device)
            return
        if element_type is None or shape is None:
            raise InvalidArgument(f"bind_output({name!r}) with buffer_ptr needs element_type "
                                  "and shape")
        self._set_output(name, _core._wrap_address(buffer_ptr, shape, np.dtype(element_type),
                                                   device))

    def bind_ortvalue_output(self, name, ortvalue):
        self._check_output(name)
        if not isinstance(ortvalue, OrtValue):
            raise TypeError(f"bind_ortvalue_output takes an OrtValue, not "
                            f"{type(ortvalue).__name__}")
        self._set_output(name, ortvalue.tensor)

    def _set_output(self, name, target):
        self._outputs[name] = target
        self._stale = True
        self._keep = False

    def clear_binding_outputs(self):
        self._outputs.clear()
        self._stale = True
        self._keep = False

    # ---- running ---------------------------------------------------------

    def _run(self, sess, run_options):
        """A run on ``sess``, the session's xrt session (set_providers
        replaces it)."""
        bound = self._bound
        if self._stale or bound.session is not sess:
            device = sess.device
            given = [t if isinstance(t, _core.Tensor) and t.device == device else None
                     for t in self._outputs.values()]
            kept = bound.last if self._keep and bound.session is sess else None
            bound = self._bound = _core._BoundRun(sess, self._inputs, list(self._outputs),
                                                  given, True, kept)
            self._stale, self._keep = False, True
            self._copies = any(t is not None and g is None
                               for t, g in zip(self._outputs.values(), given))
        self._results = results = bound.run(run_options)
        if self._copies:
            self._results = self._deliver(list(results))

    def _deliver(self, results):
        """Outputs bound to another device than the session's receive theirs."""
        for i, name in enumerate(self._outputs):
            target = self._outputs[name]
            if target is None or target is results[i]:
                continue
            if isinstance(target, _core.Device):
                results[i] = results[i].to(target)
                continue
            if target.shape != results[i].shape or target.dtype != results[i].dtype:
                raise InvalidArgument(
                    f"output {name!r} is {results[i].dtype}{list(results[i].shape)}, its "
                    f"bound buffer {target.dtype}{list(target.shape)}")
            _core._copy_into(target, results[i])
            results[i] = target
        return results

    def synchronize_inputs(self):
        _core.synchronize(self._session._sess.device)

    def synchronize_outputs(self):
        _core.synchronize(self._session._sess.device)

    def get_outputs(self):
        """The last run's outputs as OrtValues, in binding order."""
        return [OrtValue(t) for t in self._results]

    def copy_outputs_to_cpu(self):
        """The last run's outputs as new numpy arrays, as onnxruntime gives
        them: copies, which a later run leaves alone."""
        if self._copies or self._bound is None:
            return [np.array(t.numpy()) for t in self._results]
        return self._bound.copies()
