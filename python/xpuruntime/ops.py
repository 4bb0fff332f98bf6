"""Tensor ops. Inputs may be xpuruntime Tensors or anything ``asarray``
takes; results are Tensors on the inputs' device."""

from ._core import (
    add,
    attention,
    attention_backward,
    gelu,
    layer_norm,
    layer_norm_backward,
    matmul,
    rms_norm,
    rms_norm_backward,
    run,
    softmax,
)

__all__ = [
    "add",
    "attention",
    "attention_backward",
    "gelu",
    "layer_norm",
    "layer_norm_backward",
    "matmul",
    "rms_norm",
    "rms_norm_backward",
    "run",
    "softmax",
]
