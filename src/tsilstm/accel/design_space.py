"""Design-space exploration (``tsilstm explore``): a grid of accelerator designs (weight buffer, tile
size, MAC count, clock, weight width, DRAM type, technology node) around a base config, each design
evaluated for every schedule into flat rows, and the Pareto front of energy per step, latency per
step and area per schedule. Pure functions; the CLI maps ``evaluate_designs`` over a Dask cluster."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.dram_types import DRAM_TYPES, get_dram_type
from tsilstm.accel.evaluate import evaluate_workload, layer_tiling
from tsilstm.accel.hardware_cost import design_cost
from tsilstm.accel.pareto import pareto_front
from tsilstm.accel.workloads import Workload
from tsilstm.errors import InvalidParameterError, TsilstmError
from tsilstm.plan import SCHEDULES

OBJECTIVES = ("energy_pj_per_step", "seconds_per_step", "area_mm2")
"""What the Pareto front minimises: energy per time step (pJ), latency per time step (s), area (mm^2)."""


@dataclass(frozen=True)
class DesignPoint:
    """One accelerator design: the base config with these fields replaced (units in the names)."""

    weight_buffer_bytes: int
    tile_units: int
    mac_units: int
    clock_hz: float
    weight_bits: int
    dram: str
    node_nm: int

    def arch(self, base: ArchConfig) -> ArchConfig:
        """``base`` with this design's values (DRAM bandwidth, latency, energy and interface cost from ``dram``);
        raises ``InvalidParameterError`` naming the field when the design is impossible."""
        return base.with_overrides(
            name=f"{base.name}-explore", weight_buffer_bytes=self.weight_buffer_bytes, tile_units=self.tile_units,
            mac_units=self.mac_units, clock_hz=self.clock_hz, weight_bits=self.weight_bits, node_nm=self.node_nm,
        ).with_dram_type(self.dram)


@dataclass(frozen=True)
class DesignSpace:
    """The values of each axis; the space is their product."""

    weight_buffer_bytes: tuple[int, ...]
    tile_units: tuple[int, ...]
    mac_units: tuple[int, ...]
    clock_hz: tuple[float, ...]
    weight_bits: tuple[int, ...]
    dram: tuple[str, ...]
    node_nm: tuple[int, ...]

    def __post_init__(self) -> None:
        for name, values in asdict(self).items():
            if not values:
                raise InvalidParameterError(name, values, "at least one value")
        for name in self.dram:
            get_dram_type(name)

    def points(self) -> list[DesignPoint]:
        """Every design of the space, in a fixed order (the order chunks and resumes rely on)."""
        return [
            DesignPoint(*values)
            for values in itertools.product(
                self.weight_buffer_bytes, self.tile_units, self.mac_units, self.clock_hz, self.weight_bits, self.dram, self.node_nm
            )
        ]

    def as_dict(self) -> dict[str, list[Any]]:
        """The axes as a JSON-ready dict."""
        return {name: list(values) for name, values in asdict(self).items()}


def why_invalid(point: DesignPoint, workload: Workload, base: ArchConfig) -> str | None:
    """None when ``point`` can run ``workload``; else the reason (the config error naming its
    field, e.g. a tile larger than the buffer, or float arithmetic at 8 bits)."""
    try:
        arch = point.arch(base)
        for shape in workload.layers:
            layer_tiling(shape, arch)
    except TsilstmError as error:
        return str(error)
    return None


def split_valid(
    points: Iterable[DesignPoint], workload: Workload, base: ArchConfig
) -> tuple[list[DesignPoint], list[tuple[DesignPoint, str]]]:
    """The points that can run ``workload``, and the others with the reason each cannot."""
    valid, invalid = [], []
    for point in points:
        reason = why_invalid(point, workload, base)
        if reason is None:
            valid.append(point)
        else:
            invalid.append((point, reason))
    return valid, invalid


def design_rows(point: DesignPoint, workload: Workload, base: ArchConfig, schedules: Sequence[str] = SCHEDULES) -> list[dict[str, Any]]:
    """One flat row per schedule of ``point`` running ``workload``: the design's values, the
    schedule executed, energy (pJ) and latency (s) per time step, area (mm^2) and leakage (W)."""
    arch = point.arch(base)
    cost = design_cost(arch)
    rows = []
    for result in evaluate_workload(workload, arch, schedules):
        steps = workload.steps
        rows.append({
            **asdict(point),
            "workload": workload.name,
            "schedule": result.schedule,
            "executed": "+".join(result.executed_schedules),
            "energy_pj_per_step": result.energy_pj / steps,
            "seconds_per_step": result.seconds / steps,
            "area_mm2": cost.total_area_mm2,
            "leakage_w": cost.total_leakage_w,
            "steps_per_second": result.steps_per_second,
            "weight_dram_bytes_per_step": result.counts.dram_bytes["weights"] / steps,
            "dram_bytes_per_step": result.counts.dram_total_bytes / steps,
        })
    return rows


def evaluate_designs(
    points: Sequence[DesignPoint], workload: Workload, base: ArchConfig, schedules: Sequence[str] = SCHEDULES
) -> list[dict[str, Any]]:
    """The rows of every point of ``points`` (one chunk of the space), in order."""
    return [row for point in points for row in design_rows(point, workload, base, schedules)]


def fronts_by_schedule(rows: Sequence[dict[str, Any]], objectives: Sequence[str] = OBJECTIVES) -> dict[str, list[dict[str, Any]]]:
    """Per schedule, the rows on its Pareto front in ``objectives`` (each minimised), sorted by the
    first objective."""
    by_schedule: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_schedule.setdefault(row["schedule"], []).append(row)
    return {
        schedule: sorted(pareto_front(group, objectives), key=lambda row: tuple(row[key] for key in objectives))
        for schedule, group in by_schedule.items()
    }


DRAM_NAMES = tuple(DRAM_TYPES)
"""The DRAM types an exploration may name."""


def iso_area_view(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """At equal area: for each distinct design area A (mm^2, ascending), per schedule the least
    energy per step (pJ) and the least latency per step (s) any design of area <= A achieves, with
    the design that achieves the energy. What each schedule gets from the same silicon."""
    out = []
    for budget in sorted({row["area_mm2"] for row in rows}):
        entry: dict[str, Any] = {"area_mm2": budget}
        for schedule in dict.fromkeys(row["schedule"] for row in rows):
            within = [row for row in rows if row["schedule"] == schedule and row["area_mm2"] <= budget]
            if within:
                best = min(within, key=lambda row: row["energy_pj_per_step"])
                entry[schedule] = {
                    "energy_pj_per_step": best["energy_pj_per_step"],
                    "seconds_per_step": min(row["seconds_per_step"] for row in within),
                    "design": {key: best[key] for key in DesignPoint.__dataclass_fields__},
                }
        out.append(entry)
    return out
