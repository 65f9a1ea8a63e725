"""Replay every schedule over a model and compare with the reference cell (docs/design.md section 4)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from tsilstm.cells.stack import run_model, run_reference
from tsilstm.model import RecurrentLayer, RecurrentModel
from tsilstm.errors import internal_check
from tsilstm.plan.checker import check_plan
from tsilstm.plan.expand import expand
from tsilstm.plan.generate import make_program, make_tiling
from tsilstm.plan.ops import Plan
from tsilstm.plan.replay import replay_runner
from tsilstm.plan.tiling import Tiling

TOLERANCE = {"float32": 1e-5, "float64": 1e-12}
"""Max abs error allowed between replay and reference on unit-scale data (docs/design.md section 4)."""


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of replaying one schedule on one model against the reference."""

    schedule: str
    executed_schedule: str
    cell: str
    max_abs_error: float
    tolerance: float
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the error is within tolerance (and finite)."""
        return bool(np.isfinite(self.max_abs_error)) and self.max_abs_error <= self.tolerance


def verify_schedule(
    model: RecurrentModel,
    x: np.ndarray,
    schedule: str,
    *,
    tile: int | None,
    buffer_bytes: int,
    dtype: str = "float32",
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    tolerance: float | None = None,
) -> VerifyResult:
    """Check and replay ``schedule`` on every layer direction of ``model`` over ``x`` (T, N, X) in
    ``dtype`` and return the largest absolute difference to the reference over output, h_n, c_n."""
    np_dtype = np.float32 if dtype == "float32" else np.float64
    x = np.asarray(x, dtype=np_dtype)
    notes: list[str] = []
    executed: list[str] = []
    make_plan = checked_plan_maker(
        schedule, dtype, lambda layer: None if tile is None else min(tile, layer.hidden_size),
        lambda tiling: max(buffer_bytes, tiling.max_tile_bytes), executed, notes,
    )
    got = run_model(model, x, h0, c0, replay_runner(make_plan))
    want = run_reference(model, x.astype(np.float64), h0, c0)  # ground truth in fp64
    error = max(float(np.max(np.abs(a - b))) for a, b in zip(got, want) if a is not None)
    if not np.isfinite(error):
        error = float("inf")
    limit = TOLERANCE[dtype] if tolerance is None else tolerance
    ran = executed[0] if len(set(executed)) == 1 else "+".join(sorted(set(executed)))
    return VerifyResult(schedule, ran, model.cell, error, limit, tuple(notes))


def checked_plan_maker(
    schedule: str, dtype: str, tile_of: Callable[[RecurrentLayer], int | None], buffer_of: Callable[[Tiling], int],
    executed: list[str], notes: list[str],
) -> Callable[[RecurrentLayer, int, int], Plan]:
    """A plan maker for ``replay_runner``: the plan of ``schedule`` for a layer (tile ``tile_of(layer)``,
    buffer ``buffer_of(tiling)`` bytes, weights of ``dtype``) over (steps, batch), checked (a broken
    rule is an internal error); the executed schedule and the generator's notes are appended to
    ``executed`` and ``notes``."""

    def make_plan(layer: RecurrentLayer, steps: int, batch: int) -> Plan:
        tiling = make_tiling(layer.hidden_size, layer.input_size, tile=tile_of(layer), cell=layer.cell,
                             proj_size=layer.proj_size, dtype=dtype)
        program = make_program(schedule, tiling, buffer_of(tiling), variant=layer.variant)
        plan = expand(program, steps, batch)
        with internal_check(f"the generated {program.schedule} plan"):
            check_plan(plan)
        executed.append(program.schedule)
        notes.extend(n for n in program.notes if n not in notes)
        return plan

    return make_plan
