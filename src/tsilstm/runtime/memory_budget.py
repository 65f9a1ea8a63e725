"""The memory a model's packing needs, checked against what the process may allocate before
anything is allocated (also before a new module draws its random weights)."""

from __future__ import annotations

from collections.abc import Callable

from tsilstm.errors import ResourceError
from tsilstm.hardware import MEMORY_LIMITS, available_memory_bytes
from tsilstm.model import LayerShape, RecurrentModel
from tsilstm.runtime.kernel_abi import (
    ISAS,
    WEIGHT_BYTES,
    block_layout,
    input_tail_bytes,
    input_weight_dtype,
    pad_rows,
    tile_layout,
)
from tsilstm.units import format_bytes
from tsilstm.validation import require_int

LAYER_DIRECTION_OVERHEAD_BYTES = 8704
"""Memory a module takes per layer direction beside its weights (the Python objects, small numpy
arrays and kernel descriptors around each direction). Measured 2026-12-05: ``tsilstm.LSTM(3, 5,
num_layers=4000)`` grows the process by 7.8 KB a layer (34 KB a layer at 1000 layers, where the
first call's one-time allocations dominate); 8.5 KiB is counted."""
MAX_NUM_LAYERS = 1_000
"""Most stacked layers a module (and ``tsilstm verify`` / ``bench`` over random models) is built
with. Building takes ~0.7 ms a layer beside the weights (random weights, two packed schedules, the
checks; measured 2026-12-05 on a 2-vCPU AMD EPYC (AVX2 only), load ~1: ``tsilstm.LSTM(3, 5,
num_layers=1000)`` in 1.0 s, 4000 in 3.1 s, ``GRU(3, 2, num_layers=10000)`` in 6.9 s), so the
limit keeps a construction near a second where 10**6 layers took minutes on a machine with memory
for them; trained models stack a handful."""
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


def packed_direction_bytes(model: RecurrentModel, layer_index: int, weight_dtype: str, tile_units: int) -> int:
    """Upper bound of the bytes one packed direction of layer ``layer_index`` occupies: W_h, W_hr
    (elements of ``weight_dtype``, a ``kernel_abi.WEIGHT_BYTES`` key) and W_x (of the type the kernel gives it with those weights on
    any instruction set), each row-block of ``tile_units`` hidden units laid out as the kernel lays
    it out (padding, int8 row scales and offsets, W_x's trailing zeros included)."""
    return packed_shape_bytes(model.layers[layer_index].shape, weight_dtype, tile_units)


def packed_shape_bytes(shape: LayerShape, weight_dtype: str, tile_units: int) -> int:
    """``packed_direction_bytes`` of a layer known by its shape. Every tile's size comes from the
    kernel's layout (``kernel_abi.tile_layout``); nothing about the format is restated here."""
    dtype = _known_dtype(weight_dtype)
    recurrent = 0
    for units, row_blocks in _blocks(shape.hidden_size, tile_units):
        for k, col_blocks in _blocks(shape.recurrent_size, tile_units):
            if shape.variant == "reset_before":  # reset tile, then update and candidate tiles
                tile = 3 * tile_layout(dtype, k, pad_rows(units)).nbytes
            else:
                tile = tile_layout(dtype, k, pad_rows(shape.gates * units)).nbytes
            recurrent += row_blocks * col_blocks * tile
    for units, row_blocks in _blocks(shape.proj_size, tile_units):
        for k, col_blocks in _blocks(shape.hidden_size, tile_units):
            recurrent += row_blocks * col_blocks * tile_layout(dtype, k, pad_rows(units)).nbytes
    return recurrent + max(_input_bytes(shape, input_dtype, tile_units)
                           for input_dtype in {input_weight_dtype(dtype, isa) for isa in ISAS})


def _input_bytes(shape: LayerShape, input_dtype: str, tile_units: int) -> int:
    """Bytes of the packed W_x of ``shape`` with elements of ``input_dtype`` (its trailing zeros included)."""
    total = input_tail_bytes(input_dtype)
    for units, row_blocks in _blocks(shape.hidden_size, tile_units):
        rows = block_layout(shape.gates, shape.variant, tile_units, units)[1]
        for k, col_blocks in _blocks(shape.input_size, tile_units):
            total += row_blocks * col_blocks * tile_layout(input_dtype, k, rows).nbytes
    return total


def _blocks(size: int, tile_units: int) -> list[tuple[int, int]]:
    """``size`` cut into blocks of ``tile_units``: (units, how many blocks have that many), the
    full blocks first, then the short last one (none for size 0)."""
    full, rest = divmod(size, tile_units)
    return [(units, count) for units, count in ((tile_units, full), (rest, 1)) if units and count]


def _known_dtype(weight_dtype: str) -> str:
    """``weight_dtype`` when it is one of the kernel's weight types, else ``ValueError``."""
    if weight_dtype not in WEIGHT_BYTES:
        raise ValueError(f"weight_dtype must be one of {sorted(WEIGHT_BYTES)}, got {weight_dtype!r}")
    return weight_dtype


def check_packing_fits(
    model: RecurrentModel, weight_dtype: str, tile_units: int,
    memory_limits: tuple[Callable[[], int | None], ...] = MEMORY_LIMITS,
) -> int:
    """Raise ``ResourceError`` (bytes needed and available) when packing ``model`` would need more
    memory than ``hardware.available_memory_bytes(memory_limits)`` says is available (the smallest
    of MemAvailable, the RLIMIT_AS and the cgroup headroom); returns the bytes needed. With no
    figure from the system nothing is refused."""
    return check_shapes_fit([layer.shape for layer in model.layers], weight_dtype, tile_units, memory_limits)


def check_shapes_fit(
    shapes: list[LayerShape], weight_dtype: str, tile_units: int,
    memory_limits: tuple[Callable[[], int | None], ...] = MEMORY_LIMITS, also_allocating_bytes: int = 0,
) -> int:
    """``check_packing_fits`` for layers known by their sizes only; ``also_allocating_bytes``
    (e.g. the float32 random weights a new module is about to draw) count as needed too."""
    per_direction = [packed_shape_bytes(shape, weight_dtype, min(tile_units, shape.hidden_size)) for shape in shapes]
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
