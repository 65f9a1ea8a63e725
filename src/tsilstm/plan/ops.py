"""The schedule IR: ops over tiles, a periodic program that generates them, and the expanded plan.

A plan is a sequence of ops:

* ``load``   tile enters the weight buffer (one DRAM read of the tile);
* ``evict``  tile leaves the buffer;
* ``use``    the resident tile is applied for ``nsteps`` consecutive steps ``step .. step+nsteps-1``
  (one product with ``nsteps * batch`` columns);
* ``finish`` row-block ``row`` completes its cell update for ``step`` (h_t, c_t of those units);
* ``project`` (LSTM with projection only) h_t = W_hr m_t is complete for ``step``;
* ``reset``  (original-form GRU only) the reset gate r_t of row-block ``row`` is complete for
  ``step``, so r_t * h_{t-1} of those units is ready for the candidate rows (``h`` tiles).

A ``Program`` is what generators build: a body of ops whose steps are offsets from
``base = period * k``, repeated for k = first_k, first_k + 1, ...; expansion to a concrete step
count drops the uses and finishes outside [0, T) and every load that then serves no use.
The native runtime executes the same body; the checker, replay and buffer simulation take the
expanded plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from tsilstm.plan.tiling import Tile, Tiling

LOAD, EVICT, USE, FINISH, PROJECT, RESET = "load", "evict", "use", "finish", "project", "reset"
OP_KINDS = (LOAD, EVICT, USE, FINISH, PROJECT, RESET)


class Op(NamedTuple):
    """One op of a plan (see the module doc); ``col`` and ``nsteps`` are unused by finish/project."""

    kind: str
    src: str = "h"
    row: int = -1
    col: int = -1
    step: int = 0
    nsteps: int = 1

    @property
    def tile(self) -> Tile:
        """The tile this op refers to (load, evict, use)."""
        return Tile(self.src, self.row, self.col)

    def shifted(self, base: int) -> "Op":
        """This op with its step moved by ``base``."""
        return Op(self[0], self[1], self[2], self[3], self[4] + base, self[5])  # not _replace: hot in expansion

    def describe(self) -> str:
        """A short human form, e.g. ``use h(2,1) steps 4..5``."""
        if self.kind in (LOAD, EVICT):
            return f"{self.kind} {self.src}({self.row},{self.col})"
        if self.kind == USE:
            last = self.step + self.nsteps - 1
            steps = f"step {self.step}" if self.nsteps == 1 else f"steps {self.step}..{last}"
            return f"use {self.src}({self.row},{self.col}) {steps}"
        if self.kind == FINISH:
            return f"finish row-block {self.row} step {self.step}"
        if self.kind == RESET:
            return f"reset gate of row-block {self.row} step {self.step}"
        return f"project step {self.step}"


def load(tile: Tile) -> Op:
    """A load op of ``tile``."""
    return Op(LOAD, tile.src, tile.row, tile.col)


def evict(tile: Tile) -> Op:
    """An evict op of ``tile``."""
    return Op(EVICT, tile.src, tile.row, tile.col)


def use(tile: Tile, step: int, nsteps: int = 1) -> Op:
    """A use of ``tile`` for steps ``step .. step + nsteps - 1``."""
    return Op(USE, tile.src, tile.row, tile.col, step, nsteps)


def finish(row: int, step: int) -> Op:
    """The cell update of row-block ``row`` for ``step``."""
    return Op(FINISH, "h", row, -1, step, 1)


def reset(row: int, step: int) -> Op:
    """The completion of the reset gate of row-block ``row`` for ``step`` (original-form GRU)."""
    return Op(RESET, "r", row, -1, step, 1)


def project(step: int) -> Op:
    """The completion of the projection h_t = W_hr m_t for ``step``."""
    return Op(PROJECT, "p", -1, -1, step, 1)


@dataclass(frozen=True)
class Program:
    """A schedule as generated: hoisting and pinning set-up plus a periodic body (see module doc).

    ``pinned`` tiles are loaded once before the body and never evicted; with ``hoist_inputs`` the
    input projection W_x is applied to all steps at once before the body (each x tile loaded once).
    ``notes`` say what the generator decided (fallbacks, pinned share), for users to read.
    """

    schedule: str
    tiling: Tiling
    body: tuple[Op, ...]
    period: int
    first_k: int
    hoist_inputs: bool
    pinned: tuple[Tile, ...] = ()
    buffer_bytes: int = 0
    notes: tuple[str, ...] = ()
    requested_schedule: str = ""

    def sweeps(self, steps: int) -> range:
        """The values of k whose body instance touches a step in [0, steps)."""
        last = (steps - 1 - self.lowest_step) // self.period
        return range(self.first_k, last + 1)

    @cached_property
    def lowest_step(self) -> int:
        """The smallest step offset of the body's ops."""
        return min(op.step for op in self.body)

    @property
    def fell_back(self) -> bool:
        """True when the generator emitted another schedule than the one requested."""
        return bool(self.requested_schedule) and self.requested_schedule != self.schedule


@dataclass(frozen=True)
class Plan:
    """A program expanded for ``steps`` time steps: the concrete op list every checker consumes."""

    program: Program
    steps: int
    batch: int
    ops: tuple[Op, ...] = field(repr=False)

    @property
    def schedule(self) -> str:
        """Name of the schedule the ops follow."""
        return self.program.schedule

    @property
    def tiling(self) -> Tiling:
        """The tiling of the plan."""
        return self.program.tiling

    @property
    def buffer_bytes(self) -> int:
        """The weight buffer the plan was generated for, in bytes."""
        return self.program.buffer_bytes
