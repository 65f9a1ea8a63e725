"""Iso-traffic view: the weight buffer a non-interleaved schedule needs to move no more recurrent
weights than tsi (or tsi-pinned) does on the given design, and the area and leakage that buffer
costs beyond the design's (what interleaving saves)."""

from __future__ import annotations

from typing import Any

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.baselines import NON_INTERLEAVED
from tsilstm.accel.evaluate import layer_program, layer_tiling
from tsilstm.accel.hardware_cost import design_cost
from tsilstm.accel.weight_traffic import weight_dram_bytes
from tsilstm.accel.workloads import Workload


def recurrent_weight_bytes(workload: Workload, schedule: str, arch: ArchConfig) -> int:
    """Recurrent-weight DRAM bytes (W_h, W_hr, reset rows) of ``schedule`` over ``workload`` on
    ``arch``, from the closed-form counts (no timing)."""
    total = 0
    for shape in workload.layers:
        loaded = weight_dram_bytes(layer_program(shape, schedule, workload.steps, arch), workload.steps)
        total += shape.directions * sum(v for k, v in loaded.items() if k != "x")
    return total


def iso_traffic_buffer_bytes(workload: Workload, schedule: str, target_bytes: float, arch: ArchConfig) -> int:
    """The smallest weight buffer (a whole number of the largest tile, at least ``arch``'s) with
    which ``schedule`` moves at most ``target_bytes`` of recurrent weights: bisection over the
    buffer, up to every layer's recurrent weights plus the load-ahead room, where nothing streams."""
    tile = max(layer_tiling(shape, arch).max_tile_bytes for shape in workload.layers)
    low = max(1, arch.weight_buffer_bytes // tile)
    largest = max(shape.recurrent_weight_bytes(arch.weight_bytes) for shape in workload.layers)
    high = max(low, -(-largest // tile) + arch.prefetch_tiles + 1)

    def enough(tiles: int) -> bool:
        return recurrent_weight_bytes(workload, schedule, arch.with_overrides(weight_buffer_bytes=tiles * tile)) <= target_bytes

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
