"""The native kernel's layout constants and codes, read from the compiled extension.

They are defined once, in ``native/tsi_kernel.c``, and exported by it; packing, execution and the
memory budget take them from here, so Python and C cannot disagree about a layout."""

from __future__ import annotations

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
BF16_K_GROUP: int = kernel.BF16_K_GROUP
"""Consecutive k of one row that a bfloat16 tile stores together (one 32-bit lane, AMX's pair layout)."""
AMX_OVERREAD_BYTES: int = kernel.AMX_OVERREAD_BYTES
"""Zero bytes after a low-precision W_ih buffer (an AMX tile load reads past a tile's end)."""
INT8_K_GROUP: int = kernel.INT8_K_GROUP
"""Consecutive k of one row that an int8 tile stores together (one 32-bit lane)."""
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
"""Element types of the packed recurrent weights (W_h, W_hr); W_ih stays float32."""
WEIGHT_DTYPE_CODES: dict[str, int] = {name: code for name, (code, _) in kernel.WEIGHT_DTYPES.items()}
"""The kernel's code of each weight element type."""
WEIGHT_BYTES: dict[str, int] = {name: size for name, (_, size) in kernel.WEIGHT_DTYPES.items()}
"""Bytes per packed recurrent weight of each element type."""


def block_layout(gates: int, variant: str, tile_units: int, units: int) -> tuple[int, int]:
    """(gate stride, rows) of a row-block of ``units`` hidden units in a layer tiled by
    ``tile_units``: gate g's rows start at ``g * gate stride`` in the block's vectors and W_ih
    tiles, which have ``rows`` rows (padding included)."""
    return tuple(kernel.block_layout(gates, VARIANT_CODES[variant], tile_units, units))  # type: ignore[return-value]


def pad_rows(rows: int) -> int:
    """``rows`` rounded up to a multiple of VEC_FLOATS."""
    return -(-rows // VEC_FLOATS) * VEC_FLOATS
