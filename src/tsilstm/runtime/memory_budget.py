"""The memory a model's packing needs, checked against what the process may allocate before
anything is allocated (also before a new module draws its random weights)."""

from __future__ import annotations

from collections.abc import Callable

from tsilstm.errors import ResourceError
from tsilstm.hardware import MEMORY_LIMITS, available_memory_bytes
from tsilstm.model import LayerShape, RecurrentModel
from tsilstm.runtime.kernel_abi import AMX_OVERREAD_BYTES, INT8_ROW_TRAILER_BYTES, block_layout, pad_rows
from tsilstm.units import format_bytes
from tsilstm.validation import require_int

LAYER_DIRECTION_OVERHEAD_BYTES = 8704
"""Memory a module takes per layer direction beside its weights (the Python objects, small numpy
arrays and kernel descriptors around each direction). Measured 2026-12-05: ``tsilstm.LSTM(3, 5,
num_layers=4000)`` grows the process by 7.8 KB a layer (34 KB a layer at 1000 layers, where the
first call's one-time allocations dominate); 8.5 KiB is counted."""
MAX_NUM_LAYERS = 10_000
"""Most stacked layers a module (and ``tsilstm verify`` / ``bench`` over random models) is built
with. Building takes ~0.2 ms a layer beside the weights (measured 2026-12-05 on the 2-core EPYC,
load ~1-2: ``tsilstm.LSTM(3, 5, num_layers=4000)`` in 0.85 s), so the limit keeps a construction
within seconds where 10**6 layers took minutes on a machine with memory for them; trained models
stack a handful."""
PACKING_TRANSIENT_COPIES = 2
"""While one direction is packed, its tiles exist twice more (the list of packed tiles and the
concatenated buffer, see packing.pack_direction) beside the weights packed before it."""


def stacked_layer_shapes(cell: str, input_size: int, hidden_size: int, num_layers: int, proj_size: int,
                         bidirectional: bool,
                         memory_limits: tuple[Callable[[], int | None], ...] = MEMORY_LIMITS) -> list[LayerShape]:
    """The shapes of a ``torch.nn.LSTM``/``GRU``-like stack with these arguments. ``num_layers``
    must be an integer in [1, ``MAX_NUM_LAYERS``] whose per-layer overhead alone
    (``LAYER_DIRECTION_OVERHEAD_BYTES`` a direction) fits in the memory available, checked before a
    shape is built (``InvalidParameterError``, ``ResourceError``)."""
    num_layers = require_int("num_layers", num_layers, maximum=MAX_NUM_LAYERS)
    overhead = num_layers * (2 if bidirectional else 1) * LAYER_DIRECTION_OVERHEAD_BYTES
    _check_available(overhead, f"{num_layers} layers", memory_limits)
    shapes: list[LayerShape] = []
    for _ in range(num_layers):
        layer_input = shapes[-1].output_features if shapes else input_size
        shapes.append(LayerShape(cell, layer_input, hidden_size, proj_size, bidirectional))
    return shapes


def stored_weight_bytes(shape: LayerShape, bytes_per_weight: int) -> int:
    """Bytes of W_x, W_h, both biases and W_hr over every direction, as the model stores them."""
    rows = shape.gates * shape.hidden_size
    per_direction = rows * (shape.input_size + shape.recurrent_size + 2) + shape.proj_size * shape.hidden_size
    return per_direction * shape.directions * bytes_per_weight


def packed_direction_bytes(model: RecurrentModel, layer_index: int, weight_bytes: int, tile_units: int) -> int:
    """Upper bound of the bytes one packed direction of layer ``layer_index`` occupies: W_h, W_hr
    (``weight_bytes`` per element) and W_x (float32), each row-block of ``tile_units`` hidden units
    laid out as the kernel lays it out (padding included)."""
    return packed_shape_bytes(model.layers[layer_index].shape, weight_bytes, tile_units)


def packed_shape_bytes(shape: LayerShape, weight_bytes: int, tile_units: int) -> int:
    """``packed_direction_bytes`` of a layer known by its shape."""
    blocks = -(-shape.hidden_size // tile_units)
    block_rows = block_layout(shape.gates, shape.variant, tile_units, tile_units)[1]
    recurrent_rows = blocks * (
        shape.gates * pad_rows(tile_units) if shape.variant == "reset_before" else pad_rows(shape.gates * tile_units)
    )
    proj_rows = -(-shape.proj_size // tile_units) * pad_rows(tile_units) if shape.proj_size else 0
    recurrent = recurrent_rows * shape.recurrent_size + proj_rows * shape.hidden_size
    # int8 (one byte a weight): each row of each tile also holds its scale and offset
    trailer = INT8_ROW_TRAILER_BYTES if weight_bytes == 1 else 0
    tiles_across = -(-shape.recurrent_size // tile_units)
    trailers = trailer * (recurrent_rows * tiles_across + proj_rows * blocks)
    # a low-precision W_x buffer ends in AMX_OVERREAD_BYTES of zeros (W_x itself is counted as float32)
    overread = AMX_OVERREAD_BYTES if weight_bytes < 4 else 0
    return recurrent * weight_bytes + trailers + blocks * block_rows * shape.input_size * 4 + overread


def check_packing_fits(
    model: RecurrentModel, weight_bytes: int, tile_units: int,
    memory_limits: tuple[Callable[[], int | None], ...] = MEMORY_LIMITS,
) -> int:
    """Raise ``ResourceError`` (bytes needed and available) when packing ``model`` would need more
    memory than ``hardware.available_memory_bytes(memory_limits)`` says is available (the smallest
    of MemAvailable, the RLIMIT_AS and the cgroup headroom); returns the bytes needed. With no
    figure from the system nothing is refused."""
    return check_shapes_fit([layer.shape for layer in model.layers], weight_bytes, tile_units, memory_limits)


def check_shapes_fit(
    shapes: list[LayerShape], weight_bytes: int, tile_units: int,
    memory_limits: tuple[Callable[[], int | None], ...] = MEMORY_LIMITS, also_allocating_bytes: int = 0,
) -> int:
    """``check_packing_fits`` for layers known by their sizes only; ``also_allocating_bytes``
    (e.g. the float32 random weights a new module is about to draw) count as needed too."""
    per_direction = [packed_shape_bytes(shape, weight_bytes, min(tile_units, shape.hidden_size)) for shape in shapes]
    kept = sum((size + LAYER_DIRECTION_OVERHEAD_BYTES) * shape.directions for size, shape in zip(per_direction, shapes))
    needed = kept + PACKING_TRANSIENT_COPIES * max(per_direction) + also_allocating_bytes
    _check_available(needed, "packing this model", memory_limits)
    return needed


def _check_available(needed: int, what: str, memory_limits: tuple[Callable[[], int | None], ...]) -> None:
    """``ResourceError`` when ``needed`` bytes (for ``what``) exceed the memory available."""
    available = available_memory_bytes(memory_limits)
    if available is not None and needed > available:
        raise ResourceError(
            f"{what} needs about {needed} bytes ({format_bytes(needed)}) of memory, but only "
            f"{available} bytes ({format_bytes(available)}) are available to this process (the smallest of "
            f"MemAvailable, ulimit -v and the cgroup limit): use fewer or smaller layers, "
            f"weight_dtype='bfloat16', or a machine with more memory"
        )
