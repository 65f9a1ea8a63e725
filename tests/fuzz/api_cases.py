"""Generated cases for the public API fuzz tests: hypothesis strategies for a model and a call
(cell, sizes, layers, directions, projection, schedule, threads, tile, dtype, memory layout,
states, NaN), the rule saying whether the case is valid, and the comparison with the reference.

A valid case must equal the float64 numpy reference (``tsilstm.cells.run_reference``) within
``TOLERANCE`` with NaN exactly where the reference has NaN; an invalid one must raise
``tsilstm.errors.TsilstmError``. Anything else (another exception, a crash, a hang) fails.
"""

from __future__ import annotations

import faulthandler
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from hypothesis import strategies as st

from tsilstm.runtime import RUNTIME_SCHEDULES

TOLERANCE = 1e-4
"""Max abs difference to the float64 reference allowed for the fp32 kernel (the runtime tests' bound)."""
CASE_TIMEOUT_S = 120.0
"""A case running longer than this is a hang: faulthandler dumps every thread's stack and exits."""
MAX_TILE = 1024
"""Largest tile the runtime accepts (runtime/modules.py: tile <= min(hidden, 1024))."""
BAD_SCHEDULES = ("naive", "fast", "", "TSI")
"""Schedule names the runtime must refuse (naive does not hoist W_x; the others do not exist)."""
DTYPES = ("float32", "float64", "float16", "int32", "int64", "bool")
LAYOUTS = ("contiguous", "batch_first", "fortran", "strided", "readonly", "unbatched")
"""Memory layouts of the input: C order, batch-first module, Fortran order, a non-contiguous
slice (every other step and feature of a larger array), a read-only array, a 2-D unbatched input."""


@dataclass(frozen=True)
class ModelCase:
    """A module to build: its cell, sizes and the runtime options."""

    cell: str
    input_size: int
    hidden: int
    layers: int
    bidirectional: bool
    proj: int
    schedule: str
    threads: int
    tile: int | None
    exact_threads: bool
    seed: int

    @property
    def valid(self) -> bool:
        """True when the runtime must accept these options."""
        tile_ok = self.tile is None or 1 <= self.tile <= min(self.hidden, MAX_TILE)
        return self.schedule in RUNTIME_SCHEDULES and 1 <= self.threads <= 256 and tile_ok

    @property
    def recurrent(self) -> int:
        """Width of h: proj if set, else hidden."""
        return self.proj or self.hidden

    @property
    def states(self) -> int:
        """Layers x directions."""
        return self.layers * (2 if self.bidirectional else 1)


@dataclass(frozen=True)
class CallCase:
    """One call: input shape, dtype and layout, given states, NaN injection."""

    steps: int
    batch: int
    dtype: str
    layout: str
    with_state: bool
    state_layout: str
    bad_state_shape: bool
    nan_at: tuple[int, int] | None
    seed: int

    def valid(self) -> bool:
        """True when the runtime must accept this call (float input, at least one step, right states)."""
        return self.dtype.startswith("float") and self.steps >= 1 and not self.bad_state_shape


@st.composite
def model_cases(draw: st.DrawFn, cells: tuple[str, ...] = ("lstm", "gru")) -> ModelCase:
    """A model: sizes 1..300 (mostly not multiples of the tile), 1..3 layers, directions, projection,
    every runtime schedule (and a few names it must refuse), 1..5 threads (0 now and then), tile."""
    cell = draw(st.sampled_from(cells))
    hidden = draw(st.one_of(st.integers(1, 80), st.integers(81, 300)))
    proj = draw(st.integers(1, hidden - 1)) if (cell == "lstm" and hidden > 1 and draw(st.booleans())) else 0
    # about one case in ten per option is out of range and must be refused
    bad = lambda: draw(st.integers(0, 9)) == 0  # noqa: E731
    schedule = draw(st.sampled_from(BAD_SCHEDULES if bad() else RUNTIME_SCHEDULES))
    threads = 0 if bad() else draw(st.integers(1, 5))
    # small tiles on large layers make packing slow in Python (tiles^2 of them): at least hidden / 12
    tile = hidden + 1 if bad() else draw(st.one_of(st.none(), st.integers(max(1, hidden // 12), hidden)))
    return ModelCase(
        cell=cell,
        input_size=draw(st.integers(1, 40)),
        hidden=hidden,
        layers=draw(st.integers(1, 3)),
        bidirectional=draw(st.booleans()),
        proj=proj,
        schedule=schedule,
        threads=threads,
        tile=tile,
        exact_threads=draw(st.booleans()),
        seed=draw(st.integers(0, 2**31 - 1)),
    )


@st.composite
def call_cases(draw: st.DrawFn, max_steps: int = 60) -> CallCase:
    """A call: 0..max_steps steps, batch 1..9, any dtype and layout, optional (odd-layout) states."""
    steps = draw(st.integers(0, max_steps))
    batch = draw(st.integers(1, 9))
    nan = draw(st.booleans()) and draw(st.booleans())  # a quarter of the cases carry one NaN
    return CallCase(
        steps=steps,
        batch=batch,
        dtype=draw(st.sampled_from(DTYPES[:3] * 5 + DTYPES[3:])),
        layout=draw(st.sampled_from(LAYOUTS)),
        with_state=draw(st.booleans()),
        state_layout=draw(st.sampled_from(("contiguous", "fortran", "strided", "readonly", "float64"))),
        bad_state_shape=draw(st.integers(0, 15)) == 0,
        nan_at=(draw(st.integers(0, max(0, steps - 1))), draw(st.integers(0, batch - 1))) if nan and steps else None,
        seed=draw(st.integers(0, 2**31 - 1)),
    )


def laid_out(array: np.ndarray, layout: str) -> np.ndarray:
    """``array`` with the same values in ``layout`` (see LAYOUTS; batch_first/unbatched are
    handled by the caller and give C order here)."""
    if layout == "fortran":
        return np.asfortranarray(array)
    if layout == "strided":
        big = np.zeros(tuple(2 * n for n in array.shape), dtype=array.dtype)
        view = big[tuple(slice(None, None, 2) for _ in array.shape)]
        view[...] = array
        return view
    if layout == "readonly":
        out = array.copy()
        out.flags.writeable = False
        return out
    return np.ascontiguousarray(array)


def make_input(model: ModelCase, call: CallCase) -> tuple[np.ndarray, np.ndarray]:
    """(input as given to the module, the same values (T, N, X) in float64 for the reference)."""
    rng = np.random.default_rng(call.seed)
    batch = 1 if call.layout == "unbatched" else call.batch
    values = rng.standard_normal((call.steps, batch, model.input_size))
    if call.dtype.startswith("int") or call.dtype == "bool":
        values = np.round(values)
    if call.nan_at is not None and call.dtype.startswith("float"):
        values[call.nan_at[0], min(call.nan_at[1], batch - 1), 0] = np.nan
    typed = values.astype(call.dtype)
    reference = typed.astype(np.float64)
    if call.layout == "unbatched":
        return laid_out(typed[:, 0], "contiguous"), reference
    if call.layout == "batch_first":
        return np.ascontiguousarray(typed.transpose(1, 0, 2)), reference
    return laid_out(typed, call.layout), reference


def make_states(model: ModelCase, call: CallCase) -> tuple[np.ndarray | None, np.ndarray | None]:
    """h_0 and c_0 (None: zeros) in float32 or float64, in the call's state layout (unbatched
    inputs take 2-D states; a wrong batch now and then)."""
    if not call.with_state and not call.bad_state_shape:
        return None, None
    rng = np.random.default_rng(call.seed + 1)
    batch = call.batch + (1 if call.bad_state_shape else 0)
    dtype = np.float64 if call.state_layout == "float64" else np.float32
    h0 = rng.standard_normal((model.states, batch, model.recurrent)).astype(dtype)
    c0 = rng.standard_normal((model.states, batch, model.hidden)).astype(dtype)
    if call.layout == "unbatched":
        h0, c0 = h0[:, 0], c0[:, 0]
        if call.bad_state_shape:
            h0 = h0[:, :-1] if model.recurrent > 1 else h0[:1, None]
    layout = "contiguous" if call.state_layout == "float64" else call.state_layout
    return laid_out(h0, layout), (laid_out(c0, layout) if model.cell == "lstm" else None)


def assert_matches(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    """``got`` has ``expected``'s shape, NaN exactly where it has NaN, and is within TOLERANCE elsewhere."""
    got = np.asarray(got)
    assert got.shape == expected.shape, f"{what}: shape {got.shape} != {expected.shape}"
    assert got.dtype == np.float32, f"{what}: dtype {got.dtype}"
    nan_ref, nan_got = np.isnan(expected), np.isnan(got)
    assert np.array_equal(nan_ref, nan_got), f"{what}: NaN at {np.argwhere(nan_got != nan_ref)[:5].tolist()} (got vs reference)"
    assert np.all(np.isfinite(got[~nan_got])), f"{what}: infinite values"
    if (~nan_ref).any():
        error = float(np.abs(got[~nan_ref] - expected[~nan_ref]).max())
        assert error <= TOLERANCE, f"{what}: max abs error {error:.3g} > {TOLERANCE}"


@contextmanager
def hang_guard(timeout_s: float = CASE_TIMEOUT_S) -> Iterator[None]:
    """Fail hard on a hang: after ``timeout_s`` faulthandler prints every thread's stack to stderr
    and ends the process (a native call cannot be interrupted from Python)."""
    faulthandler.dump_traceback_later(timeout_s, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@contextmanager
def thread_policy(exact: bool) -> Iterator[None]:
    """With ``exact``, run the requested thread count even on small layers (the runtime otherwise
    caps threads by weight bytes, runtime/modules.py MIN_WEIGHT_BYTES_PER_THREAD)."""
    from tsilstm.runtime import modules

    saved = modules.MIN_WEIGHT_BYTES_PER_THREAD
    if exact:
        modules.MIN_WEIGHT_BYTES_PER_THREAD = 0
    try:
        yield
    finally:
        modules.MIN_WEIGHT_BYTES_PER_THREAD = saved
