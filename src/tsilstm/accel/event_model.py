"""Event model of one layer direction on the accelerator: cycles from four resources.

Resources and rules (docs/design.md section 5):

* DRAM channel: tile loads in plan order, each moving whole beats of the port
  (``dram_beat_bytes``) at ``bandwidth / clock`` bytes per cycle and at most one beat per
  cycle, its data in the buffer ``latency`` later. A load may start as soon as the buffer has room, ahead of the uses before it
  (double buffering: the plan is generated for a buffer one tile smaller than the real one, see
  ``plan_buffer_bytes``); a tile's room is freed when its last use ends. The load engine finds the
  loads by walking the op list, ``sequencer_cycles_per_op`` per op, so a load starts no earlier
  than the walk reaches it. Non-weight DRAM traffic (inputs, spilled pre-activations and states,
  outputs) occupies the channel at the op that causes it, also in whole beats.
* MAC array: a use of a tile for n steps takes ``ceil(rows x cols x n x batch / mac_units)``
  cycles and starts when its tile is loaded and every h it reads is finished (the array reads a
  weight line for each step and batch column in turn, so all n steps' inputs are needed from its
  first cycle); its results are usable ``mac_pipeline_cycles`` after it ends. Uses issue in plan
  order from an issue queue of ``issue_window`` entries: a use waiting for its h (or its tile)
  lets a later ready use go first. Window 1 is an in-order sequencer (the generated
  accelerator's): every op passes it in plan order taking ``sequencer_cycles_per_op``, a use
  holds it until its last cycle, an evict or finish waits for the array to finish issuing, a
  finish also for the cell unit to be free, and a use of inputs waits for their fetch (its DRAM
  transfer and latency) to complete.
* Weight-buffer read ports: a use reads its tile once from the banks, ``ceil(tile bytes /
  (banks x ports x bank width))`` cycles (``hardware_cost.buffer_layouts``), during the use: a use
  lasts the longer of its MAC cycles and its read cycles. With the default banks (as wide, side by
  side, as the array reads per cycle) a one-step use of one batch column is balanced; a narrower
  buffer makes uses read-bound. The DRAM fills of the banks are not charged to the ports (at the
  presets they are under 1/30 of the read bandwidth).
* Cell/activation unit: a finish of row-block r for step t starts when every use of row r for
  step t is done (in order: when the array's pipeline has drained), takes ``ceil(units x batch x
  evaluations / activation_units)`` cycles and its h is usable ``cell_pipeline_cycles`` later.
* Dependency rule: a use of W_h tile (r, c) for step t waits for the finish of (c, t-1) (with a
  projection: for the projection of step t-1).

The whole sequence and its steady state: ``timing.simulate_layer_timing``.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from dataclasses import dataclass, fields

from tsilstm.accel.activation_traffic import (
    ActivationTraffic,
    boundary_state_bytes,
    finish_dram_bytes,
    project_dram_bytes,
    x_use_dram_bytes,
)
from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.hardware_cost import buffer_layouts
from tsilstm.plan import Op, Tile, Tiling
from tsilstm.plan.ops import EVICT, FINISH, LOAD, PROJECT, RESET, USE

TRANSFER_QUEUE_DEPTH = 32
"""Entries of the DRAM controller's queue of non-weight transfers (reads/writes of activations);
a typical controller read/write queue holds 32-64 requests."""

@dataclass(frozen=True)
class Timing:
    """Cycles of one layer direction and what each resource did (all in clock cycles, bytes)."""

    cycles: float
    dram_busy_cycles: float
    mac_busy_cycles: float
    cell_busy_cycles: float
    mac_wait_dependency_cycles: float
    mac_wait_load_cycles: float
    weight_bytes_loaded: float
    other_dram_bytes: float
    sram_read_busy_cycles: float = 0.0
    extrapolated: bool = False

    def plus(self, other: "Timing", times: float = 1.0) -> "Timing":
        """This timing with ``times`` x ``other`` added to every figure."""
        values = {f.name: getattr(self, f.name) + times * getattr(other, f.name) for f in fields(self) if f.name != "extrapolated"}
        return Timing(**values, extrapolated=True)

    def minus(self, other: "Timing") -> "Timing":
        """The difference of every figure (the increment of one period)."""
        values = {f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self) if f.name != "extrapolated"}
        return Timing(**values)


class _Pending:
    """A use in the issue queue: when its tile and every h it reads are ready, its MAC cycles."""

    __slots__ = ("position", "op", "load_ready", "dep_ready", "duration", "ready")

    def __init__(self, position: int, op: Op, load_ready: float, dep_ready: float, duration: float) -> None:
        self.position, self.op, self.load_ready, self.dep_ready = position, op, load_ready, dep_ready
        self.duration = duration
        self.ready = load_ready if load_ready > dep_ready else dep_ready


class EventModel:
    """One pass over an op list; see the module doc for the rules."""

    def __init__(self, tiling: Tiling, batch: int, arch: ArchConfig, traffic: ActivationTraffic, capacity_bytes: int) -> None:
        self.tiling, self.batch, self.arch, self.traffic = tiling, batch, arch, traffic
        self.capacity = capacity_bytes
        self.bytes_per_cycle = arch.dram_bytes_per_cycle
        self.beat_bytes = arch.dram_beat_bytes
        self.latency = arch.dram_latency_cycles
        self.op_cycles = float(arch.sequencer_cycles_per_op)
        self.in_order = arch.issue_window == 1
        self.sequencer_free = 0.0  # in order: when the sequencer takes the next op
        self.engine_free = 0.0  # when the load engine has walked to the next op
        self.dram_free = 0.0
        self.mac_free = 0.0
        self.cell_free = 0.0
        self.busy = {"dram": 0.0, "mac": 0.0, "cell": 0.0, "sram": 0.0}
        self.sram_bytes_per_cycle = buffer_layouts(arch)[0].read_bytes_per_cycle
        self.wait = {"dependency": 0.0, "load": 0.0}
        self.weight_bytes = 0.0
        self.other_bytes = 0.0
        self.load_done: dict[tuple, float] = {}
        self.resident = 0  # bytes loaded and not yet evicted in plan order
        self.resident_tiles: set[tuple] = set()
        self.freed: list[tuple[float, int]] = []  # heap of (time the room frees, bytes)
        self.freed_total = 0
        self.transfers: list[tuple[float, float]] = []  # heap of queued non-weight transfers (ready, cycles)
        self.unresolved: dict[tuple, int] = {}  # evicted in plan order, a use still in the window
        self.unresolved_total = 0
        self.window: list[_Pending] = []
        self.window_uses: Counter = Counter()
        self.last_use_end: dict[tuple, float] = {}
        self.finish_end: dict[tuple[int, int], float] = {}
        self.row_ready: dict[tuple[int, int], float] = {}
        self.row_ready_all: dict[int, float] = {}
        self.proj_ready: dict[int, float] = {}
        self.project_end: dict[int, float] = {}
        self.reset_ready: dict[tuple[int, int], float] = {}
        self.reset_end: dict[tuple[int, int], float] = {}
        self.evaluations = tiling.spec.activation_evaluations
        self.tile_info: dict[tuple, tuple[int, int]] = {}  # (src, row, col) -> (bytes, weights)

    def _info(self, key: tuple) -> tuple[int, int]:
        info = self.tile_info.get(key)
        if info is None:
            src, row, col = key
            r0, r1 = self.tiling.rows_of(src)[row]
            c0, c1 = self.tiling.col_bounds[src][col]
            weights = (r1 - r0) * (c1 - c0) * self.tiling.gates_of(src)
            info = self.tile_info[key] = (self.tiling.tile_bytes(Tile(*key)), weights)
        return info

    # -- DRAM channel -------------------------------------------------------------------------
    def _transfer_cycles(self, num_bytes: float) -> float:
        """Cycles the channel takes for ``num_bytes``: whole beats of the port, each taking its
        bytes at the bandwidth and at least one cycle (the port moves one beat per cycle)."""
        return math.ceil(num_bytes / self.beat_bytes) * max(1.0, self.beat_bytes / self.bytes_per_cycle)

    def _channel(self, num_bytes: float, not_before: float = 0.0) -> None:
        """Queue a non-weight transfer that may start once its data exists (``not_before``: a write
        after the cell update that produced it). Queued transfers take the channel before a later
        load when they are ready by the time that load could start, else they wait: a transfer
        whose data is not ready never holds up the loads behind it."""
        if num_bytes:
            heapq.heappush(self.transfers, (not_before, self._transfer_cycles(num_bytes)))
            self.other_bytes += num_bytes
            if len(self.transfers) > TRANSFER_QUEUE_DEPTH:  # a full queue forces its oldest out
                ready, cycles = heapq.heappop(self.transfers)
                self.dram_free = max(self.dram_free, ready) + cycles
                self.busy["dram"] += cycles

    def _serve_transfers(self, until: float) -> None:
        """Run the queued transfers that are ready before ``until`` (inf: all of them)."""
        while self.transfers and self.transfers[0][0] <= max(self.dram_free, until):
            ready, cycles = heapq.heappop(self.transfers)
            if ready > self.dram_free and ready >= until:
                heapq.heappush(self.transfers, (ready, cycles))
                break
            self.dram_free = max(self.dram_free, ready) + cycles
            self.busy["dram"] += cycles

    def _load(self, op: Op) -> None:
        tile = op[1:4]
        size = self._info(tile)[0]
        if self.unresolved_total and self.resident + size + self.unresolved_total > self.capacity:
            self._drain_window()  # the room needed is held by a tile whose last use is still queued
        start = max(self._room_time(size), self.engine_free + self.op_cycles)
        self._serve_transfers(start)
        start = max(start, self.dram_free)
        transfer = self._transfer_cycles(size)
        self.dram_free = self.engine_free = start + transfer
        self.busy["dram"] += transfer
        self.load_done[tile] = self.dram_free + self.latency
        self.resident += size
        self.resident_tiles.add(tile)
        self.weight_bytes += size

    def _room_time(self, size: int) -> float:
        """The earliest time from the channel's free time at which ``size`` bytes of room exist."""
        start = self.dram_free
        while self.freed and self.freed[0][0] <= start:
            self.freed_total -= heapq.heappop(self.freed)[1]
        while self.resident + size + self.freed_total + self.unresolved_total > self.capacity and self.freed:
            when, num = heapq.heappop(self.freed)
            self.freed_total -= num
            start = max(start, when)
        return start

    def _evict(self, op: Op) -> None:
        tile = op[1:4]
        size = self._info(tile)[0]
        self.resident -= size
        self.resident_tiles.discard(tile)
        if self.window_uses[tile]:
            self.unresolved[tile] = size
            self.unresolved_total += size
        else:
            self._free(tile, size)

    def _free(self, tile: tuple, size: int) -> None:
        heapq.heappush(self.freed, (self.last_use_end.get(tile, 0.0), size))
        self.freed_total += size

    # -- MAC array ----------------------------------------------------------------------------
    def _use(self, position: int, op: Op) -> None:
        tiling = self.tiling
        steps = range(op.step, op.step + op.nsteps)
        if op.src == "x":
            deps: tuple[float, ...] = (0.0,)
            fetched = x_use_dram_bytes(self.traffic, tiling, op.row, op.col, op.nsteps, self.batch, self.arch)
            self._channel(fetched, self.sequencer_free)
            if self.in_order and fetched:  # the sequencer waits for the fetch: its beats, then the latency
                arrived = self.sequencer_free + self.op_cycles + self._transfer_cycles(fetched) + self.latency
                self.sequencer_free = arrived + self.op_cycles
                deps = (arrived,)
        elif op.src == "p":
            deps = tuple(self.finish_end[(op.col, t)] for t in steps)
        elif tiling.proj:
            deps = tuple(self.project_end[t - 1] if t >= 1 else 0.0 for t in steps)
        else:
            deps = tuple(self.finish_end[(op.col, t - 1)] if t >= 1 else 0.0 for t in steps)
            if op.src == "h" and tiling.reset_before:  # candidate rows need r_t * h_{t-1} of block c
                deps = tuple(max(d, self.reset_end[(op.col, t)]) for d, t in zip(deps, steps))
        tile = op[1:4]
        size, weights = self._info(tile)
        reading = float(math.ceil(size / self.sram_bytes_per_cycle))
        self.busy["sram"] += reading
        computing = float(math.ceil(weights * op.nsteps * self.batch / self.arch.mac_units))
        self.busy["mac"] += computing  # the array computes; a read-bound use holds it longer
        duration = max(computing, reading)
        pending = _Pending(position, op, self.load_done[tile], max(deps), duration)
        self.window_uses[tile] += 1
        if self.in_order:  # the sequencer takes the use when it is ready, and is held until its last cycle
            start = max(self.sequencer_free, pending.ready)
            self._wait(pending, self.sequencer_free, start)
            self._issued(pending, start, start + self.op_cycles + duration)
            self.sequencer_free = self.mac_free
            return
        self.window.append(pending)
        while len(self.window) >= self.arch.issue_window:
            self._issue_one()

    def _wait(self, chosen: _Pending, now: float, start: float) -> None:
        """Count the array's idle time from ``now`` to ``start`` as waiting for h or for a load."""
        if start > now:
            if chosen.dep_ready >= chosen.load_ready:
                self.wait["dependency"] += start - now
            else:
                self.wait["load"] += start - now

    def _issue_one(self) -> None:
        now = self.mac_free
        chosen = next((p for p in self.window if p.ready <= now), None)
        if chosen is None:
            chosen = min(self.window, key=lambda p: (p.ready, p.position))
        self.window.remove(chosen)
        start = max(now, chosen.ready)
        self._wait(chosen, now, start)
        self._issued(chosen, start, start + chosen.duration)

    def _issued(self, chosen: _Pending, start: float, end: float) -> None:
        """Book the use ``chosen`` issued from ``start`` to ``end``: its results, its tile's room."""
        self.mac_free = end
        usable = end + self.arch.mac_pipeline_cycles
        op = chosen.op
        if op.src == "p":
            for t in range(op.step, op.step + op.nsteps):
                self.proj_ready[t] = max(self.proj_ready.get(t, 0.0), usable)
        elif op.src == "r":
            for t in range(op.step, op.step + op.nsteps):
                self.reset_ready[(op.row, t)] = max(self.reset_ready.get((op.row, t), 0.0), usable)
        elif op.nsteps > 2:
            self.row_ready_all[op.row] = max(self.row_ready_all.get(op.row, 0.0), usable)
        else:
            for t in range(op.step, op.step + op.nsteps):
                key = (op.row, t)
                self.row_ready[key] = max(self.row_ready.get(key, 0.0), usable)
        tile = op[1:4]
        self.last_use_end[tile] = max(self.last_use_end.get(tile, 0.0), end)
        self.window_uses[tile] -= 1
        if not self.window_uses[tile] and tile in self.unresolved:
            size = self.unresolved.pop(tile)
            self.unresolved_total -= size
            self._free(tile, size)

    def _drain_window(self) -> None:
        while self.window:
            self._issue_one()

    # -- cell unit ----------------------------------------------------------------------------
    def _issue_until(self, needed) -> None:  # type: ignore[no-untyped-def]
        """Issue queued uses until none of those ``needed(pending)`` selects is left."""
        while any(needed(p) for p in self.window):
            self._issue_one()

    def _finish(self, op: Op) -> None:
        row, step = op.row, op.step
        self._issue_until(lambda p: p.op.src in ("h", "x") and p.op.row == row and p.op.step <= step < p.op.step + p.op.nsteps)
        ready = max(self.row_ready.get((op.row, op.step), 0.0), self.row_ready_all.get(op.row, 0.0))
        if self.in_order:  # taken when the cell unit is free; runs once the array's pipeline has drained
            taken = max(self.sequencer_free, self.cell_free)
            self.sequencer_free = taken + self.op_cycles
            ready = max(ready, taken, self.mac_free + self.arch.mac_pipeline_cycles)
        start = max(self.cell_free, ready)
        u0, u1 = self.tiling.row_bounds[op.row]
        busy = float(math.ceil((u1 - u0) * self.batch * self.evaluations / self.arch.activation_units))
        self.cell_free = start + busy
        self.busy["cell"] += busy
        self.finish_end[(op.row, op.step)] = self.cell_free + self.arch.cell_pipeline_cycles
        self._channel(finish_dram_bytes(self.traffic, self.tiling, op.row, self.batch, self.arch), start)

    def _reset(self, op: Op) -> None:
        """The reset gate of a row-block (original-form GRU): one sigmoid per unit on the cell unit."""
        row, step = op.row, op.step
        self._issue_until(lambda p: p.op.src == "r" and p.op.row == row and p.op.step <= step < p.op.step + p.op.nsteps)
        start = max(self.cell_free, self.reset_ready.get((row, step), 0.0))
        u0, u1 = self.tiling.row_bounds[row]
        busy = float(math.ceil((u1 - u0) * self.batch / self.arch.activation_units))
        self.cell_free = start + busy
        self.busy["cell"] += busy
        self.reset_end[(row, step)] = self.cell_free + self.arch.cell_pipeline_cycles

    def _project(self, op: Op) -> None:
        step = op.step
        self._issue_until(lambda p: p.op.src == "p" and p.op.step <= step < p.op.step + p.op.nsteps)
        self.project_end[op.step] = self.proj_ready.get(op.step, 0.0)
        self._channel(project_dram_bytes(self.tiling, self.batch, self.arch), self.project_end[op.step])

    def run(self, ops: tuple[Op, ...] | list[Op], marks: dict[int, int] | None = None) -> Timing:
        """Simulate ``ops`` and return the timing; ``marks`` maps op positions to step boundaries:
        before each such op the state is recorded in ``self.snapshots`` as (boundary, floor time,
        normalized state, counters so far), see ``_snapshot``."""
        marks = marks or {}
        self.snapshots: list[tuple[int, float, tuple, Timing]] = []
        self.walk_to_load = _walks_to_next_load(ops, marks)
        self._channel(boundary_state_bytes(self.traffic, self.batch))
        handlers = {USE: None, LOAD: self._load, EVICT: self._evict, FINISH: self._finish, PROJECT: self._project, RESET: self._reset}
        for position, op in enumerate(ops):
            if position in marks:
                floor, state = self._snapshot(marks[position], self.walk_to_load[position])
                self.snapshots.append((marks[position], floor, state, self._counters(floor)))
            kind = op.kind
            if kind != LOAD:
                self.engine_free += self.op_cycles
            if kind == USE:
                self._use(position, op)
            else:
                if self.in_order and kind not in (FINISH, USE):  # loads pass; an evict waits for the array
                    self.sequencer_free = max(self.sequencer_free, self.mac_free if kind == EVICT else 0.0) + self.op_cycles
                handlers[kind](op)
        self._drain_window()
        self._channel(boundary_state_bytes(self.traffic, self.batch), max(self.finish_end.values(), default=0.0))
        self._serve_transfers(math.inf)
        ends = [self.dram_free, self.mac_free + self.arch.mac_pipeline_cycles, *self.finish_end.values()]
        return self._counters(max(ends))

    def _counters(self, cycles: float) -> Timing:
        """The figures so far, with ``cycles`` as the time."""
        return Timing(
            cycles=cycles, dram_busy_cycles=self.busy["dram"], mac_busy_cycles=self.busy["mac"],
            cell_busy_cycles=self.busy["cell"], mac_wait_dependency_cycles=self.wait["dependency"],
            mac_wait_load_cycles=self.wait["load"], weight_bytes_loaded=self.weight_bytes,
            other_dram_bytes=self.other_bytes, sram_read_busy_cycles=self.busy["sram"],
        )

    def _snapshot(self, step_base: int, walk_to_load: int | None) -> tuple:
        """Every piece of state that later ops can depend on, as (floor time, normalized state):
        times at or before the floor (the earliest resource free time) can no longer delay
        anything and are dropped; later ones are kept relative to the floor; steps relative to
        ``step_base``. The load engine's time is dropped when the walk of ``walk_to_load`` ops to
        the next load (None: no load follows) ends before the channel is free. Two runs whose
        snapshots agree evolve identically, shifted in time."""
        floor = min(self.dram_free, self.mac_free, self.cell_free)
        engine_binds = walk_to_load is not None and self.engine_free + walk_to_load * self.op_cycles > self.dram_free
        engine = round(self.engine_free - floor, 6) if engine_binds else None

        def rel(value: float) -> float | None:
            return None if value <= floor else round(value - floor, 6)

        def stepped(table: dict) -> tuple:
            out = []
            for key, value in table.items():
                if value > floor:
                    shifted = (key[0], key[1] - step_base) if isinstance(key, tuple) else key - step_base
                    out.append((shifted, round(value - floor, 6)))
            return tuple(sorted(out))

        tiles = tuple(sorted(
            (tile, rel(self.load_done.get(tile, 0.0)), rel(self.last_use_end.get(tile, 0.0))) for tile in self.resident_tiles
        ))
        freed = tuple(sorted((round(t - floor, 6), b) for t, b in self.freed if t > self.dram_free))
        transfers = tuple(sorted((max(round(t - floor, 6), 0.0), round(c, 6)) for t, c in self.transfers))
        window = tuple(
            (p.op._replace(step=p.op.step - step_base), rel(p.load_ready), rel(p.dep_ready), p.duration)
            for p in self.window
        )
        state = (
            rel(self.dram_free), rel(self.mac_free), rel(self.cell_free), engine, rel(self.sequencer_free),
            self.resident, tiles, freed, transfers,
            tuple(sorted(self.unresolved.items())), window, stepped(self.finish_end), stepped(self.row_ready),
            stepped(self.proj_ready), stepped(self.project_end), stepped(self.reset_ready), stepped(self.reset_end),
        )
        return floor, state


def _walks_to_next_load(ops: tuple[Op, ...] | list[Op], marks: dict[int, int]) -> dict[int, int | None]:
    """For each marked position: the ops the load engine walks from there to the next load, that
    load's own decode included (None when no load follows)."""
    out: dict[int, int | None] = {}
    if not marks:
        return out
    walk: int | None = None
    for position in range(len(ops) - 1, -1, -1):
        if ops[position].kind == LOAD:
            walk = 1
        elif walk is not None:
            walk += 1
        if position in marks:
            out[position] = walk
    return out
