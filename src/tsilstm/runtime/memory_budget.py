"""The memory a model's packing needs, checked against what the machine has before allocating."""

from __future__ import annotations

from collections.abc import Callable

from tsilstm.errors import ResourceError
from tsilstm.hardware import MEMORY_LIMITS, available_memory_bytes
from tsilstm.model import RecurrentModel
from tsilstm.runtime.kernel_abi import block_layout, pad_rows
from tsilstm.units import format_bytes

PACKING_TRANSIENT_COPIES = 2
"""While one direction is packed, its tiles exist twice more (the list of packed tiles and the
concatenated buffer, see packing.pack_direction) beside the weights packed before it."""


def packed_direction_bytes(model: RecurrentModel, layer_index: int, weight_bytes: int, tile_units: int) -> int:
    """Upper bound of the bytes one packed direction of layer ``layer_index`` occupies: W_h, W_hr
    (``weight_bytes`` per element) and W_x (float32), each row-block of ``tile_units`` hidden units
    laid out as the kernel lays it out (padding included)."""
    layer = model.layers[layer_index]
    blocks = -(-layer.hidden_size // tile_units)
    block_rows = block_layout(layer.gates, layer.variant, tile_units, tile_units)[1]
    recurrent_rows = blocks * (
        layer.gates * pad_rows(tile_units) if layer.variant == "reset_before" else pad_rows(layer.gates * tile_units)
    )
    proj_rows = -(-layer.proj_size // tile_units) * pad_rows(tile_units) if layer.proj_size else 0
    recurrent = recurrent_rows * layer.recurrent_size + proj_rows * layer.hidden_size
    return recurrent * weight_bytes + blocks * block_rows * layer.input_size * 4


def check_packing_fits(
    model: RecurrentModel, weight_bytes: int, tile_units: int,
    memory_limits: tuple[Callable[[], int | None], ...] = MEMORY_LIMITS,
) -> int:
    """Raise ``ResourceError`` (bytes needed and available) when packing ``model`` would need more
    memory than ``hardware.available_memory_bytes(memory_limits)`` says is available; returns the
    bytes needed. With no figure from the system nothing is refused."""
    per_direction = [
        packed_direction_bytes(model, i, weight_bytes, min(tile_units, layer.hidden_size))
        for i, layer in enumerate(model.layers)
    ]
    kept = sum(size * len(layer.directions) for size, layer in zip(per_direction, model.layers))
    needed = kept + PACKING_TRANSIENT_COPIES * max(per_direction)
    available = available_memory_bytes(memory_limits)
    if available is not None and needed > available:
        raise ResourceError(
            f"packing this model needs about {needed} bytes ({format_bytes(needed)}) of memory, but only "
            f"{available} bytes ({format_bytes(available)}) are available: use fewer or smaller layers, "
            f"weight_dtype='bfloat16', or a machine with more memory"
        )
    return needed
