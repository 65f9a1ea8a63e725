"""The plan checker: the dependency rule of docs/design.md section 2, full coverage, and the buffer limit."""

from __future__ import annotations

from collections import Counter

from tsilstm.errors import PlanError
from tsilstm.plan.buffer_sim import BufferStats, simulate_buffer
from tsilstm.plan.ops import FINISH, PROJECT, RESET, USE, Op, Plan


def check_plan(plan: Plan) -> BufferStats:
    """Raise ``PlanError`` (naming the op) unless ``plan`` is valid:

    * a use of W_h tile (r, c) for step t comes after row-block c finished step t-1 (with a
      projection: after the projection of step t-1); a use of W_hr tile (r, c) for step t after
      row-block c finished step t;
    * every (tile, step) pair with step in [0, T) is used exactly once, no step outside;
    * row-block r finishes step t once, after every W_x and W_h tile of row r was applied for t;
      with a projection, step t is projected once, after all its W_hr tiles;
    * the buffer never holds more than the plan's buffer bytes and every use is of a resident tile;
    * original-form GRU (``tiling.reset_before``): a use of reset-row tile ``r`` (r, c) for step t
      needs h_{t-1}[c]; row-block c's reset for step t comes once, after all its W_x and ``r``
      tiles for t; a use of ``h`` tile (r, c) for step t (update and candidate rows) needs that
      reset of row-block c; a finish also needs the row's ``r`` tiles and its reset.

    Returns the buffer statistics.
    """
    tiling = plan.tiling
    steps = plan.steps
    stats = simulate_buffer(plan)
    cols = {src: len(bounds) for src, bounds in tiling.col_bounds.items()}
    finished: set[tuple[int, int]] = set()
    projected: set[int] = set()
    resets: set[tuple[int, int]] = set()
    uses_per_row_step: Counter[tuple[str, int, int]] = Counter()
    seen: set[tuple[str, int, int, int]] = set()
    for index, op in enumerate(plan.ops):
        where = f"op {index} ({op.describe()})"
        if op.kind == USE:
            if op.nsteps < 1 or op.step < 0 or op.step + op.nsteps > steps:
                raise PlanError(f"{where}: steps outside [0, {steps})")
            for t in range(op.step, op.step + op.nsteps):
                key = (op.src, op.row, op.col, t)
                if key in seen:
                    raise PlanError(f"{where}: tile already applied for step {t}")
                seen.add(key)
                if tiling.reset_before and op.src == "h":
                    if (op.col, t) not in resets:
                        raise PlanError(f"{where}: needs the reset gate of row-block {op.col} for step {t}, not done yet")
                else:
                    _check_ready("h" if op.src == "r" else op.src, op.col, t, tiling.proj, finished, projected, where)
                uses_per_row_step[(op.src, op.row, t)] += 1
        elif op.kind == FINISH:
            if not 0 <= op.step < steps or not 0 <= op.row < tiling.row_blocks:
                raise PlanError(f"{where}: row-block or step out of range")
            if (op.row, op.step) in finished:
                raise PlanError(f"{where}: row-block finished twice for this step")
            if tiling.reset_before and (op.row, op.step) not in resets:
                raise PlanError(f"{where}: the reset gate of the row-block is not done for this step")
            _require_whole_row(where, uses_per_row_step, cols, ("x", "h", "r") if tiling.reset_before else ("x", "h"), op)
            finished.add((op.row, op.step))
        elif op.kind == RESET:
            if not tiling.reset_before or not 0 <= op.step < steps or not 0 <= op.row < tiling.row_blocks:
                raise PlanError(f"{where}: unexpected reset (original-form GRU plans only) or out of range")
            if (op.row, op.step) in resets:
                raise PlanError(f"{where}: reset gate completed twice for this step")
            _require_whole_row(where, uses_per_row_step, cols, ("x", "r"), op)
            resets.add((op.row, op.step))
        elif op.kind == PROJECT:
            if not tiling.proj or not 0 <= op.step < steps or op.step in projected:
                raise PlanError(f"{where}: unexpected projection")
            done = sum(uses_per_row_step[("p", r, op.step)] for r in range(len(tiling.proj_row_bounds)))
            if done != len(tiling.tiles("p")):
                raise PlanError(f"{where}: only {done} of {len(tiling.tiles('p'))} W_hr tiles applied")
            projected.add(op.step)
    missing_rows = tiling.row_blocks * steps - len(finished)
    if missing_rows:
        raise PlanError(f"plan ends with {missing_rows} (row-block, step) cell updates never finished")
    if tiling.proj and len(projected) != steps:
        raise PlanError(f"plan ends with {steps - len(projected)} steps never projected")
    return stats


def _check_ready(
    src: str, col: int, step: int, proj: int, finished: set[tuple[int, int]], projected: set[int], where: str
) -> None:
    if src == "x":
        return
    if src == "p":
        if (col, step) not in finished:
            raise PlanError(f"{where}: needs m_{step} of row-block {col}, not finished yet")
        return
    if step == 0:
        return
    if proj:
        if step - 1 not in projected:
            raise PlanError(f"{where}: needs the projection of step {step - 1}, not done yet")
    elif (col, step - 1) not in finished:
        raise PlanError(f"{where}: needs h_{step - 1} of row-block {col}, not finished yet")


def _require_whole_row(where: str, uses: dict, cols: dict, sources: tuple[str, ...], op: Op) -> None:
    """Every tile of ``op``'s row-block in each of ``sources`` was applied for ``op``'s step."""
    for src in sources:
        if uses[(src, op.row, op.step)] != cols[src]:
            raise PlanError(f"{where}: only {uses[(src, op.row, op.step)]} of {cols[src]} W_{src} tiles of the row "
                            "applied for this step")
