"""A call of one shape made again, the short way: the kernel calls of a forward-only layer stack
prepared once, so a repeated call (a stream of one-frame calls, above all) costs the kernel's time
and a few microseconds, not the general path's bookkeeping.

The general forward pass (``RecurrentModule._forward`` -> ``run_model`` -> ``run_packed``) checks and
converts its arguments, asks each layer for its schedule and threads, builds the kernel's argument
tuple and slices time into chunks on every call: ~120 us a call of a two-layer GRU 256 on the
2-vCPU AMD EPYC of 2026-12-05, where the kernel itself takes 2 x 53 us (one thread; a scratch
script timing ``tsilstm.GRU(256, 256, num_layers=2, schedule="tsi", threads=1)`` on one step
against ``_kernel.run_direction`` with the same arguments). A ``CallPlan`` holds, for one input
shape, what those steps decide (each layer's static kernel arguments and sweep range) and only
runs the kernel calls. It computes exactly what the general path computes (the same kernel calls
with the same arguments, in the same order); it is built only after the general path ran that
shape and every layer's choice for it is settled (``LayerRun.settled``), and is dropped when a
layer's choice changes (``LayerRun.generation``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsilstm.runtime.execution import GX_CHUNK_BYTES, kernel_module, static_arguments
from tsilstm.runtime.infinite_inputs import has_infinity
from tsilstm.runtime.kernel_abi import MAX_KERNEL_BATCH

MAX_PLANS = 16
"""Input shapes a module keeps a plan for; more distinct shapes clear them (the general path still
runs any shape)."""


@dataclass(frozen=True)
class LayerCall:
    """One layer's kernel call in a plan: its static arguments and its sweep range."""

    static: tuple[object, ...]
    sweep_first: int
    sweep_last: int
    width: int
    """Units of its output (the recurrent state: the projection when there is one)."""
    hidden: int
    """Units of its cell state."""


@dataclass(frozen=True)
class CallPlan:
    """The kernel calls of one input shape (T, N, X) through a forward-only stack (see the module
    docstring); ``run`` returns what the general path returns, or None when the call has to take
    the general path after all (an int8 stack given infinities)."""

    shape: tuple[int, int, int]
    layers: tuple[LayerCall, ...]
    generations: tuple[int, ...]
    """Each layer's ``LayerRun.generation`` when planned: the plan holds while they are unchanged."""
    with_cell_state: bool
    check_infinity: bool
    """int8 weights: input with infinities takes the general path (its finite stand-in)."""

    def run(self, x: np.ndarray, h0: np.ndarray | None, c0: np.ndarray | None) -> tuple[Any, Any, Any] | None:
        """Run the stack on ``x`` (exactly ``shape``, float32, C-contiguous) from ``h0`` (L, N, P)
        and ``c0`` (L, N, H) (float32, C-contiguous, or None for zeros); returns (y (T, N, P_last),
        h_n (L, N, P), c_n (L, N, H) or None) as the general path would, or None (see the class)."""
        kernel = kernel_module()
        steps, batch, _ = self.shape
        depth = len(self.layers)
        width = self.layers[-1].width
        h_n = np.empty((depth, batch, width), dtype=np.float32)
        if self.with_cell_state:  # the kernel carries c in place: the copy becomes c_n
            c_n = np.zeros((depth, batch, self.layers[0].hidden), dtype=np.float32) if c0 is None else c0.copy()
        else:
            c_n = None
            spare = np.zeros((1,), dtype=np.float32)
        if h0 is None:
            h0 = np.zeros((depth, batch, width), dtype=np.float32)
        layer_in = x
        for index, call in enumerate(self.layers):
            if self.check_infinity and has_infinity(layer_in):
                return None
            y = np.empty((steps, batch, call.width), dtype=np.float32)
            kernel.run_direction(batch, steps, call.sweep_first, call.sweep_last, layer_in, h0[index], y,
                                 spare if c_n is None else c_n[index], *call.static)
            h_n[index] = y[-1]
            layer_in = y
        return layer_in, h_n, c_n


def plannable(x: Any, uniform_states: bool, forward_only: bool, batch_first: bool) -> bool:
    """Whether calls of ``x``'s shape can have a plan: batched time-major (T, N, X) float32 input of
    at most one kernel call's batch, through a forward-only stack with one state size, whose
    hoisted input part fits one time chunk (as ``run_packed`` slices time)."""
    return (isinstance(x, np.ndarray) and x.ndim == 3 and x.dtype == np.float32 and uniform_states and forward_only
            and not batch_first and 0 < x.shape[1] <= MAX_KERNEL_BATCH and x.shape[0] > 0)


def fits_one_chunk(steps: int, batch: int, hoisted_width: int) -> bool:
    """Whether ``steps`` steps of ``batch`` sequences run in one time chunk of ``run_packed`` (whose
    hoisted input part takes ``hoisted_width`` floats per step and sequence)."""
    return steps <= max(2, GX_CHUNK_BYTES // (4 * batch * hoisted_width))


def layer_call(packed: Any, schedule: str, isa: str | None, threads: int, linger: bool, team: bool,
               steps: int) -> LayerCall:
    """The kernel call of one layer (``packed``, a PackedDirection) running ``schedule`` on ``isa``
    and ``threads`` over ``steps`` steps in one chunk, workers lingering or not, on a framework's
    team or not (``execution.run_packed``)."""
    sweeps = packed.programs[schedule].sweeps(steps)
    return LayerCall(static_arguments(packed, schedule, isa, threads, linger, team), sweeps.start, sweeps.stop - 1,
                     packed.recurrent, packed.hidden)
