"""Packed weights of the torch modules, kept between calls and refreshed when the weights change.

The custom operator receives the weights as tensors on every call (so traced, compiled and
exported graphs stay pure functions of their inputs); packing them for the kernel is costly, so
the packed form is kept here under the module's stable key together with a fingerprint of the
tensors it was packed from: address, shape, strides, dtype and version counter of each. Any
in-place change through autograd-visible paths (an optimizer step, ``load_state_dict``, edits
under ``torch.no_grad()``) bumps the version counter, and ``.to()`` / ``.double()`` / new
Parameters change the address or dtype, so the next call repacks. The entry holds references to
the tensors it was packed from, so their memory cannot be reused by other tensors while the
fingerprint is compared against it.
"""

from __future__ import annotations

import threading
from collections import deque
import uuid
from dataclasses import dataclass
from typing import Any, Sequence

from tsilstm.importers.torch_state_dict import models_from_state_dict
from tsilstm.integrations.torch.framework_threads import share_torch_threads
from tsilstm.runtime import KernelOptions, RecurrentModule
from tsilstm.runtime.lstm_gru import module_class


@dataclass(frozen=True)
class KernelLayout:
    """What the flat weight list of a torch LSTM / GRU means: cell, layers, directions, projection,
    biases (torch's ``_flat_weights`` order: per layer and direction w_ih, w_hh, [b_ih, b_hh], [w_hr])."""

    cell: str
    num_layers: int
    bidirectional: bool
    proj_size: int
    has_biases: bool

    def weight_names(self) -> list[str]:
        """torch's names of the flat weights, in order."""
        names = []
        for layer in range(self.num_layers):
            for suffix in ("", "_reverse") if self.bidirectional else ("",):
                kinds = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.has_biases else [])
                kinds += ["weight_hr"] if self.proj_size else []
                names += [f"{kind}_l{layer}{suffix}" for kind in kinds]
        return names


def new_pack_key() -> str:
    """A fresh key naming one module's packed weights."""
    return uuid.uuid4().hex


def tensor_fingerprint(tensor: Any) -> tuple[Any, ...]:
    """What identifies a tensor's current contents without reading them: address, shape, strides,
    dtype and version counter (None for inference-mode tensors, which have no counter)."""
    version = None if tensor.is_inference() else tensor._version
    return (tensor.data_ptr(), tuple(tensor.shape), tuple(tensor.stride()), str(tensor.dtype), version)


@dataclass
class _Entry:
    fingerprint: tuple[Any, ...]
    tensors: tuple[Any, ...]
    runtime: RecurrentModule


_entries: dict[str, _Entry] = {}
_lock = threading.Lock()
_gone: deque[str] = deque()
"""Keys of modules that are gone, dropped at the next locked access (``forget_later`` runs from
garbage collection, possibly while this thread holds ``_lock``, so it never takes it)."""


def _sweep() -> None:
    while _gone:
        _entries.pop(_gone.popleft(), None)


def packed_runtime(key: str, layout: KernelLayout, settings: KernelOptions, weights: Sequence[Any]) -> RecurrentModule:
    """The runtime module (``tsilstm.LSTM`` / ``GRU``) holding ``weights`` packed for ``settings``:
    the one kept under ``key`` if it was packed from these very tensors in their current version,
    else a new packing (which replaces it)."""
    fingerprint = (layout, settings, tuple(tensor_fingerprint(w) for w in weights))
    with _lock:
        _sweep()
        entry = _entries.get(key)
        if entry is not None and entry.fingerprint == fingerprint:
            return entry.runtime
    share_torch_threads()
    state = {name: w.detach().float().numpy() for name, w in zip(layout.weight_names(), weights)}
    (model,) = models_from_state_dict(state, f"torch.nn.{layout.cell.upper()} weights", prefix="")
    runtime = module_class(layout.cell).from_model(model, options=settings, host="torch")
    with _lock:
        _entries[key] = _Entry(fingerprint, tuple(weights), runtime)
    return runtime


def kept_entry(key: str) -> _Entry | None:
    """What is kept under ``key``: fingerprint (layout, settings, tensor fingerprints), the tensors
    packed and the runtime module (None before the first call or after ``forget``)."""
    with _lock:
        return _entries.get(key)


def kept_runtime(key: str) -> RecurrentModule | None:
    """The runtime module kept under ``key`` (None before the first call or after ``forget``)."""
    with _lock:
        entry = _entries.get(key)
    return None if entry is None else entry.runtime


def forget_later(key: str) -> None:
    """Drop what is kept under ``key`` at the next access (safe from garbage collection)."""
    _gone.append(key)


def forget(key: str) -> None:
    """Drop what is kept under ``key`` (the next call packs again)."""
    with _lock:
        _entries.pop(key, None)
