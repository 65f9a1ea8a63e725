"""Time-step interleaved weight reuse (Park et al., ISLPED 2020), in the sweep formulation of
docs/design.md section 3: each tile is loaded once per sweep and used for two adjacent steps."""

from __future__ import annotations

from tsilstm.plan.ops import Op, Program, evict, finish, load, use
from tsilstm.plan.schedules.step_order import pin_prefix, stream_reserve_bytes
from tsilstm.plan.tiling import Tile, Tiling


def tsi(tiling: Tiling, buffer_bytes: int, *, pin: bool = False) -> Program:
    """Sweep k (s = 2k) covers steps s..s+2:

    phase 1, row-blocks r ascending, lower tiles (c < r) c ascending: use for s and s+1, then
    finish r for s; phase 2, r descending, upper tiles c > r descending: use for s+1 and s+2, then
    the diagonal for s+1, finish r for s+1, the diagonal for s+2.

    Lower tiles serve {2k, 2k+1}, upper tiles {2k+1, 2k+2}; sweeps start at k = -1 so step 0 gets
    its upper tiles. The buffer needs one tile. With ``pin`` (tsi-pinned) the buffer less one tile
    of streaming room holds tiles that are never reloaded, upper tiles first (with an even step
    count they are loaded once more than the lower ones); if W_h fits it is loaded once.
    """
    rows = tiling.row_blocks
    h_tiles = tiling.tiles("h")
    m_bytes = tiling.matrix_bytes("h")
    fits = m_bytes <= buffer_bytes
    pinned: list[Tile] = []
    if fits:
        pinned = h_tiles
    elif pin:
        order = _sweep_tile_order(rows)
        pinned = pin_prefix(order, tiling, buffer_bytes - stream_reserve_bytes(tiling))
    pinned_set = set(pinned)

    def apply(tile: Tile, uses: list[Op]) -> list[Op]:
        if tile in pinned_set:
            return uses
        return [load(tile), *uses, evict(tile)]

    body: list[Op] = []
    for r in range(rows):  # phase 1
        for c in range(r):
            body += apply(Tile("h", r, c), [use(Tile("h", r, c), 0, 2)])
        body.append(finish(r, 0))
    for r in range(rows - 1, -1, -1):  # phase 2
        for c in range(rows - 1, r, -1):
            body += apply(Tile("h", r, c), [use(Tile("h", r, c), 1, 2)])
        diag = Tile("h", r, r)
        body += apply(diag, [use(diag, 1), finish(r, 1), use(diag, 2)])
    name = "tsi-pinned" if pin else "tsi"
    notes = (f"pinned {len(pinned)} of {len(h_tiles)} W_h tiles",) if pin or fits else ()
    return Program(name, tiling, tuple(body), 2, -1, True, tuple(pinned), buffer_bytes, notes)


def _sweep_tile_order(rows: int) -> list[Tile]:
    """Every W_h tile in pinning preference: upper tiles (c >= r) in sweep order, then lower tiles."""
    lower = [Tile("h", r, c) for r in range(rows) for c in range(r)]
    upper = [Tile("h", r, c) for r in range(rows - 1, -1, -1) for c in range(rows - 1, r - 1, -1)]
    return upper + lower
