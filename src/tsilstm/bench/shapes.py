"""The shape of one benchmarked recurrent layer stack, and the random model and data it runs on."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from tsilstm.model import CELLS, RecurrentModel, gate_count, random_model
from tsilstm.validation import require_choice, require_int

FLOAT32_BYTES = 4  # bytes per fp32 weight (IEEE 754 single precision)


@dataclass(frozen=True)
class BenchShape:
    """A benchmark workload: ``cell`` ("lstm" or "gru"), ``hidden`` units, ``input`` features,
    ``batch`` sequences, ``steps`` time steps and ``num_layers`` stacked layers (unidirectional)."""

    cell: str
    hidden: int
    input: int
    batch: int
    steps: int
    num_layers: int = 1

    def __post_init__(self) -> None:
        require_choice("cell", self.cell, CELLS)
        for name in ("hidden", "input", "batch", "steps", "num_layers"):
            require_int(name, getattr(self, name))

    @property
    def gates(self) -> int:
        """Gates per cell: 4 for LSTM, 3 for GRU."""
        return gate_count(self.cell)

    @property
    def recurrent_weight_bytes(self) -> int:
        """Bytes of all W_h matrices at fp32 (M of DESIGN.md, summed over layers)."""
        return self.num_layers * self.gates * self.hidden * self.hidden * FLOAT32_BYTES

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields plus the fp32 recurrent weight bytes."""
        return {**asdict(self), "recurrent_weight_bytes": self.recurrent_weight_bytes}


def make_model(shape: BenchShape, seed: int = 0) -> RecurrentModel:
    """A float32 model of ``shape`` with PyTorch-default random weights (uniform +-1/sqrt(hidden))."""
    return random_model(shape.cell, shape.input, shape.hidden, shape.num_layers, seed=seed, dtype=np.float32)


def make_inputs(shape: BenchShape, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The input sequence x (T, N, X) and initial states h0 (L, N, H) and c0 (LSTM only), float32,
    standard normal input and states of scale 0.5, from ``seed``."""
    rng = np.random.default_rng(seed + 1_000_003)
    x = rng.standard_normal((shape.steps, shape.batch, shape.input), dtype=np.float32)
    state_shape = (shape.num_layers, shape.batch, shape.hidden)
    h0 = (0.5 * rng.standard_normal(state_shape)).astype(np.float32)
    c0 = (0.5 * rng.standard_normal(state_shape)).astype(np.float32) if shape.cell == "lstm" else None
    return x, h0, c0
