"""Weight DRAM bytes of a program over T steps, in closed form per schedule.

This is the cost model's own derivation of the weight traffic. It reads the schedule's decisions
(which tiles are pinned, which a snake step carries over) from the ``Program`` and counts with
formulas; it never expands or replays the op list. Tests check it against the independent buffer
simulation of ``tsilstm.plan.simulate_buffer`` (docs/design.md section 4: two derivations of one figure).
"""

from __future__ import annotations

from tsilstm.errors import InvalidParameterError
from tsilstm.plan import Program, Tile
from tsilstm.plan.ops import EVICT, USE


def weight_dram_bytes(program: Program, steps: int) -> dict[str, int]:
    """DRAM bytes of weights loaded by ``program`` run for ``steps`` steps, by source matrix:
    ``h`` (W_h), ``x`` (W_x), ``p`` (W_hr), ``r`` (the reset rows of W_h of an original-form GRU). Every tile the schedule uses is loaded at least once.

    * hoisting schedules load W_x once; naive streams it every step unless everything fits;
    The form is chosen from the body's structure (see ``_body_shape``):

    * naive / conventional / pinned: pinned tiles once, the others every step;
    * snake: every tile at step 0; at step t >= 1 every tile except those carried from step t-1;
    * tsi / tsi-pinned (sweep k serves lower tiles for steps 2k, 2k+1 and upper tiles, diagonal
      included, for 2k+1, 2k+2; k from -1): pinned tiles once, unpinned lower tiles ceil(T/2)
      times, unpinned upper tiles floor(T/2) + 1 times.
    """
    if steps < 1:
        raise InvalidParameterError("steps", steps, "must be an integer >= 1")
    tiling = program.tiling
    size = tiling.tile_bytes
    pinned = set(program.pinned)
    out = {"h": 0, "x": 0, "p": 0}
    if tiling.reset_before:
        out["r"] = 0
    shape = _body_shape(program)
    streamed_sources = ("h", "p", "r") + (() if program.hoist_inputs else ("x",))
    if program.hoist_inputs:
        out["x"] = tiling.matrix_bytes("x")
    if shape == "per-step":
        for src in streamed_sources:
            for tile in tiling.tiles(src) if src in tiling.col_bounds else []:
                out[src] += size(tile) * (1 if tile in pinned else steps)
    elif shape == "snake":
        carried = _snake_carried(program)
        after_forward = steps // 2  # steps t in [1, T) whose previous step t-1 ran forward (t-1 even)
        after_backward = (steps - 1) // 2
        for src in streamed_sources:
            for tile in tiling.tiles(src) if src in tiling.col_bounds else []:
                if tile in pinned:
                    out[src] += size(tile)
                    continue
                reloads = 1 + after_forward * (tile not in carried[0]) + after_backward * (tile not in carried[1])
                out[src] += size(tile) * reloads
    elif shape == "sweep":
        lower_sweeps = (steps + 1) // 2
        upper_sweeps = steps // 2 + 1
        for tile in tiling.tiles("h"):
            if tile in pinned:
                out["h"] += size(tile)
            else:
                out["h"] += size(tile) * (lower_sweeps if tile.col < tile.row else upper_sweeps)
    else:
        raise InvalidParameterError("schedule", program.schedule, "a schedule with a closed-form traffic count")
    return out


def _body_shape(program: Program) -> str:
    """Which closed form applies, from the body's structure (not its name: tsi-pinned may run
    snake's order when that loads less): ``per-step`` (period 1), ``snake`` (period 2, every use
    one step), ``sweep`` (tsi: period 2 from k = -1, uses of two steps)."""
    if program.period == 1:
        return "per-step"
    two_step_uses = any(op.kind == USE and op.nsteps == 2 for op in program.body)
    if program.period == 2 and program.first_k == -1:
        return "sweep"
    if program.period == 2 and program.first_k == 0 and not two_step_uses:
        return "snake"
    return "unknown"


def _snake_carried(program: Program) -> tuple[set[Tile], set[Tile]]:
    """The tiles a snake step leaves in the buffer for the next one: used in the forward (step
    offset 0) or backward (offset 1) half of the body and not evicted after that use."""
    used: tuple[set[Tile], set[Tile]] = (set(), set())
    evicted: tuple[set[Tile], set[Tile]] = (set(), set())
    half = 0
    for op in program.body:
        if op.kind == USE:
            half = op.step
            used[half].add(op.tile)
        elif op.kind == EVICT:
            evicted[half].add(op.tile)
    return used[0] - evicted[0], used[1] - evicted[1]
