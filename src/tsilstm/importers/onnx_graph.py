"""ONNX ``LSTM`` and ``GRU`` nodes -> ``RecurrentModel``: every such node anywhere in the graph (also
inside ``If`` / ``Loop`` / ``Scan`` subgraphs) becomes a one-layer model; the graph is only read.

Supported: forward, reverse and bidirectional nodes; ``layout`` 0 and 1 (it only changes the
runtime tensors' axes); GRU ``linear_before_reset`` 1 (variant ``reset_after``) and 0
(``reset_before``); weights W, R, B given as initializers or ``Constant`` nodes (also through
``Identity``); a peephole input P only when it is all zeros (then it changes nothing).
Rejected with a message naming the node: non-zero peepholes, ``clip``, ``input_forget=1``,
activations other than the defaults, weights computed at run time.

``sequence_lens``: a run-time input; the weights do not depend on it. tsilstm runs full-length
sequences, which equals the node's output when every sequence_lens entry equals the sequence
length; ``tsilstm verify`` feeds exactly that. ``tsilstm.onnx.InferenceSession`` runs shorter
sequences each for its own length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tsilstm.importers.gate_order import ONNX_GRU_TO_CANONICAL, ONNX_LSTM_TO_CANONICAL, reorder_gates
from tsilstm.importers.model_file_error import ModelFileError, missing_package
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel

RECURRENT_OPS = ("LSTM", "GRU")
INPUT_NAMES = {
    "LSTM": ("X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"),
    "GRU": ("X", "W", "R", "B", "sequence_lens", "initial_h"),
}
DEFAULT_ACTIVATIONS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh")}
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
    """The ``onnx`` module, or a ``ModelFileError`` saying how to install it."""
    try:
        import onnx
    except ImportError as error:
        raise missing_package("onnx", "onnx", "import ONNX models") from error
    return onnx


def load_onnx_proto(path: str | Path):  # type: ignore[no-untyped-def]
    """Read the ONNX file at ``path`` (with external data); raise ``ModelFileError`` if it is not one."""
    onnx = import_onnx()
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(path, "", "no such file")
    try:
        proto = onnx.load(str(path))
    except Exception as error:  # noqa: BLE001 - protobuf raises DecodeError, RuntimeWarning, OSError ...
        raise ModelFileError(path, "", f"is not a readable ONNX model ({str(error).strip()[:200] or type(error).__name__})",
                             "an ONNX ModelProto file") from error
    if proto.ir_version <= 0 or not proto.graph.node:
        raise ModelFileError(path, "", "is not an ONNX model (no IR version or no graph nodes)", "an ONNX ModelProto file")
    return proto


def find_recurrent_nodes(proto, source: object) -> list[OnnxRecurrentNode]:  # type: ignore[no-untyped-def]
    """Every LSTM/GRU node of ``proto`` (graph and subgraphs, in graph order) with its constant
    inputs resolved; inputs that are not constants are listed in ``runtime_inputs``."""
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    found: list[OnnxRecurrentNode] = []
    _walk(proto.graph, {}, "graph", opset, found, source)
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
    return [model_from_node(n, path) for n in nodes]


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
    gates = 4 if op == "LSTM" else 3
    direction = str(attrs.get("direction", "forward"))
    dirs = 2 if direction == "bidirectional" else 1
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
    if p is not None and np.any(p != 0):
        raise ModelFileError(source, where, "has non-zero peephole weights P, which tsilstm does not support",
                             "no P input or an all-zero P (PyTorch-style LSTM)")
    order = ONNX_LSTM_TO_CANONICAL if op == "LSTM" else ONNX_GRU_TO_CANONICAL
    directions = tuple(
        DirectionWeights(
            reorder_gates(w[d], order), reorder_gates(r[d], order),
            reorder_gates(b[d, :rows], order), reorder_gates(b[d, rows:], order),
        )
        for d in range(dirs)
    )
    variant = "standard"
    if op == "GRU":
        variant = "reset_after" if int(attrs.get("linear_before_reset", 0)) else "reset_before"  # type: ignore[arg-type]
    layer = RecurrentLayer(op.lower(), w.shape[2], hidden, directions, 0, variant,
                           found.node.name or found.locator, direction)  # type: ignore[attr-defined]
    metadata = {
        "format": "onnx", "path": str(source), "node": found.node.name, "locator": found.locator,  # type: ignore[attr-defined]
        "op_type": op, "layout": int(attrs.get("layout", 0)), "opset": found.opset,  # type: ignore[arg-type]
        "sequence_lens": "sequence_lens" in found.runtime_inputs or "sequence_lens" in found.arrays,
    }
    return RecurrentModel((layer,), name=found.node.name or found.locator, source="onnx", metadata=metadata)  # type: ignore[attr-defined]


def _check_attributes(op: str, attrs: dict[str, object], where: str, source: object) -> None:
    direction = attrs.get("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise ModelFileError(source, where, f"direction={direction!r}", "forward, reverse or bidirectional")
    if "clip" in attrs:
        raise ModelFileError(source, where, f"uses clip={attrs['clip']} (cell-state clipping), which tsilstm does not support",
                             "no clip attribute")
    if int(attrs.get("input_forget", 0)):  # type: ignore[arg-type]
        raise ModelFileError(source, where, "uses input_forget=1 (coupled input and forget gates), which tsilstm does not support",
                             "input_forget=0")
    if "activation_alpha" in attrs or "activation_beta" in attrs:
        raise ModelFileError(source, where, "sets activation_alpha/activation_beta", "the default activations")
    if "activations" in attrs:
        default = DEFAULT_ACTIVATIONS[op]
        acts = [str(a) for a in attrs["activations"]]  # type: ignore[union-attr]
        dirs = 2 if direction == "bidirectional" else 1
        if [a.lower() for a in acts] != [a.lower() for a in default * dirs]:
            raise ModelFileError(source, where, f"uses activations {acts}, which tsilstm does not support",
                                 f"{list(default * dirs)}")
    if int(attrs.get("layout", 0)) not in (0, 1):  # type: ignore[arg-type]
        raise ModelFileError(source, where, f"layout={attrs['layout']}", "0 or 1")


def _walk(graph, outer: dict[str, np.ndarray], path: str, opset: int, found: list[OnnxRecurrentNode], source: object) -> None:  # type: ignore[no-untyped-def]
    from onnx import AttributeProto

    constants = dict(outer)  # name -> TensorProto / Constant node (converted only when a node needs it)
    for initializer in graph.initializer:
        constants[initializer.name] = initializer
    for index, node in enumerate(graph.node):
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            constants[node.output[0]] = node
        elif node.op_type == "Identity" and node.input and node.input[0] in constants:
            constants[node.output[0]] = constants[node.input[0]]
        if node.op_type in RECURRENT_OPS and node.domain in ("", "ai.onnx"):
            locator = node.name or f"{path}/node[{index}]"
            item = OnnxRecurrentNode(node, locator, opset)
            for name, input_name in zip(INPUT_NAMES[node.op_type], node.input):
                if not input_name or name == "X":
                    continue
                try:
                    value = _constant_array(constants.get(input_name))
                except (ValueError, TypeError) as error:  # data inconsistent with its dims or type
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
                _walk(attribute.g, constants, label, opset, found, source)
            elif attribute.type == AttributeProto.GRAPHS:
                for k, sub in enumerate(attribute.graphs):
                    _walk(sub, constants, f"{label}[{k}]", opset, found, source)


def _constant_array(entry) -> np.ndarray | None:  # type: ignore[no-untyped-def]
    """The value of an initializer (TensorProto) or a Constant node as a numpy array; None otherwise."""
    from onnx import NodeProto, numpy_helper

    if entry is None:
        return None
    if isinstance(entry, NodeProto):
        return _constant_value(entry)
    return _to_array(numpy_helper.to_array(entry))


def _constant_value(node) -> np.ndarray | None:  # type: ignore[no-untyped-def]
    from onnx import helper, numpy_helper

    for attribute in node.attribute:
        if attribute.name == "value":
            return _to_array(numpy_helper.to_array(attribute.t))
        if attribute.name in ("value_float", "value_floats", "value_int", "value_ints"):
            return np.asarray(helper.get_attribute_value(attribute))
    return None


def _to_array(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind == "f" and array.dtype.itemsize < 4:
        return array.astype(np.float32)
    return array
