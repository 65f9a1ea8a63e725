"""Expansion of a periodic program into the concrete op list for a given number of steps."""

from __future__ import annotations

from tsilstm.plan.ops import EVICT, FINISH, LOAD, PROJECT, RESET, USE, Op, Plan, Program, load, use
from tsilstm.validation import require_int


def expand(program: Program, steps: int, batch: int = 1) -> Plan:
    """Return ``program`` run for ``steps`` time steps as a ``Plan``.

    The prologue hoists W_x over all steps (each x tile loaded once, used for every step) when the
    program hoists, then loads the pinned tiles. Body instances follow for each k of
    ``program.sweeps(steps)``; uses are trimmed to [0, steps), finishes outside it are dropped,
    a load of a tile already resident is dropped, a use of a tile not resident gets a load (the
    first instance has nothing carried in), and a load that no use follows before the tile's
    eviction is dropped with that eviction.
    """
    steps = require_int("steps", steps)
    batch = require_int("batch", batch)
    raw: list[Op] = []
    if program.hoist_inputs:
        for tile in program.tiling.tiles("x"):
            raw += [load(tile), use(tile, 0, steps), Op(EVICT, tile.src, tile.row, tile.col)]
    raw += [load(tile) for tile in program.pinned]
    for k in program.sweeps(steps):
        base = program.period * k
        for op in program.body:
            shifted = _clip(op.shifted(base), steps)
            if shifted is not None:
                raw.append(shifted)
    ops = _drop_dead_loads(_normalize_residency(raw))
    return Plan(program=program, steps=steps, batch=batch, ops=tuple(ops))


def _clip(op: Op, steps: int) -> Op | None:
    if op.kind == USE:
        first = max(op.step, 0)
        last = min(op.step + op.nsteps, steps)
        if first == op.step and last == op.step + op.nsteps:
            return op
        return Op(USE, op.src, op.row, op.col, first, last - first) if last > first else None
    if op.kind in (FINISH, PROJECT, RESET):
        return op if 0 <= op.step < steps else None
    return op


def _normalize_residency(ops: list[Op]) -> list[Op]:
    resident: set[tuple] = set()
    out: list[Op] = []
    for op in ops:
        tile = op[1:4]  # (src, row, col): a Tile's fields, without building one (hot loop)
        if op.kind == LOAD:
            if tile in resident:
                continue
            resident.add(tile)
        elif op.kind == EVICT:
            if tile not in resident:
                continue
            resident.discard(tile)
        elif op.kind == USE and tile not in resident:
            out.append(Op(LOAD, op.src, op.row, op.col))
            resident.add(tile)
        out.append(op)
    return out


def _drop_dead_loads(ops: list[Op]) -> list[Op]:
    keep = [True] * len(ops)
    used_later: dict[tuple, bool] = {}
    pending_evict: dict[tuple, int] = {}
    for index in range(len(ops) - 1, -1, -1):
        op = ops[index]
        if op.kind == USE:
            used_later[op[1:4]] = True
        elif op.kind == EVICT:
            used_later[op[1:4]] = False
            pending_evict[op[1:4]] = index
        elif op.kind == LOAD:
            tile = op[1:4]
            if not used_later.get(tile, False):
                keep[index] = False
                if tile in pending_evict:
                    keep[pending_evict.pop(tile)] = False
            used_later[tile] = False
            pending_evict.pop(tile, None)
    return [op for op, kept in zip(ops, keep) if kept]

