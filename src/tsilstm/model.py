"""The in-memory model description every consumer takes.

Weights are held in PyTorch's canonical layout and gate order, whatever format they came from:

* LSTM: gates ``i, f, g, o``; ``w_ih`` is ``(4H, X)``, ``w_hh`` is ``(4H, P)`` where ``P`` is the
  projection size (or ``H``), ``b_ih`` and ``b_hh`` are ``(4H,)``, ``w_hr`` is ``(P, H)`` or None.
* GRU: gates ``r, z, n``; ``w_ih`` is ``(3H, X)``, ``w_hh`` is ``(3H, H)``, biases ``(3H,)``.
  ``variant`` is ``"reset_after"`` (PyTorch / cuDNN, ONNX ``linear_before_reset=1``) or
  ``"reset_before"`` (the original GRU, ONNX ``linear_before_reset=0``, Keras ``reset_after=False``).

Beyond PyTorch's cells (ONNX's and Keras' options): ``activations`` (LSTM: f for the i, f, o
gates, g for the cell candidate, h for the output; GRU: f for r and z, g for the candidate),
``clip`` (gate pre-activations clipped to [-clip, clip] before their activation), ``input_forget``
(LSTM: f = 1 - i) and ``peepholes`` (LSTM, per direction, (3, H) rows for i, f, o:
i and f add p * c_{t-1}, o adds p * c_t).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from tsilstm.activations import Activation
from tsilstm.cell_spec import CELLS as CELL_SPECS
from tsilstm.cell_spec import CellSpec, cell_spec
from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_choice, require_int

CELLS = tuple(CELL_SPECS)
"""The cell names (their facts: ``tsilstm.cell_spec``)."""
DIRECTIONS = ("forward", "reverse", "bidirectional")
"""How a layer runs over time: ``forward`` (t = 0 .. T-1), ``reverse`` (one direction run from
t = T-1 down to 0, its output given in input order, as ONNX ``direction="reverse"``), or
``bidirectional`` (a forward and a reverse direction, outputs concatenated forward first)."""


def gate_count(cell: str) -> int:
    """Number of gates of ``cell``: 4 for LSTM, 3 for GRU."""
    return cell_spec(cell).gates


@dataclass(frozen=True)
class LayerShape:
    """The shape of one LSTM or GRU layer without its weights: cell, input features, hidden units,
    LSTM projection (0: none), directions and GRU variant. Every consumer (model, accelerator model,
    benchmarks, runtime) takes a layer's gates, sizes and recurrent-weight bytes from here."""

    cell: str
    input_size: int
    hidden_size: int
    proj_size: int = 0
    bidirectional: bool = False
    variant: str = "standard"
    peepholes: bool = False
    """LSTM peepholes (three more multiply-adds per unit and step in the cell update)."""

    def __post_init__(self) -> None:
        spec = cell_spec(self.cell)
        require_int("input_size", self.input_size)
        require_int("hidden_size", self.hidden_size)
        require_int("proj_size", self.proj_size, minimum=0)
        if self.variant == "standard":
            object.__setattr__(self, "variant", spec.default_variant)
        require_choice("variant", self.variant, spec.variants)
        if self.proj_size and not spec.supports_projection:
            raise InvalidParameterError("proj_size", self.proj_size, f"must be 0 for a {self.cell.upper()}")
        if self.peepholes and not spec.supports_peepholes:
            raise InvalidParameterError("peepholes", True, f"do not apply to a {self.cell.upper()}")
        if self.proj_size >= self.hidden_size:
            raise InvalidParameterError(
                "proj_size", self.proj_size, f"must be 0 or smaller than hidden_size={self.hidden_size}"
            )

    @property
    def spec(self) -> CellSpec:
        """The facts of the layer's cell."""
        return CELL_SPECS[self.cell]  # checked on construction

    @property
    def gates(self) -> int:
        """Number of gates (4 for LSTM, 3 for GRU)."""
        return self.spec.gates

    @property
    def directions(self) -> int:
        """1, or 2 when bidirectional."""
        return 2 if self.bidirectional else 1

    @property
    def recurrent_size(self) -> int:
        """Width of the recurrent input h_{t-1}: proj_size if set, else hidden_size."""
        return self.proj_size or self.hidden_size

    @property
    def output_size(self) -> int:
        """Features per direction in the layer output."""
        return self.recurrent_size

    @property
    def output_features(self) -> int:
        """Features of the layer output over all directions (the next layer's input size)."""
        return self.output_size * self.directions

    def recurrent_weight_bytes(self, bytes_per_weight: int) -> int:
        """Bytes of one direction's recurrent weights (W_h, and W_hr with a projection: M, what
        one recurrence streams per step) at ``bytes_per_weight`` per element."""
        elements = self.gates * self.hidden_size * self.recurrent_size + self.proj_size * self.hidden_size
        return elements * bytes_per_weight

    def describe(self) -> str:
        """A short form such as ``lstm 1024->2048`` or ``bi-lstm 512->1024 p256``."""
        head = ("bi-" if self.bidirectional else "") + self.cell
        tail = f" p{self.proj_size}" if self.proj_size else ""
        return f"{head} {self.input_size}->{self.hidden_size}{tail}"


@dataclass(frozen=True)
class DirectionWeights:
    """The weights of one direction of one recurrent layer (canonical layout, see module doc)."""

    w_ih: np.ndarray
    w_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    w_hr: np.ndarray | None = None
    peepholes: np.ndarray | None = None
    """LSTM peephole weights (3, H), rows for the i, f and o gates; None: no peepholes."""

    def astype(self, dtype: np.dtype | type) -> "DirectionWeights":
        """Return a copy with every array converted to ``dtype``."""
        conv = lambda a: None if a is None else np.ascontiguousarray(a, dtype=dtype)  # noqa: E731
        return DirectionWeights(conv(self.w_ih), conv(self.w_hh), conv(self.b_ih), conv(self.b_hh), conv(self.w_hr),
                                conv(self.peepholes))


@dataclass(frozen=True)
class RecurrentLayer:
    """One LSTM or GRU layer: sizes, variant and the weights of each direction (1 or 2)."""

    cell: str
    input_size: int
    hidden_size: int
    directions: tuple[DirectionWeights, ...]
    proj_size: int = 0
    variant: str = "standard"
    name: str = ""
    direction: str = ""
    """One of DIRECTIONS; empty means ``forward`` for one set of weights, ``bidirectional`` for two."""
    activations: tuple[Activation, ...] = ()
    """The cell's activations (see the module doc); empty means the cell's defaults."""
    clip: float | None = None
    """Gate pre-activations are clipped to [-clip, clip] before their activation; None: no clipping."""
    input_forget: bool = False
    """LSTM only: the forget gate is 1 - the input gate (coupled gates)."""

    def __post_init__(self) -> None:
        if len(self.directions) not in (1, 2):
            raise InvalidParameterError("directions", len(self.directions), "a layer has 1 or 2 directions")
        object.__setattr__(self, "variant", self.shape.variant)  # validates the sizes; GRU "standard" -> reset_after
        self._check_cell_options()
        if not self.direction:
            object.__setattr__(self, "direction", "bidirectional" if len(self.directions) == 2 else "forward")
        require_choice("direction", self.direction, DIRECTIONS)
        if (self.direction == "bidirectional") != (len(self.directions) == 2):
            raise InvalidParameterError(
                "direction", self.direction,
                f"a layer with {len(self.directions)} set(s) of weights is "
                + ("bidirectional" if len(self.directions) == 2 else "forward or reverse"),
            )
        for index, weights in enumerate(self.directions):
            self._check_direction(index, weights)

    @cached_property
    def shape(self) -> LayerShape:
        """The layer's shape (sizes, directions, variant) without its weights."""
        return LayerShape(self.cell, self.input_size, self.hidden_size, self.proj_size, len(self.directions) == 2,
                          self.variant, any(weights.peepholes is not None for weights in self.directions))

    @property
    def standard_cell(self) -> bool:
        """True when the cell is PyTorch's: default activations, no clip, input_forget or peepholes."""
        return (self.activations == self.spec.default_activations and self.clip is None and not self.input_forget
                and all(weights.peepholes is None for weights in self.directions))

    def describe_cell(self) -> str:
        """The options beyond PyTorch's cell, e.g. ``activations hard_sigmoid(alpha=0.2, beta=0.5), tanh;
        clip 3``; empty for a standard cell."""
        parts = []
        if self.activations != self.spec.default_activations:
            parts.append("activations " + ", ".join(a.describe() for a in self.activations))
        if self.clip is not None:
            parts.append(f"clip {self.clip:g}")
        if self.input_forget:
            parts.append("input_forget")
        if any(weights.peepholes is not None for weights in self.directions):
            parts.append("peepholes")
        return "; ".join(parts)

    def _check_cell_options(self) -> None:
        spec = self.spec
        if not self.activations:
            object.__setattr__(self, "activations", spec.default_activations)
        expected = len(spec.default_activations)
        if not isinstance(self.activations, tuple) or len(self.activations) != expected or not all(
            isinstance(a, Activation) for a in self.activations
        ):
            raise InvalidParameterError(
                "activations", self.activations,
                f"a {self.cell.upper()} takes {expected} Activation objects ({spec.activation_roles})",
            )
        if self.clip is not None:
            if isinstance(self.clip, bool) or not isinstance(self.clip, (int, float)) or not np.isfinite(self.clip) or self.clip <= 0:
                raise InvalidParameterError("clip", self.clip, "must be None or a finite number > 0")
            object.__setattr__(self, "clip", float(self.clip))
        if not isinstance(self.input_forget, bool):
            raise InvalidParameterError("input_forget", self.input_forget, "must be True or False")
        if self.input_forget and not spec.supports_input_forget:
            raise InvalidParameterError("input_forget", True, f"does not apply to a {self.cell.upper()}")

    @property
    def spec(self) -> CellSpec:
        """The facts of the layer's cell."""
        return self.shape.spec

    @property
    def gates(self) -> int:
        """Number of gates (4 for LSTM, 3 for GRU)."""
        return self.spec.gates

    @property
    def recurrent_size(self) -> int:
        """Width of the recurrent input h_{t-1}: proj_size if set, else hidden_size."""
        return self.shape.recurrent_size

    @property
    def output_size(self) -> int:
        """Features per direction in the layer output."""
        return self.shape.output_size

    @property
    def bidirectional(self) -> bool:
        """True when the layer runs both a forward and a reverse direction."""
        return self.direction == "bidirectional"

    def runs_reversed(self, index: int) -> bool:
        """True when the weights ``directions[index]`` run backwards in time (t = T-1 .. 0)."""
        return self.direction == "reverse" or index == 1

    def weight_bytes(self, dtype_bytes: int = 4) -> dict[str, int]:
        """Bytes of W_x, W_h (and W_hr) of one direction at ``dtype_bytes`` per element."""
        d = self.directions[0]
        out = {"w_ih": d.w_ih.size * dtype_bytes, "w_hh": d.w_hh.size * dtype_bytes}
        if d.w_hr is not None:
            out["w_hr"] = d.w_hr.size * dtype_bytes
        return out

    def _check_direction(self, index: int, weights: DirectionWeights) -> None:
        rows = self.gates * self.hidden_size
        expected = {
            "w_ih": (rows, self.input_size),
            "w_hh": (rows, self.recurrent_size),
            "b_ih": (rows,),
            "b_hh": (rows,),
        }
        if self.proj_size:
            expected["w_hr"] = (self.proj_size, self.hidden_size)
        elif weights.w_hr is not None:
            raise InvalidParameterError(f"{self._where(index)}.w_hr", "array", "must be None without proj_size")
        if weights.peepholes is not None:
            if not self.spec.supports_peepholes:
                raise InvalidParameterError(f"{self._where(index)}.peepholes", "array",
                                            f"peepholes do not apply to a {self.cell.upper()}")
            expected["peepholes"] = (len(self.spec.peephole_gates), self.hidden_size)
        for key, shape in expected.items():
            array = getattr(weights, key)
            where = f"{self._where(index)}.{key}"
            if not isinstance(array, np.ndarray):
                raise InvalidParameterError(where, type(array).__name__, f"must be a numpy array of shape {shape}")
            if array.shape != shape:
                raise InvalidParameterError(where, array.shape, f"must have shape {shape}")
            if array.dtype.kind != "f":
                raise InvalidParameterError(where, str(array.dtype), "must be a floating-point array")
            if not np.all(np.isfinite(array)):
                raise InvalidParameterError(where, "non-finite values", "weights must be finite (no NaN or inf)")

    def _where(self, index: int) -> str:
        label = self.name or "layer"
        return f"{label}.direction{index}"


@dataclass(frozen=True)
class RecurrentModel:
    """A stack of recurrent layers run one after the other (PyTorch ``num_layers`` semantics)."""

    layers: tuple[RecurrentLayer, ...]
    name: str = ""
    source: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.layers:
            raise InvalidParameterError("layers", 0, "a model needs at least one recurrent layer")
        for index, (below, above) in enumerate(zip(self.layers, self.layers[1:]), start=1):
            if above.input_size != below.shape.output_features:
                raise InvalidParameterError(
                    f"layers[{index}].input_size", above.input_size,
                    f"must equal the output of layer {index - 1} ({below.name or 'unnamed'}: "
                    f"{below.shape.output_features} features), which it reads",
                )
        if len({layer.cell for layer in self.layers}) > 1:
            raise InvalidParameterError("layers", [layer.cell for layer in self.layers], "every layer of a stack has one cell type")

    @cached_property
    def uniform_states(self) -> bool:
        """True when every layer has the same hidden and recurrent sizes and directions, so the
        states stack into one (layers * directions, batch, size) array as in PyTorch."""
        first = self.layers[0]
        return all((layer.hidden_size, layer.recurrent_size, len(layer.directions))
                   == (first.hidden_size, first.recurrent_size, len(first.directions)) for layer in self.layers)

    @property
    def cell(self) -> str:
        """The cell type of the first layer."""
        return self.layers[0].cell

    @property
    def spec(self) -> CellSpec:
        """The facts of the model's cell (every layer has the same)."""
        return self.layers[0].spec


def random_layer(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    proj_size: int = 0,
    bidirectional: bool = False,
    variant: str = "standard",
    seed: int = 0,
    dtype: type = np.float64,
    scale: float | None = None,
    name: str = "",
) -> RecurrentLayer:
    """A layer with uniform random weights in +-1/sqrt(hidden) (PyTorch's default init), for tests
    and benchmarks."""
    gates = gate_count(cell)
    require_int("input_size", input_size)
    require_int("hidden_size", hidden_size)
    rng = np.random.default_rng(seed)
    bound = scale if scale is not None else 1.0 / np.sqrt(hidden_size)
    recurrent = proj_size or hidden_size
    dirs = []
    for _ in range(2 if bidirectional else 1):
        u = lambda *shape: rng.uniform(-bound, bound, size=shape).astype(dtype)  # noqa: E731
        dirs.append(
            DirectionWeights(
                w_ih=u(gates * hidden_size, input_size),
                w_hh=u(gates * hidden_size, recurrent),
                b_ih=u(gates * hidden_size),
                b_hh=u(gates * hidden_size),
                w_hr=u(proj_size, hidden_size) if proj_size else None,
            )
        )
    return RecurrentLayer(cell, input_size, hidden_size, tuple(dirs), proj_size, variant, name)


def random_model(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    *,
    proj_size: int = 0,
    bidirectional: bool = False,
    variant: str = "standard",
    seed: int = 0,
    dtype: type = np.float64,
) -> RecurrentModel:
    """A ``num_layers`` stack of random layers shaped like ``torch.nn.LSTM``/``GRU`` with the same arguments."""
    require_int("num_layers", num_layers)
    layers = []
    in_size = input_size
    for index in range(num_layers):
        layer = random_layer(
            cell, in_size, hidden_size, proj_size=proj_size, bidirectional=bidirectional,
            variant=variant, seed=seed + index, dtype=dtype, name=f"layer{index}",
        )
        layers.append(layer)
        in_size = layer.output_size * (2 if bidirectional else 1)
    return RecurrentModel(tuple(layers), name=f"random-{cell}")
