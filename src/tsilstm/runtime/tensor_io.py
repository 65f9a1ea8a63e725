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


def tensor_without_dense_data(value: Any) -> str | None:
    """What keeps the torch tensor ``value`` from being read as a dense array (a meta tensor has no
    data; sparse, mkldnn and nested tensors are not laid out with strides), or None when it can be."""
    if value.device.type == "meta":
        return "a meta tensor (it has a shape but no data)"
    if getattr(value, "is_nested", False):
        return "a nested tensor"
    layout = str(value.layout).removeprefix("torch.")
    if layout != "strided":
        return f"a tensor of layout {layout}"
    return None


def require_dense_tensor(value: Any, name: str) -> None:
    """Raise ``InvalidParameterError`` naming ``name`` when the torch tensor ``value`` has no dense
    strided data to read (``tensor_without_dense_data``)."""
    problem = tensor_without_dense_data(value)
    if problem is not None:
        raise InvalidParameterError(name, problem, "must be a dense (strided) tensor with data: call .to_dense(), or "
                                    "materialize a meta tensor, before passing it")


def to_float32_array(value: Any, name: str) -> np.ndarray:
    """``value`` (numpy array, array-like or torch tensor) as a C-contiguous float32 array.

    Floating-point inputs of any width are converted; integer, boolean, complex or object data, and
    torch tensors without dense data (meta, sparse, mkldnn, nested), are rejected with an error
    naming ``name``.
    """
    if is_torch_tensor(value):
        require_dense_tensor(value, name)
        if value.requires_grad:
            value = value.detach()
        if not value.dtype.is_floating_point:
            raise InvalidParameterError(name, str(value.dtype), "must be a floating-point tensor")
        value = _tensor_to_numpy(value.to("cpu").float(), name)
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
        require_dense_tensor(value, name)
        value = _tensor_to_numpy(value.detach().to("cpu"), name)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(name, type(value).__name__, f"must be an array of whole numbers ({error})") from None
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise InvalidParameterError(name, str(array.dtype), "must hold whole numbers")
    return array.astype(np.int64)


def _tensor_to_numpy(value: Any, name: str) -> np.ndarray:
    """The CPU torch tensor ``value`` as numpy; a tensor subclass that has no numpy view (e.g. a
    fake or functional tensor) is an ``InvalidParameterError`` naming ``name``, not torch's error."""
    try:
        return value.numpy()
    except (RuntimeError, TypeError, NotImplementedError) as error:
        raise InvalidParameterError(name, type(value).__name__, f"must be a tensor numpy can read ({error})") from None
