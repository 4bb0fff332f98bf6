"""The C++ kernels of torch.ops.xpuruntime's ops (native/), built against
the torch that imports them.

torch's C++ ABI changes between releases, so no prebuilt binary could
serve every torch: the first import under a given torch (and xpuruntime)
compiles native/ with torch.utils.cpp_extension, which takes about a
minute, and later imports load the cached build (in torch's extensions
folder, ``TORCH_EXTENSIONS_DIR``). It needs a C++ compiler, ninja (the
``torch`` extra brings it) and torch with DLPack's C exchange API
(torch >= 2.10). Without them, or with ``XPURUNTIME_TORCH_NATIVE=0``,
ops.py's Python kernels run the same ops at a higher cost per call, and
``reason`` says why."""

import glob
import hashlib
import logging
import os
import warnings

import torch

import xpuruntime as xrt

from ._bridge import HAS_EXCHANGE_API

_FOLDER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "native")
_SOURCES = [os.path.join(_FOLDER, name) for name in
            ("runtime_call.cpp", "norms.cpp", "attention.cpp", "varlen_decode.cpp",
             "module.cpp")]
_HEADERS = [os.path.join(_FOLDER, name) for name in ("runtime_call.h", "operators.h")]
_log = logging.getLogger("xpuruntime.torch")

module = None  # the compiled module once loaded
reason = ""  # why it is None


def _library_file():
    """The runtime library the Python layer loaded (its soname file)."""
    names = sorted(glob.glob(os.path.join(xrt.get_lib_dir(), "libxpuruntime.so.*")), key=len)
    if not names:
        raise FileNotFoundError(f"no libxpuruntime.so.* in {xrt.get_lib_dir()}")
    return names[0]


def _build():
    from torch.utils import cpp_extension

    library = _library_file()
    digest = hashlib.sha256()
    for path in _SOURCES + _HEADERS:
        with open(path, "rb") as source:
            digest.update(source.read())
    digest.update(f"{torch.__version__} {xrt.__version__} {library}".encode())
    name = f"xpuruntime_torch_{digest.hexdigest()[:16]}"
    _log.info("loading (building on first use, about a minute) %s for torch %s", name,
              torch.__version__)
    return cpp_extension.load(
        name=name, sources=_SOURCES, extra_include_paths=[xrt.get_include()],
        extra_cflags=["-O2"],
        extra_ldflags=[library, f"-Wl,-rpath,{os.path.dirname(library)}"],
        is_python_module=True, verbose=False)


def _load():
    global module, reason
    if os.environ.get("XPURUNTIME_TORCH_NATIVE", "1") == "0":
        reason = "XPURUNTIME_TORCH_NATIVE=0"
        return
    if not HAS_EXCHANGE_API:
        reason = (f"torch {torch.__version__} has no DLPack C exchange API "
                  "(torch.Tensor.__dlpack_c_exchange_api__, torch >= 2.10)")
        return
    try:
        module = _build()
    except Exception as error:  # no compiler, no ninja, a torch without headers
        reason = f"building the C++ kernels failed: {type(error).__name__}: {error}"
        warnings.warn(f"xpuruntime.torch runs its ops through Python kernels, at a higher cost "
                      f"per call: {reason} (XPURUNTIME_TORCH_NATIVE=0 skips the build)",
                      RuntimeWarning, stacklevel=3)


def register(error_classes, causal_align):
    """Registers the C++ kernels (after ops.py defined the schemas)."""
    module.register_kernels(torch.Tensor.__dlpack_c_exchange_api__, error_classes,
                            causal_align)


_load()
OPS = frozenset(module.OPS) if module is not None else frozenset()
