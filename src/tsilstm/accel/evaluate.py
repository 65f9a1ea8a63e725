"""The accelerator model's entry points: one layer direction, a workload, a loaded model.

Each layer is its own recurrence (layer by layer, W_x hoisted per layer); a bidirectional layer is
two independent recurrences run one after the other; times and counts add up over layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from tsilstm.accel.activation_traffic import activation_traffic
from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.counts import DRAM_KINDS, Counts, count_events
from tsilstm.accel.energy import energy_breakdown_pj, static_power_w
from tsilstm.accel.hardware_cost import design_cost
from tsilstm.accel.timing import Timing, plan_buffer_bytes, simulate_layer_timing
from tsilstm.accel.workloads import LayerShape, Workload, workload_from_model
from tsilstm.errors import InvalidParameterError
from tsilstm.model import RecurrentModel
from tsilstm.plan import SCHEDULES, Program, Tiling, make_program
from tsilstm.plan.ops import LOAD
from tsilstm.validation import require_choice

WEIGHTS_MEANING = (
    "dram_bytes.weights counts the recurrent weights W_h (and W_hr with a projection), the traffic "
    "the schedules differ in; W_x is counted apart as input_weights (loaded once by every hoisting "
    "schedule, every step by naive)"
)


@dataclass(frozen=True)
class LayerResult:
    """One layer direction under one schedule."""

    layer_index: int
    shape: LayerShape
    requested_schedule: str
    schedule: str
    program_buffer_bytes: int
    counts: Counts
    timing: Timing
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScheduleResult:
    """A whole workload under one schedule on one accelerator (every layer and direction)."""

    schedule: str
    workload: Workload
    arch: ArchConfig
    counts: Counts
    cycles: float
    energy_breakdown_pj: dict[str, float]
    layers: tuple[LayerResult, ...] = field(repr=False, default=())
    stands_for: str = ""
    """For a baseline row (``best-non-interleaved``): the schedule whose figures it repeats."""

    @property
    def seconds(self) -> float:
        """Run time in seconds."""
        return self.cycles / self.arch.clock_hz

    @property
    def steps_per_second(self) -> float:
        """Time steps of the sequence per second (all layers of one step)."""
        return self.workload.steps / self.seconds

    @property
    def energy_pj(self) -> float:
        """Total energy in pJ (the sum of the breakdown)."""
        return sum(self.energy_breakdown_pj.values())

    @property
    def executed_schedules(self) -> tuple[str, ...]:
        """The schedules the layers really ran (differs from ``schedule`` after a fallback)."""
        return tuple(dict.fromkeys(layer.schedule for layer in self.layers))

    @property
    def fell_back(self) -> bool:
        """True when some layer ran another schedule than the one requested."""
        return any(layer.schedule != layer.requested_schedule for layer in self.layers)

    @property
    def notes(self) -> tuple[str, ...]:
        """The generators' notes of every layer, without repeats."""
        return tuple(dict.fromkeys(f"layer {layer.layer_index}: {note}" for layer in self.layers for note in layer.notes))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (bytes, pJ, cycles, seconds)."""
        timing = [layer.timing for layer in self.layers]
        return {
            "schedule": self.schedule,
            **({"stands_for": self.stands_for} if self.stands_for else {}),
            "executed_schedules": list(self.executed_schedules),
            "fell_back": self.fell_back,
            "workload": self.workload.name,
            "arch": self.arch.name,
            "steps": self.workload.steps,
            "batch": self.workload.batch,
            "dram_bytes": {k: self.counts.dram_bytes[k] for k in DRAM_KINDS},
            "dram_read_bytes": dict(self.counts.dram_read_bytes),
            "dram_write_bytes": dict(self.counts.dram_write_bytes),
            "dram_bytes_total": self.counts.dram_total_bytes,
            "sram_read_bytes": dict(self.counts.sram_read_bytes),
            "sram_write_bytes": dict(self.counts.sram_write_bytes),
            "macs": self.counts.macs,
            "activation_evaluations": self.counts.activation_evaluations,
            "tile_uses": self.counts.tile_uses,
            "energy_pj": self.energy_pj,
            "energy_breakdown_pj": dict(self.energy_breakdown_pj),
            "cycles": self.cycles,
            "seconds": self.seconds,
            "steps_per_second": self.steps_per_second,
            "mac_utilization": sum(t.mac_busy_cycles for t in timing) / self.cycles,
            "dram_utilization": sum(t.dram_busy_cycles for t in timing) / self.cycles,
            "mac_wait_dependency_cycles": sum(t.mac_wait_dependency_cycles for t in timing),
            **design_cost(self.arch).as_dict(),
            "static_power_w": static_power_w(self.arch),
            "notes": list(self.notes),
        }


MAX_MODELLED_TILES = 250_000
"""Most tiles (W_h and W_x, one direction) the model plans for one layer: a period of a plan lists
each tile a few times, at ~3-4 us and ~150 bytes per op when built (2026-11-25 measurement of
`tsilstm plan`), so this bounds one layer's planning to about 3 s and 150 MB. Hidden 16384 at the
presets' 64-unit tiles is 131,072 tiles."""


def layer_tiling(shape: LayerShape, arch: ArchConfig) -> Tiling:
    """The tiling of ``shape`` on ``arch``: square tiles of ``tile_units`` (at most the hidden size)
    at the config's weight width. Raises naming ``weight_buffer_bytes`` if one tile does not fit."""
    tiling = Tiling(
        shape.hidden_size, shape.input_size, min(arch.tile_units, shape.hidden_size),
        shape.gates, shape.proj_size, arch.weight_bytes,
    )
    if arch.weight_buffer_bytes < tiling.max_tile_bytes:
        raise InvalidParameterError(
            "weight_buffer_bytes", arch.weight_buffer_bytes,
            f"must hold at least one tile: >= {tiling.max_tile_bytes} bytes for tile_units={tiling.tile} at "
            f"{arch.weight_bits}-bit weights (use a larger buffer or smaller tile_units)",
        )
    tiles = tiling.row_blocks * (len(tiling.col_bounds["h"]) + len(tiling.col_bounds["x"]))
    if tiles > MAX_MODELLED_TILES:
        raise InvalidParameterError(
            "hidden_size", shape.hidden_size,
            f"a layer of {shape.hidden_size} units (input {shape.input_size}) in tiles of {tiling.tile} units has "
            f"{tiles} tiles, more than the {MAX_MODELLED_TILES} the model lists per period (its plans list every "
            f"tile once per sweep): use a larger tile_units or a smaller layer",
        )
    return tiling


def layer_program(shape: LayerShape, schedule: str, steps: int, arch: ArchConfig) -> Program:
    """The program of ``schedule`` for one direction of ``shape`` on ``arch``. The load-ahead room
    (``prefetch_tiles``, see ``plan_buffer_bytes``) is taken off the buffer only when needed: when the
    schedule, given the whole buffer, keeps every recurrent weight resident (nothing of W_h or W_hr
    streams), it gets the whole buffer; a W_h that fits is never counted as streamed."""
    tiling = layer_tiling(shape, arch)
    whole = make_program(schedule, tiling, arch.weight_buffer_bytes, variant=shape.variant, steps=steps)
    if keeps_recurrent_weights(whole):
        return whole
    return make_program(
        schedule, tiling, plan_buffer_bytes(arch, tiling.max_tile_bytes), variant=shape.variant, steps=steps
    )


def keeps_recurrent_weights(program: Program) -> bool:
    """True when ``program`` loads no recurrent tile (W_h, W_hr, reset rows) in its periodic body:
    they are all pinned, loaded once before the first step."""
    return not any(op.kind == LOAD and op.src != "x" for op in program.body)


def evaluate_layer(
    shape: LayerShape, schedule: str, steps: int, batch: int, arch: ArchConfig, *, layer_index: int = 0, full_timing: bool = False
) -> LayerResult:
    """Counts and timing of ONE direction of ``shape`` under ``schedule``."""
    program = layer_program(shape, schedule, steps, arch)
    traffic = activation_traffic(program.tiling, steps, batch, arch, program.hoist_inputs, program.schedule)
    counts = count_events(program, steps, batch, arch, traffic, peepholes=shape.peepholes)
    timing = simulate_layer_timing(program, steps, batch, arch, traffic, full=full_timing)
    return LayerResult(layer_index, shape, schedule, program.schedule, program.buffer_bytes, counts, timing, program.notes)


def evaluate_workload(
    workload: Workload, arch: ArchConfig, schedules: Iterable[str] = SCHEDULES, *, full_timing: bool = False
) -> list[ScheduleResult]:
    """Every schedule of ``schedules`` over ``workload`` on ``arch``: counts, cycles and energy."""
    results = []
    for schedule in schedules:
        require_choice("schedule", schedule, SCHEDULES)
        cache: dict[LayerShape, LayerResult] = {}
        layers: list[LayerResult] = []
        counts = Counts()
        cycles = 0.0
        for index, shape in enumerate(workload.layers):
            if shape not in cache:
                cache[shape] = evaluate_layer(
                    shape, schedule, workload.steps, workload.batch, arch, layer_index=index, full_timing=full_timing
                )
            one = cache[shape]
            layer = LayerResult(index, shape, one.requested_schedule, one.schedule, one.program_buffer_bytes, one.counts, one.timing, one.notes)
            for _ in range(2 if shape.bidirectional else 1):
                layers.append(layer)
                counts = counts.plus(layer.counts)
                cycles += layer.timing.cycles
        breakdown = energy_breakdown_pj(counts, cycles / arch.clock_hz, arch)
        results.append(ScheduleResult(schedule, workload, arch, counts, cycles, breakdown, tuple(layers)))
    return results


def evaluate_model(
    model: RecurrentModel, arch: ArchConfig, *, steps: int, batch: int = 1, schedules: Iterable[str] = SCHEDULES
) -> list[ScheduleResult]:
    """``evaluate_workload`` for a loaded model (``tsilstm.model.RecurrentModel``, e.g. from an
    importer) over ``steps`` time steps of ``batch`` sequences."""
    return evaluate_workload(workload_from_model(model, steps=steps, batch=batch), arch, schedules)
