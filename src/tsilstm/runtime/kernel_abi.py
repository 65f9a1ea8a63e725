"""The native kernel's layout, codes and call signature, read from the compiled extension.

They are defined once, in the native sources (the packed format in ``native/layout.h``, the call's
argument list in ``native/run_direction.c``, what each instruction set runs in ``native/dispatch.c``)
and exported by the extension; packing, execution and the memory budget take them from here, so
Python and C cannot disagree about a layout. This is the only Python module that reads the layout's
size constants: elsewhere tile sizes and offsets come from ``tile_layout``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from tsilstm.runtime import _kernel as kernel

VEC_FLOATS: int = kernel.VEC
"""Rows of a tile are padded to a multiple of this (one 512-bit register of float32)."""
GROUP_ROWS: int = kernel.GROUP_ROWS
"""Rows the microkernel applies together; a tile is stored as groups of this many rows, each
group column-major ([K][group rows])."""
ALIGN_BYTES: int = kernel.ALIGN_BYTES
"""Alignment of the packed weight buffers (a cache line)."""
OP_FIELDS: int = kernel.OP_FIELDS
"""Fields of one native op: kind, row, col, step offset, nsteps, weight offset (elements)."""
OP_USE_H: int = kernel.OP_USE_H
"""Apply a whole W_h tile (every gate of its row-block) to h_{t-1}."""
OP_USE_P: int = kernel.OP_USE_P
"""Apply a W_hr tile (LSTM projection) to m_t."""
OP_FINISH: int = kernel.OP_FINISH
"""Cell update of a row-block for one step."""
OP_PROJECT: int = kernel.OP_PROJECT
"""h_t of a projection row-block is complete for one step."""
OP_USE_R: int = kernel.OP_USE_R
"""Original-form GRU: apply a tile of reset-gate rows to h_{t-1}."""
OP_RESET: int = kernel.OP_RESET
"""Original-form GRU: r_t * h_{t-1} of a row-block is complete for one step."""
OP_USE_ZN: int = kernel.OP_USE_ZN
"""Original-form GRU: apply a tile's update rows to h_{t-1} and its candidate rows to r_t * h_{t-1}."""
INT8_ACT_OFFSET: int = kernel.INT8_ACT_OFFSET
"""What quantized activations are stored plus (uint8 q + offset); an int8 tile's row offsets undo it."""
INT8_ROW_TRAILER_BYTES: int = kernel.INT8_ROW_TRAILER_BYTES
"""Bytes per row after an int8 tile's groups: the float32 scale, then the int32 row offset."""
MAX_BODY_SPAN_STEPS: int = kernel.MAX_BODY_SPAN
"""Steps one body instance may touch (half the kernel's ring of partial sums)."""
MAX_KERNEL_BATCH: int = kernel.MAX_BATCH
"""Largest batch one kernel call takes; larger batches run in slices."""
MAX_TILE_UNITS: int = kernel.MAX_TILE
"""Largest tile, in hidden units."""
CELL_CODES: dict[str, int] = {"lstm": kernel.CELL_LSTM, "gru": kernel.CELL_GRU}
"""The kernel's cell codes."""
VARIANT_CODES: dict[str, int] = {
    "standard": kernel.VARIANT_STANDARD,
    "reset_after": kernel.VARIANT_STANDARD,
    "reset_before": kernel.VARIANT_RESET_BEFORE,
}
"""The kernel's codes for the model's cell variants (the reset-after GRU runs as a standard cell)."""
ACTIVATION_CODES: dict[str, int] = {name: code for code, name in enumerate(kernel.ACTIVATIONS)}
"""The kernel's code of each activation function (tsilstm.activations names)."""
CELL_ACTIVATIONS: int = kernel.CELL_ACTIVATIONS
"""Activation slots of a general cell (LSTM f, g, h; GRU f, g and one unused)."""
ISAS: tuple[str, ...] = tuple(kernel.ISAS)
"""Instruction sets of the tile product, in the kernel's numbering."""
WEIGHT_DTYPES: tuple[str, ...] = tuple(kernel.WEIGHT_DTYPES)
"""Element types of the packed recurrent weights (W_h, W_hr); W_ih's follows (``input_weight_dtype``)."""
WEIGHT_DTYPE_CODES: dict[str, int] = {name: code for name, (code, _) in kernel.WEIGHT_DTYPES.items()}
"""The kernel's code of each weight element type."""
WEIGHT_BYTES: dict[str, int] = {name: size for name, (_, size) in kernel.WEIGHT_DTYPES.items()}
"""Bytes per packed recurrent weight of each element type."""
WEIGHT_DTYPE_NAMES: dict[int, str] = {code: name for name, code in WEIGHT_DTYPE_CODES.items()}
"""The element type of each kernel code."""
INTEGER_DOT_ISAS: tuple[str, ...] = tuple(kernel.INTEGER_DOT_ISAS)
"""Instruction sets on which int8 weights meet quantized activations in integer dot products."""
INPUT_TILE_ISAS: tuple[str, ...] = tuple(kernel.INPUT_TILE_ISAS)
"""Instruction sets whose hoisted input product of low-precision W_ih runs on tile units (AMX)."""

RUN_ARGUMENTS: tuple[str, ...] = tuple(kernel.RUN_ARGUMENTS)
"""The kernel's ``run_direction`` arguments in its order (defined once, in run_direction.c)."""
CALL_ARGUMENTS: tuple[str, ...] = ("batch", "steps", "k_first", "k_last", "x", "h0", "y", "c")
"""The arguments that change from call to call, passed first and by position (execution.py)."""
LENGTHS_ARGUMENT = "lengths"
"""The per-call argument passed by keyword, when given (the kernel's last)."""
STATIC_ARGUMENTS: tuple[str, ...] = tuple(name for name in RUN_ARGUMENTS if name not in (*CALL_ARGUMENTS, LENGTHS_ARGUMENT))
"""The arguments that do not change from call to call, in the kernel's order after CALL_ARGUMENTS:
built by name (execution.py) and passed by position, they parse much faster than keywords."""
if RUN_ARGUMENTS != (*CALL_ARGUMENTS, *STATIC_ARGUMENTS, LENGTHS_ARGUMENT):  # a stale or reordered build
    raise ImportError(f"tsilstm.runtime._kernel takes {RUN_ARGUMENTS}: the per-call arguments "
                      f"{CALL_ARGUMENTS} must come first and {LENGTHS_ARGUMENT!r} last; rebuild the extension")


@dataclass(frozen=True)
class TileLayout:
    """One packed tile as the kernel lays it out (native/layout.h): ``rows`` x ``k`` weights."""

    elements: int
    """Elements of the weight type the tile occupies (padding and int8 trailer included)."""
    nbytes: int
    """Bytes the tile occupies."""
    k_lane: int
    """Consecutive k of one row stored together (one 32-bit lane): 1, 2 (bfloat16) or 4 (int8)."""
    stored_k: int
    """k one row stores: k rounded up to ``k_lane`` (zero weights beyond k)."""
    scales_at_bytes: int | None
    """int8: byte offset of the float32 row scales from the tile's start; None otherwise."""
    offsets_at_bytes: int | None
    """int8: byte offset of the int32 row offsets from the tile's start; None otherwise."""


@lru_cache(maxsize=4096)
def tile_layout(dtype: str, k: int, rows: int) -> TileLayout:
    """The layout of one packed tile of ``rows`` (a multiple of VEC_FLOATS) x ``k`` weights of
    element type ``dtype`` (WEIGHT_DTYPES), as the kernel defines it."""
    elements, nbytes, lane, stored_k, scales, offsets = kernel.tile_layout(WEIGHT_DTYPE_CODES[dtype], k, rows)
    return TileLayout(elements, nbytes, lane, stored_k, None if scales < 0 else scales, None if offsets < 0 else offsets)


def input_weight_dtype(dtype: str, isa: str) -> str:
    """The element type of the packed W_ih for recurrent weights of ``dtype`` run on ``isa`` (the
    kernel's rule, native/layout.h: int8 with int8; bfloat16 with bfloat16 where the input product
    runs on AMX tiles; float32 otherwise)."""
    return WEIGHT_DTYPE_NAMES[kernel.input_weight_dtype(WEIGHT_DTYPE_CODES[dtype], ISAS.index(isa))]


def input_tail_bytes(input_dtype: str) -> int:
    """Zero bytes a packed W_ih buffer of ``input_dtype`` ends in (what a tile unit's load reads
    past its last tile)."""
    return int(kernel.input_tail_bytes(WEIGHT_DTYPE_CODES[input_dtype]))


def block_layout(gates: int, variant: str, tile_units: int, units: int) -> tuple[int, int]:
    """(gate stride, rows) of a row-block of ``units`` hidden units in a layer tiled by
    ``tile_units``: gate g's rows start at ``g * gate stride`` in the block's vectors and W_ih
    tiles, which have ``rows`` rows (padding included)."""
    return tuple(kernel.block_layout(gates, VARIANT_CODES[variant], tile_units, units))  # type: ignore[return-value]


def pad_rows(rows: int) -> int:
    """``rows`` rounded up to a multiple of VEC_FLOATS."""
    return -(-rows // VEC_FLOATS) * VEC_FLOATS
