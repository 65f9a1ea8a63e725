"""Per-step tile orders shared by the per-step schedules (naive, conventional, snake, pinned)."""

from __future__ import annotations

from typing import Callable, Sequence

from tsilstm.plan.ops import Op, finish, project, use
from tsilstm.plan.tiling import Tile, Tiling


def step_ranges(tiling: Tiling, reverse: bool = False) -> tuple[range, range, range]:
    """Row-blocks, W_h column blocks and W_x column blocks in the order a step visits them
    (ascending, or all descending when ``reverse``)."""
    rows = range(tiling.row_blocks)
    h_cols = range(len(tiling.col_bounds["h"]))
    x_cols = range(len(tiling.col_bounds["x"]))
    if reverse:
        return rows[::-1], h_cols[::-1], x_cols[::-1]
    return rows, h_cols, x_cols


def step_items(tiling: Tiling, with_inputs: bool, reverse: bool = False) -> list[Tile | Op]:
    """The work of one step, in order: each row-block's tiles (x tiles first when ``with_inputs``),
    then its finish; row-blocks ascending (descending and columns descending when ``reverse``);
    with a projection, the W_hr tiles and the project op follow. Tiles stand for their use; the
    step of every op is 0 (relative)."""
    rows, h_cols, x_cols = step_ranges(tiling, reverse)
    items = row_pass(rows, x_cols if with_inputs else (), "h", h_cols, finish)
    if tiling.proj:
        p_tiles = tiling.tiles("p")
        items += p_tiles[::-1] if reverse else p_tiles
        items.append(project(0))
    return items


def row_pass(rows: Sequence[int], x_cols: Sequence[int], src: str, cols: Sequence[int],
             close: Callable[[int, int], Op]) -> list[Tile | Op]:
    """One pass over ``rows``: each row-block's x tiles (``x_cols``, none when empty), then its
    ``src`` tiles over ``cols``, then ``close(row, 0)`` (finish or reset)."""
    items: list[Tile | Op] = []
    for r in rows:
        items += [Tile("x", r, c) for c in x_cols]
        items += [Tile(src, r, c) for c in cols]
        items.append(close(r, 0))
    return items


def tiles_of(items: list[Tile | Op]) -> list[Tile]:
    """The tiles among ``items``, in order."""
    return [item for item in items if isinstance(item, Tile)]


def emit_streamed(items: list[Tile | Op], step: int, keep: set[Tile], pinned: set[Tile]) -> list[Op]:
    """Ops for one step: each tile is loaded (unless pinned), used for ``step`` and evicted unless
    it is pinned or in ``keep`` (carried to the next step); the residency pass of expansion drops
    loads of tiles still resident."""
    ops: list[Op] = []
    for item in items:
        if isinstance(item, Tile):
            if item in pinned:
                ops.append(use(item, step))
                continue
            ops += [Op("load", item.src, item.row, item.col), use(item, step)]
            if item not in keep:
                ops.append(Op("evict", item.src, item.row, item.col))
        else:
            ops.append(item.shifted(step))
    return ops


def pin_prefix(tiles: list[Tile], tiling: Tiling, budget_bytes: int) -> list[Tile]:
    """The longest prefix of ``tiles`` whose bytes fit in ``budget_bytes``."""
    pinned: list[Tile] = []
    used = 0
    for tile in tiles:
        size = tiling.tile_bytes(tile)
        if used + size > budget_bytes:
            break
        pinned.append(tile)
        used += size
    return pinned


def stream_reserve_bytes(tiling: Tiling) -> int:
    """Buffer kept for streaming next to pinned tiles: one of the largest tiles, all a plan needs
    (a consumer that wants double-buffered loads generates the plan for a buffer one tile smaller)."""
    return tiling.max_tile_bytes


def recurrent_if_fits(tiles: list[Tile], tiling: Tiling, buffer_bytes: int) -> list[Tile]:
    """The recurrent tiles (every source but W_x) of ``tiles`` when they fit in ``buffer_bytes``
    beside one tile of streaming room for W_x, else none: a schedule never streams a W_h that fits."""
    recurrent = [t for t in tiles if t.src != "x"]
    total = sum(tiling.tile_bytes(t) for t in recurrent)
    return recurrent if total + stream_reserve_bytes(tiling) <= buffer_bytes else []
