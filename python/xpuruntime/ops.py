"""Tensor ops. Inputs may be xpuruntime Tensors or anything ``asarray``
takes; results are Tensors on the inputs' device."""

from ._core import (
    add,
    attention,
    attention_backward,
    attention_decode,
    attention_varlen,
    attention_varlen_backward,
    gelu,
    kv_cache_append,
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
    "attention_decode",
    "attention_varlen",
    "attention_varlen_backward",
    "gelu",
    "kv_cache_append",
    "layer_norm",
    "layer_norm_backward",
    "matmul",
    "rms_norm",
    "rms_norm_backward",
    "run",
    "softmax",
]
