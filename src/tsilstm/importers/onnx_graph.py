"""ONNX ``LSTM`` and ``GRU`` nodes -> ``RecurrentModel``: every such node anywhere in the graph (also
inside ``If`` / ``Loop`` / ``Scan`` subgraphs) becomes a one-layer model; the graph is only read.

Supported: forward, reverse and bidirectional nodes; ``layout`` 0 and 1 (it only changes the
runtime tensors' axes); GRU ``linear_before_reset`` 1 (variant ``reset_after``) and 0
(``reset_before``); weights W, R, B given as initializers or ``Constant`` nodes (also through
``Identity``); every activation of ONNX's list with ``activation_alpha`` / ``activation_beta``,
``clip``, ``input_forget`` and peepholes P. Rejected with a message naming the node: an activation
outside ONNX's list, different activations in the two directions, weights computed at run time.

``sequence_lens``: a run-time input; the weights do not depend on it. tsilstm runs full-length
sequences, which equals the node's output when every sequence_lens entry equals the sequence
length; ``tsilstm verify`` feeds exactly that. ``tsilstm.onnx.InferenceSession`` runs shorter
sequences each for its own length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tsilstm.activations import ACTIVATION_DEFAULTS, ONNX_ACTIVATION_NAMES, Activation
from tsilstm.cell_spec import ONNX_OPS
from tsilstm.errors import ModelFileError, TsilstmError
from tsilstm.importers.gate_order import (
    ONNX_PEEPHOLES_TO_CANONICAL,
    reorder_gates,
)
from tsilstm.importers.onnx_external_data import is_external, with_external_data
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel
from tsilstm.optional_packages import import_optional

RECURRENT_OPS = tuple(ONNX_OPS)
TSILSTM_DOMAIN = "ai.tsilstm"
"""The custom-op domain of the LSTM/GRU nodes tsilstm runs (``tsilstm convert-onnx`` moves the nodes
it takes there, inputs and attributes unchanged); the importer reads them like standard nodes."""
STANDARD_DOMAINS = ("", "ai.onnx")
"""The names of ONNX's own operator domain."""
ONNX_ATTRIBUTES = {
    "LSTM": frozenset({"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
                       "input_forget", "layout"}),
    "GRU": frozenset({"activation_alpha", "activation_beta", "activations", "clip", "direction", "hidden_size",
                      "layout", "linear_before_reset"}),
}
"""The attributes the ONNX operators define (opset 22); an ``ai.tsilstm`` node may carry no other."""
INPUT_NAMES = {
    "LSTM": ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"),
    "GRU": ("X", "W", "R", "B", "sequence_lens", "initial_h"),
}
_ONNX_NAME_OF = {ours: onnx_name for onnx_name, ours in ONNX_ACTIVATION_NAMES.items()}
DEFAULT_ACTIVATIONS = {op: tuple(_ONNX_NAME_OF[a.name] for a in spec.default_activations) for op, spec in ONNX_OPS.items()}
"""The ONNX defaults (f, g, h for LSTM; f, g for GRU), the functions of PyTorch's cells."""
_WEIGHT_INPUTS = ("W", "R", "B", "P")


@dataclass
class OnnxRecurrentNode:
    """One LSTM/GRU node found in a graph, with its constant inputs resolved to numpy arrays."""

    node: object  # onnx.NodeProto
    locator: str
    opset: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    runtime_inputs: dict[str, str] = field(default_factory=dict)

    @property
    def op_type(self) -> str:
        """``LSTM`` or ``GRU``."""
        return self.node.op_type  # type: ignore[attr-defined]

    def attributes(self) -> dict[str, object]:
        """The node's attributes as Python values (strings decoded)."""
        from onnx import helper

        out = {}
        for attribute in self.node.attribute:  # type: ignore[attr-defined]
            value = helper.get_attribute_value(attribute)
            if isinstance(value, bytes):
                value = value.decode()
            elif isinstance(value, list):
                value = [v.decode() if isinstance(v, bytes) else v for v in value]
            out[attribute.name] = value
        return out


def import_onnx():  # type: ignore[no-untyped-def]
    """The ``onnx`` module, or a ``MissingPackageError`` naming the extra that installs it."""
    return import_optional("onnx", "import ONNX models")


def load_onnx_proto(path: str | Path):  # type: ignore[no-untyped-def]
    """Read the ONNX file at ``path``; raise ``ModelFileError`` if it is not one. External tensor data
    is not loaded here (onnx would follow any path it names): the tensors a recurrent node needs are
    read later by ``onnx_external_data``, inside the model's folder only."""
    onnx = import_onnx()
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "", "no such file")
    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as error:  # noqa: BLE001 - protobuf raises DecodeError, RuntimeWarning, OSError ...
        raise ModelFileError(path, "", f"is not a readable ONNX model ({str(error).strip()[:200] or type(error).__name__})",
                             "an ONNX ModelProto file") from error
    if proto.ir_version <= 0 or not proto.graph.node:
        raise ModelFileError(path, "", "is not an ONNX model (no IR version or no graph nodes)", "an ONNX ModelProto file")
    return proto


def find_recurrent_nodes(proto, source: object) -> list[OnnxRecurrentNode]:  # type: ignore[no-untyped-def]
    """Every LSTM/GRU node of ``proto`` (graph and subgraphs, in graph order; ONNX's domain and
    ``TSILSTM_DOMAIN``) with its constant inputs resolved; inputs that are not constants are listed
    in ``runtime_inputs``."""
    opset = next((o.version for o in proto.opset_import if o.domain in STANDARD_DOMAINS), 0)
    found: list[OnnxRecurrentNode] = []
    _walk(proto.graph, _Scope(), "graph", opset, found, source, _WalkBudget())
    return found


def models_from_onnx(path: str | Path, *, node: str | None = None) -> list[RecurrentModel]:
    """One ``RecurrentModel`` (one layer) per LSTM/GRU node of the ONNX file at ``path``, or only the
    node whose name or locator is ``node``. Raises ``ModelFileError`` naming the file and node."""
    proto = load_onnx_proto(path)
    nodes = find_recurrent_nodes(proto, path)
    if not nodes:
        ops = sorted({n.op_type for n in proto.graph.node})
        raise ModelFileError(path, "", f"has no LSTM or GRU node (its graph has {', '.join(ops[:30])})",
                             "a graph with at least one LSTM or GRU node")
    if node is not None:
        chosen = [n for n in nodes if node in (n.node.name, n.locator)]
        if not chosen:
            raise ModelFileError(path, f"node {node!r}", "not found", f"one of {[n.locator for n in nodes]}")
        nodes = chosen
    return [_model_from_node_checked(n, path) for n in nodes]


def _model_from_node_checked(found: OnnxRecurrentNode, source: object) -> RecurrentModel:
    """``model_from_node``, with an attribute of the wrong kind (a string where a number belongs,
    a list, a graph) refused as a ``ModelFileError`` naming the node instead of Python's error."""
    try:
        return model_from_node(found, source)
    except TsilstmError:
        raise
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ModelFileError(source, f"{found.op_type} node {found.locator!r}",
                             f"has an attribute or input of the wrong kind ({type(error).__name__}: {str(error)[:200]})",
                             "the attributes and inputs the ONNX operator defines") from error


def model_from_node(found: OnnxRecurrentNode, source: object) -> RecurrentModel:
    """The ``RecurrentModel`` of one resolved LSTM/GRU node (canonical gate order, see module doc)."""
    op = found.op_type
    where = f"{op} node {found.locator!r}"
    attrs = found.attributes()
    _check_attributes(op, attrs, where, source)
    for name in ("W", "R"):
        if name in found.runtime_inputs:
            raise ModelFileError(source, where, f"input {name} ({found.runtime_inputs[name]!r}) is computed at run time",
                                 "W and R as initializers or Constant nodes")
        if name not in found.arrays:
            raise ModelFileError(source, where, f"input {name} is missing")
    for name in ("B", "P"):
        if name in found.runtime_inputs:
            raise ModelFileError(source, where, f"input {name} ({found.runtime_inputs[name]!r}) is computed at run time",
                                 f"{name} as an initializer or Constant node")
    w, r = found.arrays["W"], found.arrays["R"]
    spec = ONNX_OPS[op]
    gates = spec.gates
    direction = str(attrs.get("direction", "forward"))
    dirs = 2 if direction == "bidirectional" else 1
    options = _cell_options(op, attrs, dirs, where, source)
    if r.ndim != 3 or w.ndim != 3 or r.shape[0] != dirs or w.shape[0] != dirs:
        raise ModelFileError(source, where, f"W has shape {w.shape}, R {r.shape}",
                             f"[{dirs}, {gates}*hidden, input] and [{dirs}, {gates}*hidden, hidden] for direction={direction}")
    hidden = r.shape[2]
    if "hidden_size" in attrs and int(attrs["hidden_size"]) != hidden:  # type: ignore[arg-type]
        raise ModelFileError(source, where, f"hidden_size={attrs['hidden_size']} but R has shape {r.shape}")
    rows = gates * hidden
    if r.shape[1] != rows or w.shape[1] != rows:
        raise ModelFileError(source, where, f"W has shape {w.shape}, R {r.shape}",
                             f"[{dirs}, {rows}, input] and [{dirs}, {rows}, {hidden}]")
    b = found.arrays.get("B")
    if b is None:
        b = np.zeros((dirs, 2 * rows), dtype=w.dtype)
    if b.shape != (dirs, 2 * rows):
        raise ModelFileError(source, where, f"B has shape {b.shape}", f"[{dirs}, {2 * rows}] (Wb then Rb)")
    p = found.arrays.get("P")
    if p is not None and p.shape != (dirs, 3 * hidden):
        raise ModelFileError(source, where, f"P has shape {p.shape}", f"[{dirs}, {3 * hidden}] (peepholes i, o, f)")
    if p is not None and not np.any(p):
        p = None  # all-zero peepholes: PyTorch's cell
    order = spec.onnx_to_canonical
    directions = tuple(
        DirectionWeights(
            reorder_gates(w[d], order), reorder_gates(r[d], order),
            reorder_gates(b[d, :rows], order), reorder_gates(b[d, rows:], order),
            peepholes=None if p is None else reorder_gates(p[d], ONNX_PEEPHOLES_TO_CANONICAL).reshape(3, hidden),
        )
        for d in range(dirs)
    )
    variant = "standard"
    if spec.supports_reset_before:
        variant = "reset_after" if int(attrs.get("linear_before_reset", 0)) else "reset_before"  # type: ignore[arg-type]
    try:
        layer = RecurrentLayer(spec.name, w.shape[2], hidden, directions, 0, variant,
                               found.node.name or found.locator, direction, **options)  # type: ignore[attr-defined, arg-type]
    except TsilstmError as error:
        raise ModelFileError(source, where, str(error)) from None
    metadata = {
        "format": "onnx", "path": str(source), "node": found.node.name, "locator": found.locator,  # type: ignore[attr-defined]
        "op_type": op, "layout": int(attrs.get("layout", 0)), "opset": found.opset,  # type: ignore[arg-type]
        "domain": found.node.domain,  # type: ignore[attr-defined]
        "sequence_lens": "sequence_lens" in found.runtime_inputs or "sequence_lens" in found.arrays,
    }
    return RecurrentModel((layer,), name=found.node.name or found.locator, source="onnx", metadata=metadata)  # type: ignore[attr-defined]


def _check_attributes(op: str, attrs: dict[str, object], where: str, source: object) -> None:
    direction = attrs.get("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ModelFileError(source, where, f"direction={direction!r}", "forward, reverse or bidirectional")
    if int(attrs.get("layout", 0)) not in (0, 1):  # type: ignore[arg-type]
        raise ModelFileError(source, where, f"layout={attrs['layout']}", "0 or 1")
    if int(attrs.get("input_forget", 0)) not in (0, 1):  # type: ignore[arg-type]
        raise ModelFileError(source, where, f"input_forget={attrs['input_forget']}", "0 or 1")


def _cell_options(op: str, attrs: dict[str, object], dirs: int, where: str, source: object) -> dict[str, object]:
    """The layer's activations, clip and input_forget from the node's attributes. ``activation_alpha``
    and ``activation_beta`` are consumed in the order of the activations, each by the functions
    that take that parameter (ONNX Runtime's reading); a function left without one takes its default."""
    per_direction = len(DEFAULT_ACTIVATIONS[op])
    names = [str(a) for a in attrs.get("activations", DEFAULT_ACTIVATIONS[op] * dirs)]  # type: ignore[union-attr]
    if len(names) != per_direction * dirs:
        raise ModelFileError(source, where, f"lists {len(names)} activations {names}",
                             f"{per_direction * dirs} ({per_direction} per direction)")
    alphas = [float(a) for a in attrs.get("activation_alpha", [])]  # type: ignore[union-attr]
    betas = [float(b) for b in attrs.get("activation_beta", [])]  # type: ignore[union-attr]
    by_lower = {name.lower(): ours for name, ours in ONNX_ACTIVATION_NAMES.items()}
    activations = []
    for name in names:
        ours = by_lower.get(name.lower())
        if ours is None:
            raise ModelFileError(source, where, f"uses activation {name!r}", "one of " + ", ".join(ONNX_ACTIVATION_NAMES))
        takes_alpha, takes_beta = (default is not None for default in ACTIVATION_DEFAULTS[ours])
        alpha = alphas.pop(0) if takes_alpha and alphas else None
        beta = betas.pop(0) if takes_beta and betas else None
        try:
            activations.append(Activation.named(ours, alpha, beta))
        except TsilstmError as error:
            raise ModelFileError(source, where, f"activation {name!r}: {error}") from None
    if activations[:per_direction] != activations[per_direction:] and dirs == 2:
        raise ModelFileError(source, where, "uses different activations in its two directions "
                             f"({[a.describe() for a in activations]})", "the same activations in both directions")
    clip = attrs.get("clip")
    if clip is not None and not (isinstance(clip, float) and np.isfinite(clip) and clip > 0):
        raise ModelFileError(source, where, f"clip={clip!r}", "a finite number > 0")
    return {"activations": tuple(activations[:per_direction]), "clip": clip,
            "input_forget": bool(int(attrs.get("input_forget", 0)))}  # type: ignore[arg-type]


MAX_GRAPH_ITEMS = 5_000_000
"""Nodes, initializers and subgraphs one walk visits at most (a protobuf file holds each once, so a
walk is linear in the file; this bounds its time, ~1 us per item, on a file of any size)."""


class _Scope:
    """The constants visible in the graph being walked (name -> TensorProto / Constant node): one
    dict for the whole walk; a subgraph's own names are undone when it ends, so entering a subgraph
    costs what it defines, not what its outer graphs define."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}
        self._undo: list[list[tuple[str, object]]] = []

    def enter(self) -> None:
        """Start a (sub)graph."""
        self._undo.append([])

    def define(self, name: str, value: object) -> None:
        """Make ``name`` mean ``value`` until the current (sub)graph ends."""
        self._undo[-1].append((name, self.values.get(name, _UNDEFINED)))
        self.values[name] = value

    def leave(self) -> None:
        """End the current (sub)graph: its names mean what they meant before it."""
        for name, previous in reversed(self._undo.pop()):
            if previous is _UNDEFINED:
                del self.values[name]
            else:
                self.values[name] = previous


_UNDEFINED = object()


@dataclass
class _WalkBudget:
    """Items a walk may still visit (see ``MAX_GRAPH_ITEMS``)."""

    items_left: int = MAX_GRAPH_ITEMS

    def spend(self, items: int, source: object, where: str) -> None:
        """Count ``items`` visited at ``where``; ``ModelFileError`` when the budget is exhausted."""
        self.items_left -= items
        if self.items_left < 0:
            raise ModelFileError(source, where, f"the graph holds more than {MAX_GRAPH_ITEMS} nodes, initializers and "
                                 "subgraphs; refused", "a smaller graph")


def _walk(graph, scope: _Scope, path: str, opset: int, found: list[OnnxRecurrentNode], source: object,  # type: ignore[no-untyped-def]
          budget: _WalkBudget) -> None:
    from onnx import AttributeProto

    budget.spend(1 + len(graph.initializer) + len(graph.node), source, path)
    scope.enter()
    constants = scope.values  # name -> TensorProto / Constant node (converted only when a node needs it)
    for initializer in graph.initializer:
        scope.define(initializer.name, initializer)
    for index, node in enumerate(graph.node):
        if node.op_type == "Constant" and node.domain in STANDARD_DOMAINS:
            if len(node.output) != 1:
                raise ModelFileError(source, f"{path}/{node.name or f'node[{index}]'}",
                                     f"is a Constant node with {len(node.output)} outputs", "exactly one output")
            scope.define(node.output[0], node)
        elif node.op_type == "Identity" and node.input and node.output and node.input[0] in constants:
            scope.define(node.output[0], constants[node.input[0]])
        if node.op_type in RECURRENT_OPS and node.domain in (*STANDARD_DOMAINS, TSILSTM_DOMAIN):
            locator = node.name or f"{path}/node[{index}]"
            if node.domain == TSILSTM_DOMAIN:
                _check_converted_node(node, locator, source)
            item = OnnxRecurrentNode(node, locator, opset)
            for name, input_name in zip(INPUT_NAMES[node.op_type], node.input):
                if not input_name or name == "X":
                    continue
                try:
                    value = _constant_array(constants.get(input_name), source, f"{locator} input {name} ({input_name!r})")
                except ModelFileError:  # external data refused: the message names the tensor already
                    raise
                except (ValueError, TypeError, KeyError) as error:  # data inconsistent with its dims or type
                    raise ModelFileError(source, f"{locator} input {name} ({input_name!r})",
                                         f"cannot be read as a tensor ({str(error)[:200]})",
                                         "a tensor whose data matches its type and dims") from error
                if value is not None:
                    item.arrays[name] = value
                else:
                    item.runtime_inputs[name] = input_name
            found.append(item)
        for attribute in node.attribute:
            label = f"{path}/{node.name or node.op_type + str(index)}.{attribute.name}"
            if attribute.type == AttributeProto.GRAPH:
                _walk(attribute.g, scope, label, opset, found, source, budget)
            elif attribute.type == AttributeProto.GRAPHS:
                for k, sub in enumerate(attribute.graphs):
                    _walk(sub, scope, f"{label}[{k}]", opset, found, source, budget)
    scope.leave()


def _check_converted_node(node, locator: str, source: object) -> None:  # type: ignore[no-untyped-def]
    """Raise ``ModelFileError`` when the ``TSILSTM_DOMAIN`` node ``node`` carries an attribute the ONNX
    operator does not define (a session's runtime form, or anything else convert-onnx never writes)."""
    foreign = sorted({attribute.name for attribute in node.attribute} - ONNX_ATTRIBUTES[node.op_type])
    if foreign:
        raise ModelFileError(source, f"{node.op_type} node {locator!r}",
                             f"is an {TSILSTM_DOMAIN} node with attribute(s) {foreign}, which ONNX's {node.op_type} does "
                             "not define", f"{TSILSTM_DOMAIN} nodes as convert-onnx writes them (the ONNX operator's "
                             "inputs and attributes)")


def _constant_array(entry, source: object, where: str) -> np.ndarray | None:  # type: ignore[no-untyped-def]
    """The value of an initializer (TensorProto) or a Constant node as a numpy array; None otherwise."""
    from onnx import NodeProto

    if entry is None:
        return None
    if isinstance(entry, NodeProto):
        return _constant_value(entry, source, where)
    return _tensor_array(entry, source, where)


def _tensor_array(tensor, source: object, where: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A TensorProto as a numpy array, its external data (if any) read by tsilstm inside the model's folder."""
    from onnx import helper, numpy_helper

    try:
        helper.tensor_dtype_to_np_dtype(tensor.data_type)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(source, where, f"has data type {tensor.data_type}, which ONNX does not define",
                             "a numeric ONNX tensor type (FLOAT = 1, ...)") from error
    if is_external(tensor):
        tensor = with_external_data(tensor, Path(str(source)), where)
    return _to_array(numpy_helper.to_array(tensor))


def _constant_value(node, source: object, where: str) -> np.ndarray | None:  # type: ignore[no-untyped-def]
    from onnx import helper

    for attribute in node.attribute:
        if attribute.name == "value":
            return _tensor_array(attribute.t, source, where)
        if attribute.name in ("value_float", "value_floats", "value_int", "value_ints"):
            return np.asarray(helper.get_attribute_value(attribute))
    return None


def _to_array(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        return array.astype(np.float32)
    return array
