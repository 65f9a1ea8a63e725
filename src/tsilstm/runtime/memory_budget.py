"""The memory a model's packing needs, checked against what the process may allocate before
anything is allocated (also before a new module draws its random weights)."""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.byte_sizes import format_bytes
from tsilstm.errors import ResourceError
from tsilstm.memory_limit import available_memory_bytes
from tsilstm.model import RecurrentLayer, RecurrentModel, gate_count
from tsilstm.runtime.packing import VEC_FLOATS

PACKING_TRANSIENT_COPIES = 2
"""While one direction is packed, its tiles exist twice more (the list of packed tiles and the
concatenated buffer, see packing.pack_direction) beside the weights packed before it."""


@dataclass(frozen=True)
class LayerShape:
    """The sizes of one recurrent layer, enough to bound its memory without its weights."""

    gates: int
    input_size: int
    hidden_size: int
    proj_size: int
    directions: int

    @property
    def recurrent_size(self) -> int:
        """Width of h_{t-1}: proj_size if set, else hidden_size."""
        return self.proj_size or self.hidden_size

    @classmethod
    def of_layer(cls, layer: RecurrentLayer) -> "LayerShape":
        """The shape of an existing layer."""
        return cls(layer.gates, layer.input_size, layer.hidden_size, layer.proj_size, len(layer.directions))

    def weight_elements(self) -> int:
        """Elements of W_x, W_h, both biases and W_hr over every direction (as the model stores them)."""
        rows = self.gates * self.hidden_size
        per_direction = rows * (self.input_size + self.recurrent_size + 2) + self.proj_size * self.hidden_size
        return per_direction * self.directions


def stacked_layer_shapes(cell: str, input_size: int, hidden_size: int, num_layers: int, proj_size: int,
                         bidirectional: bool) -> list[LayerShape]:
    """The shapes of a ``torch.nn.LSTM``/``GRU``-like stack with these arguments (already validated)."""
    directions = 2 if bidirectional else 1
    shapes = []
    for index in range(num_layers):
        layer_input = input_size if index == 0 else (proj_size or hidden_size) * directions
        shapes.append(LayerShape(gate_count(cell), layer_input, hidden_size, proj_size, directions))
    return shapes


def packed_direction_bytes(model: RecurrentModel, layer_index: int, weight_bytes: int, tile_units: int) -> int:
    """Upper bound of the bytes one packed direction of layer ``layer_index`` occupies: W_h, W_hr
    (``weight_bytes`` per element) and W_x (float32), the gate rows of each row-block of
    ``tile_units`` hidden units padded to whole vectors."""
    return _packed_shape_bytes(LayerShape.of_layer(model.layers[layer_index]), weight_bytes, tile_units)


def _packed_shape_bytes(layer: LayerShape, weight_bytes: int, tile_units: int) -> int:
    rows = layer.gates * layer.hidden_size
    padding_rows = VEC_FLOATS * -(-layer.hidden_size // tile_units)  # < one vector per row-block
    proj_rows = layer.proj_size + (VEC_FLOATS * -(-layer.proj_size // tile_units) if layer.proj_size else 0)
    recurrent = (rows + padding_rows) * layer.recurrent_size + proj_rows * layer.hidden_size
    return recurrent * weight_bytes + (rows + padding_rows) * layer.input_size * 4


def check_packing_fits(
    model: RecurrentModel, weight_bytes: int, tile_units: int, available_bytes: int | None = None
) -> int:
    """Raise ``ResourceError`` (bytes needed and available) when packing ``model`` would need more
    memory than is available; returns the bytes needed. ``available_bytes`` defaults to
    ``available_memory_bytes()`` (the smallest of MemAvailable, RLIMIT_AS and cgroup headroom);
    with no figure from the system nothing is refused."""
    shapes = [LayerShape.of_layer(layer) for layer in model.layers]
    return check_shapes_fit(shapes, weight_bytes, tile_units, available_bytes)


def check_shapes_fit(
    shapes: list[LayerShape], weight_bytes: int, tile_units: int, available_bytes: int | None = None,
    also_allocating_bytes: int = 0,
) -> int:
    """``check_packing_fits`` for layers known by their sizes only; ``also_allocating_bytes``
    (e.g. the float32 random weights a new module is about to draw) count as needed too."""
    per_direction = [_packed_shape_bytes(shape, weight_bytes, min(tile_units, shape.hidden_size)) for shape in shapes]
    kept = sum(size * shape.directions for size, shape in zip(per_direction, shapes))
    needed = kept + PACKING_TRANSIENT_COPIES * max(per_direction) + also_allocating_bytes
    available = available_memory_bytes() if available_bytes is None else available_bytes
    if available is not None and needed > available:
        raise ResourceError(
            f"packing this model needs about {needed} bytes ({format_bytes(needed)}) of memory, but only "
            f"{available} bytes ({format_bytes(available)}) are available to this process (the smallest of "
            f"MemAvailable, ulimit -v and the cgroup limit): use fewer or smaller layers, "
            f"weight_dtype='bfloat16', or a machine with more memory"
        )
    return needed
