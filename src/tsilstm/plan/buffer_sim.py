"""Buffer simulation: replays a plan's loads and evictions through a weight buffer of a given size
and counts what comes from DRAM. Independent of the generators: it reads nothing but the op list."""

from __future__ import annotations

from dataclasses import dataclass, field

from tsilstm.errors import PlanError
from tsilstm.plan.ops import EVICT, LOAD, USE, Plan
from tsilstm.plan.tiling import Tile


@dataclass(frozen=True)
class BufferStats:
    """What a plan moves through the weight buffer.

    ``weight_bytes_loaded`` are the DRAM bytes of all loads, split by source in
    ``bytes_by_source`` (``h`` = W_h, ``x`` = W_x, ``p`` = W_hr, and ``r`` = W_h's reset-gate rows
    for an original-form GRU only); ``peak_buffer_bytes`` is the most
    resident at once; ``loads`` and ``uses`` count ops.
    """

    weight_bytes_loaded: int
    bytes_by_source: dict[str, int] = field(default_factory=dict)
    peak_buffer_bytes: int = 0
    loads: int = 0
    uses: int = 0


def simulate_buffer(plan: Plan, buffer_bytes: int | None = None) -> BufferStats:
    """Replay ``plan`` through a buffer of ``buffer_bytes`` (default: the plan's own) and count the
    DRAM bytes of weights loaded. Raises ``PlanError`` naming the op that loads a resident tile,
    evicts or uses an absent one, or overflows the buffer."""
    capacity = plan.buffer_bytes if buffer_bytes is None else buffer_bytes
    tiling = plan.tiling
    resident: dict[Tile, int] = {}
    used_bytes = peak = loads = uses = 0
    by_source = {"h": 0, "x": 0, "p": 0}
    if tiling.reset_before:
        by_source["r"] = 0
    for index, op in enumerate(plan.ops):
        if op.kind == LOAD:
            tile = op.tile
            if tile in resident:
                raise PlanError(f"op {index} ({op.describe()}): tile is already in the buffer")
            size = tiling.tile_bytes(tile)
            resident[tile] = size
            used_bytes += size
            if used_bytes > capacity:
                raise PlanError(
                    f"op {index} ({op.describe()}): buffer overflow, {used_bytes} bytes resident "
                    f"> buffer of {capacity} bytes"
                )
            peak = max(peak, used_bytes)
            loads += 1
            by_source[tile.src] += size
        elif op.kind == EVICT:
            if op.tile not in resident:
                raise PlanError(f"op {index} ({op.describe()}): tile is not in the buffer")
            used_bytes -= resident.pop(op.tile)
        elif op.kind == USE:
            if op.tile not in resident:
                raise PlanError(f"op {index} ({op.describe()}): tile is used but not in the buffer")
            uses += 1
    return BufferStats(sum(by_source.values()), by_source, peak, loads, uses)
