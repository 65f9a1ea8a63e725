"""The one reader of torch tensors into numpy for every torch source (``.pt`` zip files, TorchScript
archives, in-memory modules and state_dicts): each tensor is checked before a byte is copied.

A saved tensor is a view of a storage: its size, strides and offset come from the file, not from
the data the file holds. An expanded view (stride 0) of a one-element storage declares any size in
a few bytes, and many keys may view one large storage; copying them would allocate what the file
only declares. So each floating-point tensor must be a dense (strided) tensor with data (not on the meta device) whose elements
lie inside its storage and do not exceed it in number (no stride-0 or overlapping repetition), and
the bytes all copies take together must fit the caller's budget. Refusals are ``ModelFileError``
naming the source and the key."""

from __future__ import annotations

from typing import Any

import numpy as np

from tsilstm.errors import ModelFileError
from tsilstm.optional_packages import import_optional
from tsilstm.units import format_bytes

COPY_ITEM_BYTES = 4
"""Bytes per element of the copies made (half and bfloat16 tensors become float32)."""


def import_torch():  # type: ignore[no-untyped-def]
    """The ``torch`` module, or a ``MissingPackageError`` naming the extra that installs it."""
    return import_optional("torch", "import PyTorch models")


def tensors_to_numpy(state: dict[str, Any], source: object = "state_dict",
                     budget_bytes: int | None = None) -> dict[str, np.ndarray]:
    """The floating-point tensors of ``state`` as numpy arrays (bfloat16/half become float32); other
    entries (step counters, integer buffers) are left out. Every tensor is checked first (see module
    doc): a sparse or meta tensor, a view repeating its storage's elements or reaching past
    it, or (when ``budget_bytes`` is given) copies totalling more than ``budget_bytes`` bytes raise
    ``ModelFileError`` naming ``source`` and the key, before anything is copied."""
    torch = import_torch()
    chosen = {str(key): value for key, value in state.items()
              if isinstance(value, torch.Tensor) and value.dtype.is_floating_point}
    total_bytes = 0
    for key, tensor in chosen.items():
        total_bytes += _checked_copy_bytes(torch, tensor, source, key)
    if budget_bytes is not None and total_bytes > budget_bytes:
        raise ModelFileError(
            source, "", f"its floating-point tensors take {total_bytes} bytes ({format_bytes(total_bytes)}) as "
            f"arrays; refused before copying (the read budget is {budget_bytes} bytes)",
            "a file whose tensors are stored in it, not views repeating a few stored values",
        )
    out = {}
    for key, tensor in chosen.items():
        tensor = tensor.detach().cpu()
        if tensor.dtype != torch.float32 and tensor.dtype != torch.float64:
            tensor = tensor.float()
        out[key] = tensor.numpy().copy()
    return out


def _checked_copy_bytes(torch: Any, tensor: Any, source: object, key: str) -> int:
    """The bytes the numpy copy of ``tensor`` takes, after refusing what cannot be copied safely."""
    if tensor.layout != torch.strided:
        raise ModelFileError(source, key, f"is a {str(tensor.layout).removeprefix('torch.')} tensor",
                             "a dense (strided) tensor")
    if tensor.device.type == "meta":
        raise ModelFileError(source, key, "is a tensor on the meta device, which holds no data", "a tensor with its data")
    elements = tensor.numel()
    item_bytes = tensor.element_size()
    copy_bytes = elements * max(item_bytes, COPY_ITEM_BYTES)
    if elements == 0:
        return 0
    storage_bytes = tensor.untyped_storage().nbytes()
    shape, strides = tuple(tensor.shape), tuple(tensor.stride())
    if any(stride < 0 for stride in strides):
        raise ModelFileError(source, key, f"has negative strides {strides}", "a dense tensor")
    last_element = tensor.storage_offset() + sum((extent - 1) * stride for extent, stride in zip(shape, strides))
    if (last_element + 1) * item_bytes > storage_bytes:
        raise ModelFileError(source, key, f"views elements up to {last_element} of a storage of {storage_bytes} bytes",
                             "a tensor inside its storage")
    if elements * item_bytes > storage_bytes:
        raise ModelFileError(
            source, key, f"has shape {shape} with strides {strides}: {elements * item_bytes} bytes "
            f"({format_bytes(elements * item_bytes)}) viewed from a storage of {storage_bytes} bytes (a stride-0 or "
            "overlapping view repeats stored elements); refused before copying",
            "a tensor whose elements are stored (tensor.contiguous() before saving)",
        )
    return copy_bytes
