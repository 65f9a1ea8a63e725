"""Every fact about a recurrent cell, defined once: its gates and their order in each framework, its
states, default activations, GRU reset forms, which options (projection, peepholes, coupled gates)
it takes and what the accelerator evaluates per unit. The reference, plans, runtime, importers,
accelerator model and RTL generator ask a ``CellSpec`` rather than compare cell names; users and
files still name a cell by its string (``"lstm"``, ``"gru"``), which ``cell_spec`` turns into its spec.

Adding a cell: one more ``CellSpec`` in ``CELLS`` here, its update in ``cells/pointwise.py`` (and the
plan replay, C kernel and RTL cell lanes if they are to run it); see docs/design.md, "Cell facts".
"""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.activations import SIGMOID, TANH, Activation
from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_choice


@dataclass(frozen=True)
class CellSpec:
    """The facts of one cell type (see the module doc); gate orders are tuples of gate indices."""

    name: str
    """The cell's name in models, files and on the command line (``lstm``, ``gru``)."""
    gate_order: tuple[str, ...]
    """Gate names in the canonical (PyTorch) order of the stacked weight rows."""
    state_names: tuple[str, ...]
    """The states carried from step to step: ``h`` (and ``c``, the LSTM cell state)."""
    default_activations: tuple[Activation, ...]
    """The cell's activations when nothing else is said (PyTorch's cell)."""
    activation_roles: str
    """What each of the cell's activations applies to, in order."""
    variants: tuple[str, ...]
    """The forms of the cell update; the first is the default (and what ``standard`` means)."""
    supports_projection: bool
    """Takes a projection of its output (``proj_size``, W_hr)."""
    peephole_gates: tuple[str, ...]
    """The gates a peephole (the cell state) may feed, in the order of the peephole rows; empty: none."""
    supports_input_forget: bool
    """Takes coupled gates (forget = 1 - input)."""
    recurrent_part_apart: bool
    """The candidate gates the recurrent pre-activation (r * (W_hn h + b_hn)), so the recurrent
    partial sums and b_hh are kept apart from the input's instead of summed into one."""
    activation_evaluations: int
    """Sigmoid/tanh evaluations per hidden unit and step (the accelerator's cell lanes)."""
    cell_multiplies: int
    """Element-wise multiplies per hidden unit and step in the cell update, without peepholes (one
    more per peephole gate with them)."""
    torch_class_name: str
    """The ``torch.nn`` module (and RNN ``mode``) of the cell."""
    onnx_op_type: str
    """The ONNX operator of the cell."""
    onnx_to_canonical: tuple[int, ...]
    """Canonical gate k is ONNX gate ``onnx_to_canonical[k]`` (ONNX spec)."""
    keras_layer_names: tuple[str, ...]
    """The Keras layer classes read as this cell (the cuDNN ones have fixed activations)."""
    keras_to_canonical: tuple[int, ...]
    """Canonical gate k is Keras gate ``keras_to_canonical[k]`` (keras.layers.*Cell)."""

    @property
    def gates(self) -> int:
        """Number of gates (rows of W_ih / W_hh per hidden unit)."""
        return len(self.gate_order)

    @property
    def has_cell_state(self) -> bool:
        """True when the cell carries a cell state ``c`` besides ``h`` (c_0 in, c_n out)."""
        return "c" in self.state_names

    @property
    def supports_peepholes(self) -> bool:
        """True when the cell takes peephole weights (the cell state into some gates)."""
        return bool(self.peephole_gates)

    @property
    def supports_reset_before(self) -> bool:
        """True when the cell has the original form with the reset applied before the recurrent product."""
        return "reset_before" in self.variants

    @property
    def default_variant(self) -> str:
        """The form of the cell update when nothing else is said."""
        return self.variants[0]

    @property
    def canonical_to_onnx(self) -> tuple[int, ...]:
        """ONNX gate j is canonical gate ``canonical_to_onnx[j]`` (the inverse of onnx_to_canonical)."""
        return tuple(self.onnx_to_canonical.index(j) for j in range(self.gates))


LSTM_SPEC = CellSpec(
    name="lstm",
    gate_order=("i", "f", "g", "o"),
    state_names=("h", "c"),
    default_activations=(SIGMOID, TANH, TANH),
    activation_roles="f for i/f/o, g for the candidate, h for the output",
    variants=("standard",),
    supports_projection=True,
    peephole_gates=("i", "f", "o"),  # i and f see c_{t-1}, o sees c_t
    supports_input_forget=True,
    recurrent_part_apart=False,
    activation_evaluations=5,  # 3 sigmoid (i, f, o) + 2 tanh (g, c)
    cell_multiplies=3,  # f*c, i*g, o*tanh(c)
    torch_class_name="LSTM",
    onnx_op_type="LSTM",
    onnx_to_canonical=(0, 2, 3, 1),  # ONNX stores i, o, f, c
    keras_layer_names=("LSTM", "CuDNNLSTM"),
    keras_to_canonical=(0, 1, 2, 3),  # Keras stores i, f, c, o
)
GRU_SPEC = CellSpec(
    name="gru",
    gate_order=("r", "z", "n"),
    state_names=("h",),
    default_activations=(SIGMOID, TANH),
    activation_roles="f for r/z, g for the candidate",
    variants=("reset_after", "reset_before"),
    supports_projection=False,
    peephole_gates=(),
    supports_input_forget=False,
    recurrent_part_apart=True,
    activation_evaluations=3,  # 2 sigmoid (r, z) + 1 tanh (n)
    cell_multiplies=3,  # r*(W_hn h), z*h, (1-z)*n
    torch_class_name="GRU",
    onnx_op_type="GRU",
    onnx_to_canonical=(1, 0, 2),  # ONNX stores z, r, h
    keras_layer_names=("GRU", "CuDNNGRU"),
    keras_to_canonical=(1, 0, 2),  # Keras stores z, r, h
)
CELLS: dict[str, CellSpec] = {spec.name: spec for spec in (LSTM_SPEC, GRU_SPEC)}
"""Every cell by name."""
CELLS_BY_GATES: dict[int, CellSpec] = {spec.gates: spec for spec in CELLS.values()}
"""Every cell by its gate count (what stacked weight shapes tell)."""
ONNX_OPS: dict[str, CellSpec] = {spec.onnx_op_type: spec for spec in CELLS.values()}
"""Every cell by its ONNX operator."""
KERAS_LAYERS: dict[str, CellSpec] = {name: spec for spec in CELLS.values() for name in spec.keras_layer_names}
"""Every cell by each Keras layer class that holds it."""
TORCH_MODES: dict[str, CellSpec] = {spec.torch_class_name: spec for spec in CELLS.values()}
"""Every cell by its ``torch.nn`` class name (a torch RNN module's ``mode``)."""


def cell_spec(name: str) -> CellSpec:
    """The spec of the cell called ``name``; raises ``InvalidParameterError`` naming ``cell`` and the cells."""
    return CELLS[require_choice("cell", name, tuple(CELLS))]


def cell_with_gates(gates: int) -> CellSpec:
    """The cell with ``gates`` gates; raises ``InvalidParameterError`` naming ``gates`` and the counts."""
    if isinstance(gates, int) and not isinstance(gates, bool) and gates in CELLS_BY_GATES:
        return CELLS_BY_GATES[gates]
    counts = " or ".join(f"{spec.gates} ({spec.name})" for spec in CELLS.values())
    raise InvalidParameterError("gates", gates, f"must be {counts}")
