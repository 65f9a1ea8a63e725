"""The shape of one benchmarked recurrent layer stack, and the random model and data it runs on."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np

from tsilstm.model import LayerShape, RecurrentModel, random_model
from tsilstm.validation import require_int

FLOAT32_BYTES = 4  # bytes per fp32 weight (IEEE 754 single precision)


@dataclass(frozen=True)
class BenchShape:
    """A benchmark workload shaped like one ``torch.nn.LSTM``/``GRU`` call: ``cell`` ("lstm" or
    "gru"), ``hidden`` units, ``input`` features, ``batch`` sequences, ``steps`` time steps,
    ``num_layers`` stacked layers, LSTM ``proj_size`` (0: none) and ``bidirectional``. The layer
    facts (validation, gates, sizes, weight bytes) come from ``layers``, ``tsilstm.model.LayerShape``."""

    cell: str
    hidden: int
    input: int
    batch: int
    steps: int
    num_layers: int = 1
    proj_size: int = 0
    bidirectional: bool = False

    def __post_init__(self) -> None:
        for name in ("batch", "steps", "num_layers"):
            require_int(name, getattr(self, name))
        _ = self.layers  # validates cell, hidden, input and proj_size

    @cached_property
    def layers(self) -> tuple[LayerShape, ...]:
        """The ``num_layers`` layer shapes, each fed by the previous layer's output."""
        first = LayerShape(self.cell, self.input, self.hidden, self.proj_size, self.bidirectional)
        rest = LayerShape(self.cell, first.output_features, self.hidden, self.proj_size, self.bidirectional)
        return (first,) + (rest,) * (self.num_layers - 1)

    @property
    def gates(self) -> int:
        """Gates per cell: 4 for LSTM, 3 for GRU."""
        return self.layers[0].gates

    @property
    def directions(self) -> int:
        """1, or 2 when bidirectional."""
        return self.layers[0].directions

    @property
    def recurrent_size(self) -> int:
        """Width of the recurrent state h: proj_size if set, else hidden."""
        return self.layers[0].recurrent_size

    @property
    def largest_recurrent_matrix_bytes(self) -> int:
        """Bytes of the fp32 recurrent weights of one layer direction: what one recurrence streams."""
        return max(layer.recurrent_weight_bytes(FLOAT32_BYTES) for layer in self.layers)

    @property
    def recurrent_weight_bytes(self) -> int:
        """Bytes of all recurrent matrices (W_h, and W_hr with a projection) at fp32, over layers and
        directions."""
        return sum(layer.recurrent_weight_bytes(FLOAT32_BYTES) * layer.directions for layer in self.layers)

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields plus the fp32 recurrent weight bytes."""
        return {**asdict(self), "recurrent_weight_bytes": self.recurrent_weight_bytes}


def make_model(shape: BenchShape, seed: int = 0) -> RecurrentModel:
    """A float32 model of ``shape`` with PyTorch-default random weights (uniform +-1/sqrt(hidden))."""
    return random_model(
        shape.cell, shape.input, shape.hidden, shape.num_layers, proj_size=shape.proj_size,
        bidirectional=shape.bidirectional, seed=seed, dtype=np.float32,
    )


def make_inputs(shape: BenchShape, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The input sequence x (T, N, X) and initial states h0 (L*D, N, P) and c0 (L*D, N, H, LSTM
    only), float32, standard normal input and states of scale 0.5, from ``seed``."""
    rng = np.random.default_rng(seed + 1_000_003)
    x = rng.standard_normal((shape.steps, shape.batch, shape.input), dtype=np.float32)
    states = shape.num_layers * shape.directions
    h0 = (0.5 * rng.standard_normal((states, shape.batch, shape.recurrent_size))).astype(np.float32)
    c0 = None
    if shape.layers[0].spec.has_cell_state:
        c0 = (0.5 * rng.standard_normal((states, shape.batch, shape.hidden))).astype(np.float32)
    return x, h0, c0
