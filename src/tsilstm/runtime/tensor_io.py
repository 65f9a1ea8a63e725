"""Conversion of call arguments to float32 numpy arrays, and back to torch tensors when the caller
gave tensors; torch is never imported unless the caller already passed a tensor."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from tsilstm.errors import InvalidParameterError


def is_torch_tensor(value: Any) -> bool:
    """True when ``value`` is a torch.Tensor (checked without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def to_float32_array(value: Any, name: str) -> np.ndarray:
    """``value`` (numpy array, array-like or torch tensor) as a C-contiguous float32 array.

    Floating-point inputs of any width are converted; integer, boolean, complex or object data is
    rejected with an error naming ``name``.
    """
    if is_torch_tensor(value):
        if value.requires_grad:
            value = value.detach()
        if not value.dtype.is_floating_point:
            raise InvalidParameterError(name, str(value.dtype), "must be a floating-point tensor")
        value = value.to("cpu").float().numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(name, type(value).__name__, f"must be a numeric array ({error})") from None
    if array.dtype.kind != "f":
        raise InvalidParameterError(name, str(array.dtype), "must be a floating-point array (float16/32/64)")
    return np.ascontiguousarray(array, dtype=np.float32)


def from_numpy_like(array: np.ndarray) -> Any:
    """``array`` as a torch tensor (torch is already imported: the caller passed a tensor)."""
    torch = sys.modules["torch"]
    return torch.from_numpy(np.ascontiguousarray(array))


def to_int_array(value: Any, name: str) -> np.ndarray:
    """``value`` (numpy array, sequence or torch tensor of whole numbers) as an int64 array; other
    data (floats with a fraction, booleans, objects) is rejected with an error naming ``name``."""
    if is_torch_tensor(value):
        value = value.detach().to("cpu").numpy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(name, type(value).__name__, f"must be an array of whole numbers ({error})") from None
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise InvalidParameterError(name, str(array.dtype), "must hold whole numbers")
    return array.astype(np.int64)
