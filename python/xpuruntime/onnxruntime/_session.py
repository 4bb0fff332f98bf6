"""InferenceSession with onnxruntime's constructor and methods, over
xpuruntime.InferenceSession."""

import os
import time
import warnings

from .. import _core
from ..errors import BackendError, Unsupported
from . import _logging
from ._iobinding import IOBinding
from ._metadata import read_metadata
from ._options import SessionOptions
from ._ortvalue import OrtValue
from ._providers import CPU, place


class InferenceSession:
    """onnxruntime.InferenceSession(path_or_bytes, sess_options=None,
    providers=None, provider_options=None)."""

    def __init__(self, path_or_bytes, sess_options=None, providers=None, provider_options=None,
                 **kwargs):
        if kwargs:
            raise Unsupported(f"InferenceSession arguments {sorted(kwargs)} are not supported "
                              "by xpuruntime")
        if isinstance(path_or_bytes, (str, os.PathLike)):
            self._model = os.fspath(path_or_bytes)
        elif isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
            self._model = bytes(path_or_bytes)
        else:
            raise TypeError(f"Unable to load from type '{type(path_or_bytes)}'")
        if sess_options is not None and not isinstance(sess_options, SessionOptions):
            raise TypeError(f"sess_options must be a SessionOptions, not "
                            f"{type(sess_options).__name__}")
        self._sess_options = sess_options if sess_options is not None else SessionOptions()
        self._enable_fallback = True
        self._metadata = None
        self._create(providers, provider_options)

    def _create(self, providers, provider_options):
        placement = place(providers, provider_options)
        options = self._sess_options.backend_options(_logging.session_defaults())
        if placement.backend != "onnxruntime":
            options.pop(_logging.VERBOSITY_OPTION, None)  # ONNX Runtime's debug builds only
        options.update(placement.options)
        try:
            sess = _core.InferenceSession(self._model, backend=placement.backend,
                                          device=placement.device, **options)
        except BackendError as error:
            if placement.device == "cpu" or not self._enable_fallback:
                raise
            warnings.warn(f"{error}; falling back to ['{CPU}'] and retrying", RuntimeWarning,
                          stacklevel=3)
            return self._create([CPU], None)
        self._sess = sess
        self._profile_ended = False
        self._placement = placement
        self._input_args = {arg.name: arg for arg in sess.get_inputs()}
        self._output_args = {arg.name: arg for arg in sess.get_outputs()}
        self._output_names = list(self._output_args)

    # ---- description -----------------------------------------------------

    def get_inputs(self):
        return self._sess.get_inputs()

    def get_outputs(self):
        return self._sess.get_outputs()

    def get_overridable_initializers(self):
        raise Unsupported("get_overridable_initializers is not supported by xpuruntime")

    def get_modelmeta(self):
        if self._metadata is None:
            self._metadata = read_metadata(self._model)
        return self._metadata

    def get_providers(self):
        return self._sess.get_providers() or list(self._placement.providers)

    def get_provider_options(self):
        """Each provider's options as given (onnxruntime also lists its
        defaults; only those set are known here)."""
        return {name: dict(self._placement.provider_options.get(name, {}))
                for name in self.get_providers()}

    def get_session_options(self):
        return self._sess_options

    @property
    def xrt_session(self):
        """The xpuruntime.InferenceSession underneath."""
        return self._sess

    # ---- providers and fallback ----------------------------------------

    def set_providers(self, providers=None, provider_options=None):
        self._create(providers, provider_options)

    def disable_fallback(self):
        self._enable_fallback = False

    def enable_fallback(self):
        self._enable_fallback = True

    # ---- running -------------------------------------------------------


    def run(self, output_names, input_feed, run_options=None):
        """The outputs asked for (all when ``output_names`` is None or empty)
        as numpy arrays."""
        return self._sess.run(output_names or None, input_feed, run_options)

    def run_with_ort_values(self, output_names, input_dict_ort_values, run_options=None):
        """Like run, with OrtValues in and out; nothing leaves the device."""
        feed = {}
        for name, value in input_dict_ort_values.items():
            if not isinstance(value, OrtValue):
                raise TypeError(f"input {name!r} must be an OrtValue, not "
                                f"{type(value).__name__}")
            feed[name] = value.tensor
        return [OrtValue(t) for t in self._sess.run_tensors(output_names or None, feed, run_options)]

    def io_binding(self):
        return IOBinding(self)

    def run_with_iobinding(self, iobinding, run_options=None):
        if not isinstance(iobinding, IOBinding) or iobinding._session is not self:
            raise TypeError("run_with_iobinding takes an IOBinding from this session's "
                            "io_binding()")
        iobinding._run(self._sess, run_options)

    # ---- profiling -------------------------------------------------------

    def end_profiling(self):
        """Writes the per-node profile to ``<profile_file_prefix>_<time>.json``
        and returns the file's name; "" when profiling is off or ended."""
        if not self._sess_options.enable_profiling or self._profile_ended:
            return ""
        stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
        path = f"{self._sess_options.profile_file_prefix}_{stamp}.json"
        self._sess.end_profiling(path)
        self._profile_ended = True
        return path
