"""xpuruntime's kernels inside PyTorch models.

    import xpuruntime.torch as xt
    y = torch.ops.xpuruntime.layer_norm(x, weight, bias, 1e-5)   # differentiable
    y = xt.functional.layer_norm(x, weight, bias, 1e-5)          # the same, faster eagerly
    model.norm = xt.LayerNorm(1024)                              # drop-in modules

Importing this module registers the custom ops ``torch.ops.xpuruntime.*``
(``layer_norm``, ``rms_norm``, ``add_layer_norm``, ``add_rms_norm``,
``bias_gelu``, ``attention``, ``attention_lse`` and their backward ops)
with autograd formulas that call xpuruntime's backward kernels and fake
implementations for ``torch.compile``.
:mod:`xpuruntime.torch.functional` and the modules run the same kernels
without the dispatcher's cost in eager code, and through the custom ops
while torch.compile traces. Tensors cross over through DLPack's C
exchange API without copies or Python objects per tensor; on CUDA the
kernels run on torch's current stream. Needs
the ``torch`` extra; ``import xpuruntime`` alone never imports torch.
"""

try:
    import torch as _torch  # noqa: F401
except ImportError as error:
    raise ImportError("xpuruntime.torch needs PyTorch: pip install xpuruntime[torch]") from error

from . import functional, ops  # noqa: E402,F401  (ops registers torch.ops.xpuruntime.*)
from .nn import Attention, LayerNorm, RMSNorm, TransformerEncoderLayer  # noqa: E402

__all__ = ["Attention", "LayerNorm", "RMSNorm", "TransformerEncoderLayer", "functional", "ops"]
