"""Iso-traffic view: the weight buffer a non-interleaved schedule needs to move no more recurrent
weights than tsi (or tsi-pinned) does on the given design, and the area and leakage that buffer
costs beyond the design's (what interleaving saves).

The search asks, for many buffer sizes, how many recurrent-weight bytes a schedule moves. That is
answered in closed form from the schedules' rules (``RecurrentTraffic``), without generating a
program per probe: conventional loads W_h (and W_hr) once when it fits the buffer, else every step;
pinned keeps the longest row-major prefix of W_h that fits the buffer less one tile and streams the
rest every step; snake carries the longest suffix of each step's order that fits into the next
step. The buffer a schedule is planned for is the one ``evaluate.layer_program`` gives it (the
whole buffer when everything fits, else less the load-ahead room). Tests check the closed form
against the counts of the generated programs. Layers of the original-form GRU (two passes per
step) are counted from their programs.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from typing import Any

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.baselines import NON_INTERLEAVED
from tsilstm.accel.evaluate import layer_program, layer_tiling
from tsilstm.accel.hardware_cost import design_cost
from tsilstm.accel.timing import planned_buffer_bytes
from tsilstm.accel.weight_traffic import weight_dram_bytes
from tsilstm.accel.workloads import LayerShape, Workload
from tsilstm.plan import Tiling


def recurrent_weight_bytes(workload: Workload, schedule: str, arch: ArchConfig) -> int:
    """Recurrent-weight DRAM bytes (W_h, W_hr, reset rows) of ``schedule`` over ``workload`` on
    ``arch``, from the generated programs' closed-form counts (no timing)."""
    total = 0
    for shape in workload.layers:
        loaded = weight_dram_bytes(layer_program(shape, schedule, workload.steps, arch), workload.steps)
        total += shape.directions * sum(v for k, v in loaded.items() if k != "x")
    return total


@dataclass(frozen=True)
class RecurrentTraffic:
    """The recurrent-weight bytes one layer direction moves under conventional, snake and pinned, as
    a function of the weight buffer, from the schedules' rules (see the module doc)."""

    tiling: Tiling
    steps: int
    prefetch_tiles: int
    total_bytes: int
    cumulative_bytes: tuple[int, ...]
    """Bytes of the first k W_h tiles in row-major order, k = 0..n."""

    @classmethod
    def of(cls, tiling: Tiling, steps: int, prefetch_tiles: int) -> "RecurrentTraffic":
        """The closed form for ``tiling`` over ``steps`` steps with ``prefetch_tiles`` of load-ahead room."""
        sizes = [tiling.tile_bytes(tile) for tile in tiling.tiles("h")]
        extra = sum(tiling.tile_bytes(tile) for tile in tiling.tiles("p")) if tiling.proj else 0
        return cls(tiling, steps, prefetch_tiles, sum(sizes) + extra, tuple(itertools.accumulate(sizes, initial=0)))

    def _prefix_bytes(self, budget_bytes: int) -> int:
        """Bytes of the longest row-major prefix of W_h tiles within ``budget_bytes``."""
        return self.cumulative_bytes[bisect.bisect_right(self.cumulative_bytes, budget_bytes) - 1]

    def _suffix_bytes(self, budget_bytes: int) -> int:
        """Bytes of the longest row-major suffix of W_h tiles within ``budget_bytes``."""
        last = self.cumulative_bytes[-1]
        start = bisect.bisect_left(self.cumulative_bytes, last - budget_bytes)
        return last - self.cumulative_bytes[start]

    def bytes_moved(self, schedule: str, buffer_bytes: int) -> int:
        """Recurrent-weight bytes of ``schedule`` (conventional, snake or pinned) on a weight buffer
        of ``buffer_bytes``, over the steps."""
        steps, total = self.steps, self.total_bytes
        if total <= buffer_bytes:  # everything fits: loaded once (layer_program gives the whole buffer)
            return total
        planned = planned_buffer_bytes(buffer_bytes, self.prefetch_tiles, self.tiling.max_tile_bytes)
        if total <= planned:
            return total
        if schedule == "conventional":
            return total * steps
        if schedule == "pinned":
            pinned = self._prefix_bytes(planned - self.tiling.max_tile_bytes)
            return pinned + (total - pinned) * steps
        if schedule == "snake":
            budget = planned - (self.tiling.max_tile_bytes if self.tiling.proj else 0)
            after_forward, after_backward = steps // 2, (steps - 1) // 2
            return (total * (1 + after_forward + after_backward) - after_forward * self._suffix_bytes(budget)
                    - after_backward * self._prefix_bytes(budget))
        raise ValueError(f"no closed form for {schedule}")


def _closed_forms(workload: Workload, arch: ArchConfig) -> list[tuple[LayerShape, RecurrentTraffic | None]]:
    """Per layer: its closed form, or None where its programs are counted (original-form GRU)."""
    return [
        (shape, None if shape.variant == "reset_before" else RecurrentTraffic.of(layer_tiling(shape, arch), workload.steps, arch.prefetch_tiles))
        for shape in workload.layers
    ]


def iso_traffic_buffer_bytes(workload: Workload, schedule: str, target_bytes: float, arch: ArchConfig) -> int:
    """The smallest weight buffer (a whole number of the largest tile, at least ``arch``'s) with
    which ``schedule`` moves at most ``target_bytes`` of recurrent weights: bisection over the
    buffer, up to every layer's recurrent weights plus the load-ahead room, where nothing streams."""
    tile = max(layer_tiling(shape, arch).max_tile_bytes for shape in workload.layers)
    low = max(1, arch.weight_buffer_bytes // tile)
    largest = max(shape.recurrent_weight_bytes(arch.weight_bytes) for shape in workload.layers)
    high = max(low, -(-largest // tile) + arch.prefetch_tiles + 1)
    forms = _closed_forms(workload, arch)

    def moved(buffer_bytes: int) -> int:
        total = 0
        for shape, form in forms:
            if form is None:
                one = weight_dram_bytes(layer_program(shape, schedule, workload.steps, arch.with_overrides(weight_buffer_bytes=buffer_bytes)),
                                        workload.steps)
                total += shape.directions * sum(v for k, v in one.items() if k != "x")
            else:
                total += shape.directions * form.bytes_moved(schedule, buffer_bytes)
        return total

    def enough(tiles: int) -> bool:
        return moved(tiles * tile) <= target_bytes

    if enough(low):
        return arch.weight_buffer_bytes
    while low + 1 < high:
        middle = (low + high) // 2
        if enough(middle):
            high = middle
        else:
            low = middle
    return high * tile


def iso_traffic_view(workload: Workload, arch: ArchConfig, target_schedule: str, target_bytes: float) -> dict[str, Any]:
    """Per non-interleaved schedule: the weight buffer matching ``target_schedule``'s recurrent
    traffic (``target_bytes``), and the extra area (mm^2) and leakage (W) of that buffer over
    ``arch``'s. A JSON-ready dict."""
    base = design_cost(arch)
    out: dict[str, Any] = {"target": target_schedule, "target_weight_bytes": target_bytes}
    for schedule in NON_INTERLEAVED:
        buffer = iso_traffic_buffer_bytes(workload, schedule, target_bytes, arch)
        cost = design_cost(arch.with_overrides(weight_buffer_bytes=buffer))
        out[schedule] = {
            "weight_buffer_bytes": buffer,
            "extra_area_mm2": cost.area_mm2["weight_buffer"] - base.area_mm2["weight_buffer"],
            "extra_leakage_w": cost.leakage_w["weight_buffer"] - base.leakage_w["weight_buffer"],
        }
    return out
