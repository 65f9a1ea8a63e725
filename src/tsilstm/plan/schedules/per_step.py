"""The per-step schedules: naive, conventional, snake and pinned (docs/design.md section 3)."""

from __future__ import annotations

from tsilstm.plan.ops import Program
from tsilstm.plan.schedules.step_order import (
    emit_streamed,
    pin_prefix,
    recurrent_if_fits,
    step_items,
    stream_reserve_bytes,
    tiles_of,
)
from tsilstm.plan.tiling import Tile, Tiling


def naive(tiling: Tiling, buffer_bytes: int) -> Program:
    """Per step stream [W_x | W_h] row-block by row-block, no hoisting (a weak baseline). When all
    of it fits in the buffer it is loaded once; when the recurrent weights fit beside one tile of
    streaming room, they are loaded once and only W_x streams."""
    items = step_items(tiling, with_inputs=True)
    pinned = _all_if_fits(tiles_of(items), tiling, buffer_bytes) or recurrent_if_fits(tiles_of(items), tiling, buffer_bytes)
    body = emit_streamed(items, 0, keep=set(), pinned=set(pinned))
    return Program("naive", tiling, tuple(body), 1, 0, False, tuple(pinned), buffer_bytes)


def conventional(tiling: Tiling, buffer_bytes: int) -> Program:
    """W_x hoisted; W_h streamed every step in fixed row-major order (an LRU buffer thrashes on this
    cyclic stream, so traffic is M per step whenever M > buffer). Loaded once when it fits."""
    items = step_items(tiling, with_inputs=False)
    pinned = _all_if_fits(tiles_of(items), tiling, buffer_bytes)
    body = emit_streamed(items, 0, keep=set(), pinned=set(pinned))
    return Program("conventional", tiling, tuple(body), 1, 0, True, tuple(pinned), buffer_bytes)


def snake(tiling: Tiling, buffer_bytes: int) -> Program:
    """Conventional with the direction alternating every step: the tiles at the end of step t stay
    in the buffer and are used first at step t+1 (traffic ~ M - buffer per step)."""
    forward = step_items(tiling, with_inputs=False)
    backward = step_items(tiling, with_inputs=False, reverse=True)
    pinned = _all_if_fits(tiles_of(forward), tiling, buffer_bytes)
    if pinned:
        body = emit_streamed(forward, 0, set(), set(pinned)) + emit_streamed(backward, 1, set(), set(pinned))
        return Program("snake", tiling, tuple(body), 2, 0, True, tuple(pinned), buffer_bytes)
    carry_budget = buffer_bytes - (tiling.max_tile_bytes if tiling.proj else 0)
    keep_forward = _carry(tiles_of(forward), tiling, carry_budget)
    keep_backward = _carry(tiles_of(backward), tiling, carry_budget)
    body = emit_streamed(forward, 0, keep_forward, set()) + emit_streamed(backward, 1, keep_backward, set())
    return Program("snake", tiling, tuple(body), 2, 0, True, (), buffer_bytes)


def pinned(tiling: Tiling, buffer_bytes: int) -> Program:
    """A fixed part of W_h stays resident (the buffer less one tile of streaming room); the rest is
    streamed every step in row-major order (traffic ~ M - buffer per step)."""
    items = step_items(tiling, with_inputs=False)
    tiles = tiles_of(items)
    pin = _all_if_fits(tiles, tiling, buffer_bytes) or pin_prefix(
        [t for t in tiles if t.src == "h"], tiling, buffer_bytes - stream_reserve_bytes(tiling)
    )
    body = emit_streamed(items, 0, keep=set(), pinned=set(pin))
    notes = (f"pinned {len(pin)} of {len(tiling.tiles('h'))} W_h tiles",)
    return Program("pinned", tiling, tuple(body), 1, 0, True, tuple(pin), buffer_bytes, notes)


def _all_if_fits(tiles: list[Tile], tiling: Tiling, buffer_bytes: int) -> list[Tile]:
    total = sum(tiling.tile_bytes(t) for t in tiles)
    return list(tiles) if total <= buffer_bytes else []


def _carry(order: list[Tile], tiling: Tiling, budget_bytes: int) -> set[Tile]:
    """The longest suffix of the W_h tiles of ``order`` whose bytes fit in ``budget_bytes``: what an
    LRU buffer still holds at the end of the step."""
    h_order = [t for t in order if t.src == "h"]
    return set(pin_prefix(h_order[::-1], tiling, budget_bytes))
