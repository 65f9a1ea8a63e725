"""Tiling of the recurrent weights into row-blocks of hidden units and column blocks (docs/design.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from tsilstm.cell_spec import CellSpec, cell_with_gates
from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_int

SOURCES = ("h", "x", "p", "r")
"""Tile sources: ``h`` = W_h (recurrent), ``x`` = W_x (input), ``p`` = W_hr (LSTM projection),
``r`` = the reset-gate rows of W_h of an original-form GRU (``reset_before``), whose ``h`` tiles
then hold only the update and candidate rows."""


class Tile(NamedTuple):
    """One weight tile: ``src`` matrix, row-block ``row``, column block ``col``."""

    src: str
    row: int
    col: int


def block_bounds(size: int, block: int) -> tuple[tuple[int, int], ...]:
    """Split ``size`` units into consecutive blocks of ``block`` units (the last may be smaller)."""
    return tuple((start, min(start + block, size)) for start in range(0, size, block))


@dataclass(frozen=True)
class Tiling:
    """How one recurrent layer direction is cut into tiles.

    ``hidden`` units are split into row-blocks of ``tile`` units; row-block r owns the ``gates * b``
    rows of W_h (and W_x) that produce its gates. W_h's columns (the ``recurrent`` inputs: hidden,
    or proj_size with a projection) and W_x's columns (``input``) are split into blocks of ``tile``.
    With a projection, W_hr (proj x hidden) is split into row-blocks over proj and column blocks
    over hidden, one gate each. With ``reset_before`` (original-form GRU) W_h's reset-gate rows form
    the separate source ``r`` (one gate per tile) and ``h`` tiles hold the other two gates.
    """

    hidden: int
    input: int
    tile: int
    gates: int = 4
    proj: int = 0
    dtype_bytes: int = 4
    reset_before: bool = False

    def __post_init__(self) -> None:
        require_int("hidden", self.hidden)
        require_int("input", self.input)
        require_int("tile", self.tile, maximum=self.hidden)
        require_int("proj", self.proj, minimum=0)
        require_int("dtype_bytes", self.dtype_bytes, maximum=16)
        cell_with_gates(self.gates)
        if self.proj >= self.hidden:
            raise InvalidParameterError("proj", self.proj, f"must be 0 or smaller than hidden={self.hidden}")
        if self.reset_before and not self.spec.supports_reset_before:
            raise InvalidParameterError("reset_before", self.reset_before, f"the {self.spec.name.upper()} has no reset_before form")

    @property
    def spec(self) -> CellSpec:
        """The facts of the tiled cell (known by its gate count)."""
        return cell_with_gates(self.gates)

    @property
    def recurrent(self) -> int:
        """Width of h_{t-1}: the projection size if there is one, else hidden."""
        return self.proj or self.hidden

    @cached_property
    def row_bounds(self) -> tuple[tuple[int, int], ...]:
        """(start, stop) hidden units of each row-block."""
        return block_bounds(self.hidden, self.tile)

    @cached_property
    def col_bounds(self) -> dict[str, tuple[tuple[int, int], ...]]:
        """(start, stop) column ranges of the blocks of each source matrix."""
        out = {"h": block_bounds(self.recurrent, self.tile), "x": block_bounds(self.input, self.tile)}
        if self.proj:
            out["p"] = block_bounds(self.hidden, self.tile)
        if self.reset_before:
            out["r"] = out["h"]
        return out

    @cached_property
    def proj_row_bounds(self) -> tuple[tuple[int, int], ...]:
        """(start, stop) rows of W_hr in each projection row-block (empty without projection)."""
        return block_bounds(self.proj, self.tile) if self.proj else ()

    @property
    def row_blocks(self) -> int:
        """Number of row-blocks R over the hidden units."""
        return len(self.row_bounds)

    def rows_of(self, src: str) -> tuple[tuple[int, int], ...]:
        """Row-block bounds of source matrix ``src`` (hidden units, or projection rows for ``p``)."""
        return self.proj_row_bounds if src == "p" else self.row_bounds

    def tiles(self, src: str) -> list[Tile]:
        """Every tile of ``src`` in row-major order."""
        return [Tile(src, r, c) for r in range(len(self.rows_of(src))) for c in range(len(self.col_bounds[src]))]

    def tile_bytes(self, tile: Tile) -> int:
        """Bytes of ``tile`` at ``dtype_bytes`` per weight."""
        r0, r1 = self.rows_of(tile.src)[tile.row]
        c0, c1 = self.col_bounds[tile.src][tile.col]
        return self.gates_of(tile.src) * (r1 - r0) * (c1 - c0) * self.dtype_bytes

    def gates_of(self, src: str) -> int:
        """Gates (row groups) a tile of ``src`` holds: 1 for ``p`` and ``r``, 2 for ``h`` with
        ``reset_before``, else all gates."""
        if src in ("p", "r"):
            return 1
        return self.gates - 1 if (src == "h" and self.reset_before) else self.gates

    def matrix_bytes(self, src: str) -> int:
        """Bytes of the whole matrix ``src`` (W_h for ``h``: M of docs/design.md section 1)."""
        if src not in self.col_bounds:
            return 0
        rows = self.proj if src == "p" else self.gates_of(src) * self.hidden
        cols = self.hidden if src == "p" else (self.input if src == "x" else self.recurrent)
        return rows * cols * self.dtype_bytes

    @cached_property
    def max_tile_bytes(self) -> int:
        """The largest tile of any source, in bytes."""
        return max(self.tile_bytes(Tile(src, 0, 0)) for src in self.col_bounds)
