"""The repeated eager inference call of a converted module, the short way: straight to the kernel
calls planned for its shape (``runtime.call_plan``), without the operator's dispatch.

A one-frame call of a converted two-layer GRU 256 went through the module's checks, torch's
custom-operator dispatch, the weights' fingerprint and the runtime's general path: 750 us a call
on the 2-vCPU AMD EPYC of 2026-12-05, where torch's own GRU took 460 us and the kernel 2 x 53 us
(one thread; a scratch script timing ``convert(m).rnn(x, h)`` and each layer below it). So with
``auto`` the in-place trial kept torch's. The operator stays what compiled, traced and exported
graphs record and what runs whenever gradients may be needed; an eager call under
``torch.no_grad()`` / ``torch.inference_mode()`` of the shape, threads and settings of an earlier
kernel call, with the very weight tensors that were packed, unchanged (address and version
counter), and states of the expected shapes, runs the plan directly: the same kernel calls with
the same arguments, so the same results. Anything else takes the full path, which then checks
and says what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from tsilstm.integrations.torch.pack_cache import kept_entry, tensor_fingerprint
from tsilstm.runtime.call_plan import CallPlan

Tensor = torch.Tensor


@dataclass(frozen=True)
class FastCall:
    """What a repeated call must match to take the short way, and the plan it then runs."""

    shape: torch.Size
    threads: int
    settings: Any
    """The module's ``kernel_settings`` object (compared by identity)."""
    runtime: Any
    plan: CallPlan
    names: tuple[str, ...]
    weights: tuple[Tensor, ...]
    marks: tuple[tuple[int, int | None], ...]
    """(address, version counter) of each weight when packed (inference tensors have no counter:
    None, as in the packed weights' fingerprint)."""
    state_shapes: tuple[tuple[int, ...], ...]


def prepare(module: Any, input: Tensor) -> FastCall | None:
    """A FastCall for calls like the eager kernel call of ``module`` on ``input`` that just ran
    (time-major float32 (T, N, X)), or None when such calls cannot take the short way (no plan,
    a parametrized module, weights changed since)."""
    if "parametrizations" in module._modules or input.dim() != 3 or module.batch_first:
        return None
    entry = kept_entry(module._pack_key)
    if entry is None:
        return None
    weights = tuple(module._flat_weights)
    if len(weights) != len(entry.tensors) or any(a is not b for a, b in zip(weights, entry.tensors)):
        return None
    if entry.fingerprint[2] != tuple(tensor_fingerprint(w) for w in weights):
        return None
    plan = entry.runtime.plan_for(tuple(input.shape))
    if plan is None:
        return None
    return FastCall(input.shape, torch.get_num_threads(), module.kernel_settings, entry.runtime, plan,
                    tuple(module._flat_weights_names), weights, tuple((w.data_ptr(), fingerprint[4]) for w, fingerprint in zip(weights, entry.fingerprint[2])),
                    tuple(tuple(shape) for shape in module._state_shapes(input.shape[1])))


def run(module: Any, fast: FastCall, input: Any, hx: Any) -> Any:
    """``module(input, hx)`` by ``fast``'s plan when the call matches it (see the module docstring),
    in torch's return form; None when it must take the full path."""
    if (type(input) is not Tensor or input.shape != fast.shape or torch.is_grad_enabled()  # noqa: E721
            or input.requires_grad or input.dtype is not torch.float32 or not input.is_cpu or input.layout is not torch.strided
            or not input.is_contiguous() or module.kernel_settings is not fast.settings
            or torch.get_num_threads() != fast.threads or torch._C._is_tracing() or torch.compiler.is_compiling()
            or (module.training and module.dropout > 0 and module.num_layers > 1)):
        return None
    parameters = module._parameters
    for name, weight, mark in zip(fast.names, fast.weights, fast.marks):
        if (parameters.get(name) is not weight or weight.data_ptr() != mark[0]
                or (mark[1] is not None and weight._version != mark[1])):
            return None
    states = _states(hx, fast.state_shapes)
    if states is None:
        return None
    result = fast.runtime.run_plan(fast.plan, input.numpy(), *states)
    if result is None:
        return None
    out, h_n, c_n = result
    if c_n is None:
        return torch.from_numpy(out), torch.from_numpy(h_n)
    return torch.from_numpy(out), (torch.from_numpy(h_n), torch.from_numpy(c_n))


def _states(hx: Any, shapes: tuple[tuple[int, ...], ...]) -> tuple[np.ndarray | None, np.ndarray | None] | None:
    """(h0, c0) as arrays for the plan, from ``hx`` (None, a tensor, or a pair for an LSTM) of
    exactly ``shapes``; None when they are anything else."""
    if hx is None:
        return None, None
    if len(shapes) == 1:
        given: tuple[Any, ...] = (hx,) if type(hx) is Tensor else ()  # noqa: E721 - (a GRU's h_0: one tensor)
    else:
        given = tuple(hx) if isinstance(hx, (tuple, list)) else ()
    if len(given) != len(shapes):
        return None
    arrays = []
    for state, shape in zip(given, shapes):
        if (type(state) is not Tensor or state.dtype is not torch.float32 or state.shape != shape  # noqa: E721
                or state.requires_grad or not state.is_cpu or state.layout is not torch.strided
                or not state.is_contiguous()):
            return None
        arrays.append(state.numpy())
    return (arrays[0], arrays[1] if len(arrays) == 2 else None)
