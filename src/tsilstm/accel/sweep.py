"""Design-space sweeps: a grid of (workload, weight buffer, bandwidth, weight bits, batch) points,
each evaluated for every schedule into flat rows (one per schedule) ready for CSV and plots."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterable

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.baselines import with_baselines
from tsilstm.accel.evaluate import ScheduleResult, evaluate_workload
from tsilstm.accel.energy import ENERGY_PARTS
from tsilstm.accel.workloads import Workload, get_workload
from tsilstm.plan import SCHEDULES


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: a named workload with a batch, and accelerator overrides (None keeps
    the config's value)."""

    workload: str
    batch: int | None = None
    weight_buffer_bytes: int | None = None
    dram_bandwidth_bytes_per_s: float | None = None
    weight_bits: int | None = None

    def arch(self, base: ArchConfig) -> ArchConfig:
        """``base`` with this point's overrides."""
        changes = {
            k: v for k, v in (
                ("weight_buffer_bytes", self.weight_buffer_bytes),
                ("dram_bandwidth_bytes_per_s", self.dram_bandwidth_bytes_per_s),
                ("weight_bits", self.weight_bits),
            ) if v is not None
        }
        return base.with_overrides(**changes) if changes else base

    def workload_of(self) -> Workload:
        """The named workload at this point's batch."""
        base = get_workload(self.workload)
        if self.batch is None or self.batch == base.batch:
            return base
        return Workload(base.name, base.layers, base.steps, self.batch, base.family, base.source)


def sweep_grid(
    workloads: Iterable[str], *, buffers: Iterable[int | None] = (None,), bandwidths: Iterable[float | None] = (None,),
    weight_bits: Iterable[int | None] = (None,), batches: Iterable[int | None] = (None,),
) -> list[SweepPoint]:
    """Every combination of the given values (validated names first: unknown workloads raise)."""
    names = list(workloads)
    for name in names:
        get_workload(name)
    return [
        SweepPoint(w, batch, buffer, bandwidth, bits)
        for w, buffer, bandwidth, bits, batch in itertools.product(names, buffers, bandwidths, weight_bits, batches)
    ]


def recurrent_matrix_bytes(workload: Workload, arch: ArchConfig) -> list[int]:
    """M = bytes(W_h) (+ W_hr) of every layer direction of ``workload`` at ``arch``'s weight width."""
    return [shape.recurrent_weight_bytes(arch.weight_bytes) for shape in workload.layers for _ in range(shape.directions)]


def result_row(point: SweepPoint, result: ScheduleResult) -> dict[str, Any]:
    """A flat row (CSV-ready) of one schedule at one point; ``ideal_tsi_pinned_weight_bytes_per_step``
    is sum over layer directions of max(M - B, 0) / 2, the figure of docs/design.md section 3."""
    arch, workload = result.arch, result.workload
    matrices = recurrent_matrix_bytes(workload, arch)
    buffer = arch.weight_buffer_bytes
    row: dict[str, Any] = {
        "workload": workload.name,
        "schedule": result.schedule,
        "stands_for": result.stands_for,
        "executed": "+".join(result.executed_schedules),
        "steps": workload.steps,
        "batch": workload.batch,
        "weight_buffer_bytes": buffer,
        "dram_bandwidth_bytes_per_s": arch.dram_bandwidth_bytes_per_s,
        "weight_bits": arch.weight_bits,
        "recurrent_matrix_bytes": sum(matrices),
        "weight_bytes": result.counts.dram_bytes["weights"],
        "weight_bytes_per_step": result.counts.dram_bytes["weights"] / workload.steps,
        "ideal_tsi_pinned_weight_bytes_per_step": sum(max(m - buffer, 0) / 2 for m in matrices),
        "input_weight_bytes": result.counts.dram_bytes["input_weights"],
        "dram_bytes_total": result.counts.dram_total_bytes,
        "energy_pj": result.energy_pj,
        "energy_pj_per_step": result.energy_pj / workload.steps,
        "cycles": result.cycles,
        "seconds": result.seconds,
        "steps_per_second": result.steps_per_second,
    }
    for part in ENERGY_PARTS:
        row[f"energy_{part}_pj"] = result.energy_breakdown_pj[part]
    return row


def evaluate_point(point: SweepPoint, base: ArchConfig, schedules: tuple[str, ...] = SCHEDULES) -> list[dict[str, Any]]:
    """The rows of every schedule at ``point``, then the ``best-non-interleaved`` baseline row (a
    pure function; the CLI maps it over processes)."""
    arch = point.arch(base)
    return [result_row(point, result) for result in with_baselines(evaluate_workload(point.workload_of(), arch, schedules))]
