"""Running one packed layer direction over a sequence with the native kernel (which hoists the
input projection itself, then runs the recurrence), in time chunks that bound the memory of the
hoisted part."""

from __future__ import annotations

import numpy as np

from tsilstm.runtime import kernel_abi
from tsilstm.runtime.kernel_abi import (
    CELL_CODES,
    ISAS,
    LENGTHS_ARGUMENT,
    MAX_KERNEL_BATCH,
    STATIC_ARGUMENTS,
    VARIANT_CODES,
    WEIGHT_DTYPE_CODES,
)
from tsilstm.runtime.packing import PackedDirection

TEAM_HOST = "torch"
"""The host framework whose own OpenMP threads a call from inside it runs on when they are registered
(``worker_threads.share_framework_threads``): torch runs its operators on OpenMP; ONNX Runtime has
a thread pool of its own."""
GX_CHUNK_BYTES = 64 * 1024 * 1024
"""Upper bound on the hoisted input part held at once (bytes); longer sequences run in time chunks."""


def kernel_module():  # type: ignore[no-untyped-def]
    """The compiled extension ``tsilstm.runtime._kernel``."""
    return kernel_abi.kernel


def available_isas() -> tuple[str, ...]:
    """Instruction sets of the tile product this CPU runs; the last one is the kernel's default."""
    return tuple(kernel_module().isa_names())


def run_packed(
    packed: PackedDirection,
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
    *,
    isa: str | None = None,
    schedule: str | None = None,
    threads: int | None = None,
    linger: bool = True,
    team: bool = False,
    lengths: np.ndarray | None = None,
    chunk_bytes: int = GX_CHUNK_BYTES,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run ``packed`` forward over ``x`` (T, N, X), from states ``h0`` (N, P) and ``c0`` (N, H),
    with ``schedule`` (one of the packed programs; default: the primary one) on ``threads`` (one of
    ``packed.thread_options``; default: ``packed.threads``), in time chunks whose hoisted input part
    takes at most ``chunk_bytes``. ``linger``: the kernel's workers spin a while after the call and
    bind to CPUs away from the caller's (fast hand-offs for a stream of calls); False when called
    from inside a framework whose own threads need the cores between calls (they sleep at once).
    ``team``: the call's threads are the calling framework's own OpenMP team when one is registered
    (``worker_threads.share_framework_threads``; torch), else the kernel's workers.
    ``lengths`` (N,) int32 in [0, T], None for all T: sequence n runs ``lengths[n]`` steps in the
    same kernel call; beyond them its state is carried, so its final states are those of its own
    last step and ``y`` beyond its length holds that state again (the caller zeroes it if needed).

    Every array must already be checked by the caller (float32, right shapes); returns
    (y (T, N, P), h_T (N, P), c_T (N, H) or None), all float32.
    """
    steps, batch, _ = x.shape
    schedule = schedule or packed.program.schedule
    static = static_arguments(packed, schedule, isa, threads or packed.threads, linger, team)
    if batch <= MAX_KERNEL_BATCH:  # one kernel call's batch: no slices to gather
        return _run_slice(packed, x, h0, c0, static, schedule, chunk_bytes, lengths)
    y = np.empty((steps, batch, packed.recurrent), dtype=np.float32)
    h_last = np.empty((batch, packed.recurrent), dtype=np.float32)
    c_last = np.empty((batch, packed.hidden), dtype=np.float32) if packed.spec.has_cell_state else None
    for n0 in range(0, batch, MAX_KERNEL_BATCH):
        n1 = min(batch, n0 + MAX_KERNEL_BATCH)
        y_part, h_part, c_part = _run_slice(
            packed, np.ascontiguousarray(x[:, n0:n1]), h0[n0:n1], None if c0 is None else c0[n0:n1], static, schedule,
            chunk_bytes, None if lengths is None else lengths[n0:n1],
        )
        y[:, n0:n1] = y_part
        h_last[n0:n1] = h_part
        if c_last is not None:
            c_last[n0:n1] = c_part
    return y, h_last, c_last


def static_arguments(packed: PackedDirection, schedule: str, isa: str | None, threads: int,
                      linger: bool, team: bool = False) -> tuple[object, ...]:
    """The kernel arguments that do not change from call to call for ``packed`` run with
    ``schedule`` on ``isa`` and ``threads`` (workers lingering or not, on a framework's team or not), built by name and put in the
    kernel's order (``kernel_abi.STATIC_ARGUMENTS``, exported by the kernel), kept with the packed
    direction: a call only adds its data (``kernel_abi.CALL_ARGUMENTS``, by position)."""
    key = (schedule, isa, threads, linger, team)
    found = packed.call_arguments.get(key)
    if found is None:
        named = static_argument_values(packed, schedule, isa, threads, linger, team)
        found = packed.call_arguments[key] = tuple(named[name] for name in STATIC_ARGUMENTS)
    return found


def static_argument_values(packed: PackedDirection, schedule: str, isa: str | None, threads: int,
                           linger: bool, team: bool = False) -> dict[str, object]:
    """The kernel's unchanging arguments for ``packed`` by name (the names of STATIC_ARGUMENTS)."""
    program = packed.programs[schedule]
    ops, op_start = packed.op_lists[(schedule, threads)]
    return {
        "cell": CELL_CODES[packed.cell], "variant": VARIANT_CODES[packed.variant], "hidden": packed.hidden,
        "recurrent": packed.recurrent, "proj": packed.proj, "tile": packed.tile, "threads": threads,
        "period": program.period, "ops": ops, "op_start": op_start, "weights": packed.weights,
        "input": packed.input_size, "wx": packed.wx, "xoff": packed.xoff, "bias_x": packed.bias_x,
        "bias_h": packed.bias_h, "isa": -1 if isa is None else ISAS.index(isa),
        "weight_dtype": WEIGHT_DTYPE_CODES[packed.dtype], "activations": packed.options.activations,
        "clip": packed.options.clip, "input_forget": packed.options.input_forget,
        "peepholes": packed.options.peepholes, "input_weight_dtype": WEIGHT_DTYPE_CODES[packed.input_dtype],
        "linger": linger, "team": team,
    }


def _run_slice(packed: PackedDirection, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None,  # type: ignore[no-untyped-def]
               static: tuple[object, ...], schedule: str, chunk_bytes: int, lengths: np.ndarray | None = None):
    kernel = kernel_module()
    steps, batch, _ = x.shape
    width = packed.bias_x.size  # row-blocks x padded gate rows: the hoisted floats per (step, sequence)
    chunk = max(2, chunk_bytes // (4 * batch * width))
    chunk -= chunk % 2  # even chunks keep tsi's step pairs aligned across chunks
    y = np.empty((steps, batch, packed.recurrent), dtype=np.float32)
    h = np.ascontiguousarray(h0, dtype=np.float32)
    c = np.array(c0, dtype=np.float32, copy=True) if c0 is not None else np.zeros((1,), dtype=np.float32)
    program = packed.programs[schedule]
    for t0 in range(0, steps, chunk):
        t1 = min(steps, t0 + chunk)
        y_part = y[t0:t1]
        sweeps = program.sweeps(t1 - t0)
        x_part = x[t0:t1] if t0 or t1 < steps else x
        if lengths is None:
            kernel.run_direction(batch, t1 - t0, sweeps.start, sweeps.stop - 1, x_part, h, y_part, c, *static)
        else:
            chunk_lengths = np.ascontiguousarray(np.clip(lengths - t0, 0, t1 - t0), dtype=np.int32)
            kernel.run_direction(batch, t1 - t0, sweeps.start, sweeps.stop - 1, x_part, h, y_part, c, *static,
                                 **{LENGTHS_ARGUMENT: chunk_lengths})
        h = y_part[-1]
    return y, np.array(h, copy=True), (c if c0 is not None else None)
