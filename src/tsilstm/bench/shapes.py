"""The shape of one benchmarked recurrent layer stack, and the random model and data it runs on."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.model import CELLS, RecurrentModel, gate_count, random_model
from tsilstm.validation import require_choice, require_int

FLOAT32_BYTES = 4  # bytes per fp32 weight (IEEE 754 single precision)


@dataclass(frozen=True)
class BenchShape:
    """A benchmark workload shaped like one ``torch.nn.LSTM``/``GRU``: ``cell`` ("lstm" or "gru"),
    ``hidden`` units, ``input`` features, ``batch`` sequences, ``steps`` time steps, ``num_layers``
    stacked layers, LSTM ``proj_size`` (0: none) and ``bidirectional``."""

    cell: str
    hidden: int
    input: int
    batch: int
    steps: int
    num_layers: int = 1
    proj_size: int = 0
    bidirectional: bool = False

    def __post_init__(self) -> None:
        require_choice("cell", self.cell, CELLS)
        for name in ("hidden", "input", "batch", "steps", "num_layers"):
            require_int(name, getattr(self, name))
        require_int("proj_size", self.proj_size, minimum=0, maximum=self.hidden - 1)
        if self.proj_size and self.cell != "lstm":
            raise InvalidParameterError("proj_size", self.proj_size, "must be 0 for a GRU")

    @property
    def gates(self) -> int:
        """Gates per cell: 4 for LSTM, 3 for GRU."""
        return gate_count(self.cell)

    @property
    def directions(self) -> int:
        """1, or 2 when bidirectional."""
        return 2 if self.bidirectional else 1

    @property
    def recurrent_size(self) -> int:
        """Width of the recurrent state h: proj_size if set, else hidden."""
        return self.proj_size or self.hidden

    @property
    def recurrent_weight_bytes(self) -> int:
        """Bytes of all recurrent matrices (W_h, and W_hr with a projection) at fp32, over layers and
        directions (M of docs/design.md section 1, summed)."""
        per_direction = self.gates * self.hidden * self.recurrent_size + self.proj_size * self.hidden
        return self.num_layers * self.directions * per_direction * FLOAT32_BYTES

    @property
    def largest_recurrent_matrix_bytes(self) -> int:
        """Bytes of the recurrent weights of one layer direction: what one recurrence streams."""
        return self.recurrent_weight_bytes // (self.num_layers * self.directions)

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
    if shape.cell == "lstm":
        c0 = (0.5 * rng.standard_normal((states, shape.batch, shape.hidden))).astype(np.float32)
    return x, h0, c0
