"""Random weights like torch's default initialisation, for the runtime's ``LSTM`` / ``GRU`` built
from sizes alone (the memory they and their packing need is checked before any is drawn)."""

from __future__ import annotations

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel
from tsilstm.runtime.kernel_options import KernelOptions
from tsilstm.runtime.memory_budget import check_shapes_fit, stacked_layer_shapes, stored_weight_bytes
from tsilstm.validation import require_int


def random_stack(cell: str, input_size: int, hidden_size: int, num_layers: int, bias: bool,
                  bidirectional: bool, proj_size: int, seed: int | None, options: KernelOptions) -> RecurrentModel:
    """Random float32 weights like torch's default init (uniform +-1/sqrt(hidden)); zero biases
    without ``bias``. The memory the weights and their packing (with ``options``' weight type and
    tile) need is checked before any is drawn."""
    for name, value in (("bias", bias), ("bidirectional", bidirectional)):
        if not isinstance(value, bool):
            raise InvalidParameterError(name, value, "must be True or False")
    input_size = require_int("input_size", input_size)
    hidden_size = require_int("hidden_size", hidden_size)
    num_layers = require_int("num_layers", num_layers)
    proj_size = require_int("proj_size", proj_size, minimum=0)
    if proj_size >= hidden_size:
        raise InvalidParameterError("proj_size", proj_size, f"must be 0 or smaller than hidden_size={hidden_size}")
    shapes = stacked_layer_shapes(cell, input_size, hidden_size, num_layers, proj_size, bidirectional)
    float32_bytes = np.dtype(np.float32).itemsize
    check_shapes_fit(shapes, options.dtype, options.tile_units,
                     also_allocating_bytes=sum(stored_weight_bytes(shape, float32_bytes) for shape in shapes))
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    seed = require_int("seed", seed, minimum=0)
    bound = 1.0 / np.sqrt(hidden_size)
    layers = []
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng(seed + index)
        rows = shape.gates * hidden_size
        directions = []
        for _ in range(shape.directions):
            w_ih, w_hh = _uniform_float32(rng, (rows, shape.input_size), bound), _uniform_float32(rng, (rows, shape.recurrent_size), bound)
            b_ih, b_hh = (_uniform_float32(rng, (rows,), bound) for _ in range(2))
            if not bias:
                b_ih, b_hh = np.zeros(rows, np.float32), np.zeros(rows, np.float32)
            w_hr = _uniform_float32(rng, (proj_size, hidden_size), bound) if proj_size else None
            directions.append(DirectionWeights(w_ih, w_hh, b_ih, b_hh, w_hr))
        layers.append(RecurrentLayer(cell, shape.input_size, hidden_size, tuple(directions), proj_size, name=f"layer{index}"))
    return RecurrentModel(tuple(layers), name=f"random-{cell}")


def _uniform_float32(rng: np.random.Generator, shape: tuple[int, ...], bound: float) -> np.ndarray:
    """Uniform float32 values in [-bound, bound), drawn as float32 (no float64 temporary)."""
    values = rng.random(shape, dtype=np.float32)
    values *= np.float32(2 * bound)
    values -= np.float32(bound)
    return values
