"""Execution providers: what is available, and which xrt backend and device
a session's ``providers`` list becomes.

onnxruntime's rule is kept: a provider that is not available is dropped
with a warning naming it and the providers used instead; a list left with
none runs on the CPU.
"""

import warnings

from .. import _core
from ._ortvalue import xrt_device

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
TENSORRT = "TensorrtExecutionProvider"
OPENVINO = "OpenVINOExecutionProvider"
_GPU = (CUDA, TENSORRT)


def _backend(name):
    for info in _core.backends():
        if info.name == name and info.available:
            return info
    return None


def _ort_providers():
    info = _backend("onnxruntime")
    if info is None or not info.details.startswith("providers: "):
        return []
    return [name.strip() for name in info.details[len("providers: "):].split(",") if name.strip()]


def _has_cuda_device(index):
    return any(d.kind == "cuda" and d.index == index for d in _core.devices())


def get_available_providers():
    """The providers sessions can use, in onnxruntime's priority order:
    ONNX Runtime's own, then OpenVINO's when only the OpenVINO backend has
    it."""
    names = _ort_providers()
    if OPENVINO not in names and _backend("openvino") is not None:
        names.insert(0, OPENVINO)
    if not names and any(b.runs_models and b.available for b in _core.backends()):
        names.append(CPU)
    return names


def get_device():
    """"GPU" where a CUDA provider and a CUDA device are there, else "CPU"."""
    return "GPU" if CUDA in _ort_providers() and _has_cuda_device(0) else "CPU"


def _split(providers, provider_options):
    # onnxruntime iterates a lone string as provider names of one letter each.
    if isinstance(providers, str) or not hasattr(providers, "__iter__"):
        raise TypeError(f"providers must be a list of provider names or (name, dict) "
                        f"tuples, not {type(providers).__name__} {providers!r}")
    names, settings = [], []
    for entry in providers:
        if isinstance(entry, (tuple, list)) and len(entry) == 2:
            names.append(entry[0])
            settings.append(dict(entry[1]))
        elif isinstance(entry, str):
            names.append(entry)
            settings.append({})
        else:
            raise TypeError(f"a providers entry must be a name or a (name, dict) tuple, "
                            f"not {entry!r}")
    if provider_options is not None:
        provider_options = list(provider_options)
        if len(provider_options) != len(names):
            raise ValueError(f"provider_options has {len(provider_options)} entries but "
                             f"providers has {len(names)}")
        for setting, extra in zip(settings, provider_options):
            setting.update(extra or {})
    return names, settings


def _drop(names, settings, keep, reason):
    kept = [(n, s) for n, s in zip(names, settings) if keep(n)]
    dropped = [n for n in names if not keep(n)]
    if dropped:
        used = [n for n, _ in kept] or [CPU]
        warnings.warn(f"{', '.join(repr(n) for n in dropped)} {reason}; "
                      f"using {used} instead", RuntimeWarning, stacklevel=4)
    return [n for n, _ in kept], [s for _, s in kept]


class Placement:
    """Where a session runs: xrt backend, device and session options."""

    def __init__(self, backend, device, options, providers, settings):
        self.backend = backend
        self.device = device
        self.options = options
        self.providers = providers  # what the caller asked for, after fallback
        # Each provider's options as given, as onnxruntime reports them (str).
        self.provider_options = {n: {str(k): str(v) for k, v in s.items()}
                                 for n, s in zip(providers, settings)}


def place(providers, provider_options):
    """The backend, device and options for an onnxruntime providers list."""
    names, settings = _split(providers or [CPU], provider_options)
    available = get_available_providers()
    names, settings = _drop(names, settings, lambda n: n in available,
                            f"not in the available providers {available}")
    gpu = [s for n, s in zip(names, settings) if n in _GPU]
    device_id = int(gpu[0].get("device_id", 0)) if gpu else 0
    if gpu and not _has_cuda_device(device_id):
        names, settings = _drop(names, settings, lambda n: n not in _GPU,
                                f"need CUDA device {device_id}, which is not present")
    if not names:
        names, settings = [CPU], [{}]
    if names[0] == OPENVINO and OPENVINO not in _ort_providers():
        options = {}
        if settings[0].get("device_type"):
            options["openvino_device"] = settings[0]["device_type"]
        return Placement("openvino", "cpu", options, names, settings)
    if _backend("onnxruntime") is None:
        return Placement(None, "cpu", {}, names, settings)
    device = xrt_device("cuda", device_id) if any(n in _GPU for n in names) else "cpu"
    # device_id is the session's device; the backend sets it for the provider.
    provider_list = [(n, {k: v for k, v in s.items() if k != "device_id"})
                     for n, s in zip(names, settings)]
    return Placement("onnxruntime", device, {"providers": provider_list}, names, settings)
