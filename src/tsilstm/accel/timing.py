"""Cycles of one layer direction over a whole sequence, from the event model of
``accel/event_model.py`` (resources and rules: docs/design.md section 5).

Long sequences: the plan of a short sequence with the same remainder modulo the period is
simulated, then one and two periods longer; once the increments agree (the steady state), the
time of the real sequence follows by adding the increment per missing period
(``simulate_layer_timing``; tests check it against the full simulation).
"""

from __future__ import annotations

from dataclasses import fields
from functools import lru_cache

from tsilstm.accel.activation_traffic import ActivationTraffic
from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.event_model import EventModel, Timing
from tsilstm.errors import InvalidParameterError
from tsilstm.plan import Op, Program, expand
from tsilstm.plan.ops import EVICT, LOAD, USE

__all__ = ["MAX_SIMULATED_OPS", "Timing", "plan_buffer_bytes", "planned_buffer_bytes",
           "simulate_layer_timing"]

_WARMUP_PERIODS = 4
_MAX_WARMUP_PERIODS = 64
MAX_SIMULATED_OPS = 1_000_000
"""Most body ops the event model simulates step by step for one layer and schedule (``full``
timing, or a sequence whose steady state is not reached). Measured 2026-12-05 on the 2-core EPYC,
load ~4.5: 80,000 ops (hidden 64, 40,000 steps, tsi and conventional) in 1.4 s, ~9 us an op with the
expansion, so about 10 s."""


def plan_buffer_bytes(arch: ArchConfig, max_tile_bytes: int) -> int:
    """The buffer the schedules are generated for: the weight buffer less ``prefetch_tiles`` tiles
    kept free for loads running ahead of their use (1 = double buffering), as far as at least one
    tile is left for the plan. Independent of bandwidth, so a sweep over bandwidth keeps its plans."""
    return planned_buffer_bytes(arch.weight_buffer_bytes, arch.prefetch_tiles, max_tile_bytes)


def planned_buffer_bytes(buffer_bytes: int, prefetch_tiles: int, max_tile_bytes: int) -> int:
    """``plan_buffer_bytes`` from its three numbers: ``buffer_bytes`` less ``prefetch_tiles`` tiles
    of ``max_tile_bytes``, as far as at least one tile is left."""
    reserve_tiles = prefetch_tiles
    while reserve_tiles and buffer_bytes - reserve_tiles * max_tile_bytes < max_tile_bytes:
        reserve_tiles -= 1
    return buffer_bytes - reserve_tiles * max_tile_bytes


@lru_cache(maxsize=64)
def _expanded_ops(program: Program, steps: int) -> tuple[Op, ...]:
    """The op list of ``program`` over ``steps`` steps (cached: sweeps over bandwidth or batch
    reuse the same plans; the op list does not depend on the batch)."""
    return expand(program, steps).ops


def _hoisted_ops(program: Program, short_steps: int, steps: int, batch: int) -> tuple[Op, ...]:
    """The plan of ``short_steps`` steps with its hoisting GEMM sized for ``steps`` steps."""
    ops = _expanded_ops(program, short_steps)
    if not program.hoist_inputs or short_steps == steps:
        return ops
    return tuple(op._replace(nsteps=steps) if op.kind == USE and op.src == "x" else op for op in ops)


def simulate_layer_timing(
    program: Program, steps: int, batch: int, arch: ArchConfig, traffic: ActivationTraffic, *, full: bool = False
) -> Timing:
    """Cycles of ``program`` over ``steps`` steps: the full event model for short sequences (or
    with ``full``), else one short run extended by the per-period increment once the steady state
    is proven. The short run has ``short`` steps (``short`` = ``steps`` modulo the period); its
    complete state (``EventModel._snapshot``) is recorded at every period boundary before its
    last two periods. When the states at two consecutive boundaries agree (times shifted by one
    increment, steps by one period), every further period adds exactly that increment (the event
    model is max-plus: a state shifted in time evolves shifted in time), so the time for ``steps``
    is the short run's plus one increment per missing period. Without such a pair the run doubles,
    up to a bound, and then the full sequence is simulated."""
    tiling = program.tiling
    period = program.period
    warmup = _WARMUP_PERIODS
    while not full and warmup <= _MAX_WARMUP_PERIODS:
        short = steps % period + warmup * period
        if steps <= short:
            break
        ops = _hoisted_ops(program, short, steps, batch)
        model = EventModel(tiling, batch, arch, traffic, arch.weight_buffer_bytes)
        timing = model.run(ops, marks=_period_marks(ops, short, period))
        for (bound0, floor0, state0, seen0), (bound1, floor1, state1, seen1) in zip(model.snapshots, model.snapshots[1:]):
            if bound1 - bound0 == period and state0 == state1:
                increment = seen1.minus(seen0)
                increment = Timing(**{**{f.name: getattr(increment, f.name) for f in fields(increment)}, "cycles": floor1 - floor0})
                return timing.plus(increment, (steps - short) // period)
        warmup *= 2
    _check_simulated_ops(program, steps, full)
    model = EventModel(tiling, batch, arch, traffic, arch.weight_buffer_bytes)
    return model.run(_hoisted_ops(program, steps, steps, batch))


def _check_simulated_ops(program: Program, steps: int, full: bool) -> None:
    """``InvalidParameterError`` naming ``steps`` when simulating every step of ``program`` would
    take more than ``MAX_SIMULATED_OPS`` body ops (checked before the op list is built)."""
    ops = len(program.sweeps(steps)) * len(program.body)
    if ops > MAX_SIMULATED_OPS:
        why = "full timing simulates every step" if full else (
            f"the steady state was not reached within {_MAX_WARMUP_PERIODS} periods, so every step would be simulated")
        raise InvalidParameterError("steps", steps, f"{why}: about {ops} ops of the {program.schedule} plan, more than the "
                                    f"limit of {MAX_SIMULATED_OPS} (~10 s a layer and schedule): use fewer steps"
                                    + (" or drop --full-timing" if full else " or a smaller batch"))


def _period_marks(ops: tuple[Op, ...], steps: int, period: int) -> dict[int, int]:
    """Op positions of the step boundaries b = steps mod period + k period (k >= 1, b <= steps - 2
    period), each mapped to b: the first step-bearing op (use, finish, project, reset; not the
    hoisted W_x product) touching a step >= b, moved back over the loads and evicts just before it.
    Boundaries past ``steps - 2 period`` are left out: the end of the sequence clips what follows."""
    last_bound = steps - 2 * period
    bound = steps % period + period
    marks: dict[int, int] = {}
    for index, op in enumerate(ops):
        if bound > last_bound:
            break
        if op.kind in (LOAD, EVICT) or (op.kind == USE and op.src == "x" and op.nsteps > 2):
            continue
        reached = op.step + (op.nsteps if op.kind == USE else 1) - 1
        if reached >= bound:
            start = index
            while start > 0 and ops[start - 1].kind in (LOAD, EVICT):
                start -= 1
            while bound <= min(reached, last_bound):
                marks[start] = bound
                bound += period
    return marks
