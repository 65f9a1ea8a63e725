"""Checks of the tensors the torch modules receive: CPU, floating point, the right shape."""

from __future__ import annotations

from typing import Any

import torch

from tsilstm.errors import InvalidParameterError
from tsilstm.runtime.tensor_io import require_dense_tensor


COMMON_FLOAT_DTYPES = frozenset({torch.float32, torch.float16, torch.bfloat16, torch.float64})
"""The floating dtypes a plain tensor passes ``check_cpu_float`` with at a glance (a module's
per-call fast path tests these inline; any other tensor goes through the full check)."""


def check_cpu_float(value: Any, name: str) -> torch.Tensor:
    """``value`` if it is a dense floating-point tensor on the CPU, else an error naming ``name``
    (meta, sparse, mkldnn and nested tensors have no dense data to read; for tensors on another
    device the error names it: the kernel runs on the CPU only)."""
    if not isinstance(value, torch.Tensor):
        raise InvalidParameterError(name, type(value).__name__, "must be a torch.Tensor")
    require_dense_tensor(value, name)
    if value.device.type != "cpu":
        raise InvalidParameterError(name, f"a tensor on device {value.device}",
                                    "must be on the CPU: tsilstm runs on the CPU only (use .cpu(), or torch.nn.LSTM/GRU on this device)")
    if not value.dtype.is_floating_point:
        raise InvalidParameterError(name, str(value.dtype), "must be a floating-point tensor (float16, bfloat16, float32 or float64)")
    return value


def check_shape(value: torch.Tensor, name: str, shape: tuple[int, ...]) -> torch.Tensor:
    """``value`` if its shape is ``shape``, else an error naming ``name`` and the shape expected."""
    if tuple(value.shape) != tuple(shape):
        raise InvalidParameterError(name, tuple(value.shape), f"must have shape {tuple(shape)}")
    return value
