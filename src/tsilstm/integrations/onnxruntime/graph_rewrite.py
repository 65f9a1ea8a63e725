"""ONNX-to-ONNX rewrite: which LSTM/GRU nodes of a graph tsilstm takes, and the two forms of the
rewritten graph (docs/design.md section 10).

* The **file form** (``converted_model``, written by ``tsilstm convert-onnx``) is the original graph
  with every taken node moved to the domain ``ai.tsilstm``, its inputs (weights as initializers),
  outputs and attributes unchanged, so it still describes the node completely.
* The **runtime form** (``runtime_model``, what ``InferenceSession`` hands to ONNX Runtime) replaces
  each taken node by a custom-op node with the run-time inputs only (``X``, ``sequence_lens``,
  ``initial_h`` and for LSTM ``initial_c``; an empty placeholder tensor where one is absent), every
  output named, and one string attribute, the key of the weights tsilstm packed for it. The weight
  initializers no other node reads are dropped, so ONNX Runtime holds no second copy.

A node stays ONNX Runtime's own, with the reason recorded, when the importer refuses it (peepholes,
``clip``, ``input_forget``, other activations, weights computed at run time) or its tensors are not
float32. Nodes inside ``If`` / ``Loop`` / ``Scan`` subgraphs are taken like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tsilstm.errors import ModelFileError
from tsilstm.importers.onnx_graph import (
    INPUT_NAMES,
    RECURRENT_OPS,
    STANDARD_DOMAINS,
    TSILSTM_DOMAIN,
    OnnxRecurrentNode,
    find_recurrent_nodes,
    import_onnx,
    load_onnx_proto,
    model_from_node,
)
from tsilstm.model import RecurrentModel

DOMAIN = TSILSTM_DOMAIN
"""The custom-op domain of the nodes tsilstm runs (defined by the importer, which reads them too)."""
DOMAIN_VERSION = 1
KEY_ATTRIBUTE = "tsilstm_key"
"""The runtime form's only attribute: the key of the packed weights of the node."""
ABSENT_FLOAT = "tsilstm_absent_float"
ABSENT_INT32 = "tsilstm_absent_int32"
"""Empty (shape [0]) initializers standing for an absent optional input in the runtime form."""
RUNTIME_INPUTS = {"LSTM": ("X", "sequence_lens", "initial_h", "initial_c"), "GRU": ("X", "sequence_lens", "initial_h")}
"""The inputs of a runtime-form node, in order."""
OUTPUT_NAMES = {"LSTM": ("Y", "Y_h", "Y_c"), "GRU": ("Y", "Y_h")}
_FLOAT = 1  # onnx.TensorProto.FLOAT
_WEIGHTS = ("W", "R", "B", "P")


@dataclass(frozen=True)
class NodeDecision:
    """What happens to one LSTM/GRU node: ``taken`` (runs in tsilstm, ``model`` holds its weights)
    or kept by ONNX Runtime with the ``reason``."""

    locator: str
    op_type: str
    taken: bool
    reason: str
    layout: int
    model: RecurrentModel | None = None

    def describe(self) -> str:
        """One line: the node, and where it runs and why."""
        where = "tsilstm" if self.taken else "onnxruntime"
        return f"{self.op_type} node {self.locator!r}: {where}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class RewritePlan:
    """The decisions for every LSTM/GRU node of ``proto`` (graph order, subgraphs included; the
    nodes' places are found again in each copy by ``_sites_in``)."""

    proto: Any
    decisions: list[NodeDecision]
    had_tsilstm_nodes: bool = False
    """The model came with nodes in the ``ai.tsilstm`` domain (a file written by ``convert-onnx``)."""


def load_model_proto(path_or_bytes: str | Path | bytes) -> Any:
    """The ``onnx.ModelProto`` in the file ``path_or_bytes`` (a path) or the serialized bytes;
    raises ``ModelFileError`` if it is not an ONNX model."""
    if isinstance(path_or_bytes, (str, Path)):
        return load_onnx_proto(path_or_bytes)
    if not isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        raise ModelFileError(type(path_or_bytes).__name__, "", "is neither a path nor bytes",
                             "the path of an ONNX file or its serialized bytes")
    onnx = import_onnx()
    try:
        proto = onnx.load_from_string(bytes(path_or_bytes))
    except Exception as error:  # noqa: BLE001 - protobuf raises DecodeError and others
        raise ModelFileError("<bytes>", "", f"is not a readable ONNX model ({str(error).strip()[:200] or type(error).__name__})",
                             "an ONNX ModelProto") from error
    if proto.ir_version <= 0 or not proto.graph.node:
        raise ModelFileError("<bytes>", "", "is not an ONNX model (no IR version or no graph nodes)", "an ONNX ModelProto")
    return proto


def plan_rewrite(proto: Any, source: object) -> RewritePlan:
    """Decide for every LSTM/GRU node of ``proto`` whether tsilstm runs it (see module doc). Nodes
    already in the ``ai.tsilstm`` domain (a converted file) are decided again from their inputs and
    attributes. ``proto`` is copied, never changed."""
    onnx = import_onnx()
    _refuse_foreign_tsilstm_nodes(proto, source)
    work = onnx.ModelProto()
    work.CopyFrom(proto)
    converted = False
    for graph in _graphs(work.graph):
        for node in graph.node:
            if node.domain == DOMAIN and node.op_type in RECURRENT_OPS:
                node.domain = ""
                converted = True
    found = find_recurrent_nodes(work, source)
    if len(list(_recurrent_sites(work.graph))) != len(found):  # both walks visit the same nodes in order
        raise AssertionError("recurrent node walk disagrees with the importer's")
    types = _element_types(work.graph)
    return RewritePlan(work, [_decide(item, source, types) for item in found], converted)


def original_model(plan: RewritePlan) -> Any:
    """The model every LSTM/GRU node of which is ONNX Runtime's own again (a converted file's nodes
    back in the standard domain, the ``ai.tsilstm`` domain import dropped)."""
    onnx = import_onnx()
    out = onnx.ModelProto()
    out.CopyFrom(plan.proto)
    kept = [entry for entry in out.opset_import if entry.domain != DOMAIN]
    del out.opset_import[:]
    out.opset_import.extend(kept)
    return out


def converted_model(plan: RewritePlan) -> Any:
    """The file form (module doc): the taken nodes moved to the ``ai.tsilstm`` domain."""
    onnx = import_onnx()
    out = onnx.ModelProto()
    out.CopyFrom(plan.proto)
    for decision, (graph, index) in zip(plan.decisions, _sites_in(out, plan)):
        if decision.taken:
            graph.node[index].domain = DOMAIN
    _import_domain(out)
    return out


def runtime_model(plan: RewritePlan, keys: dict[int, str]) -> Any:
    """The runtime form (module doc), ``keys`` giving the weight key of each taken node by its
    index in ``plan.decisions``."""
    onnx = import_onnx()
    from onnx import TensorProto, helper

    out = onnx.ModelProto()
    out.CopyFrom(plan.proto)
    dropped: set[str] = set()
    for position, (decision, (graph, index)) in enumerate(zip(plan.decisions, _sites_in(out, plan))):
        if not decision.taken:
            continue
        node = graph.node[index]
        given = dict(zip(INPUT_NAMES[node.op_type], node.input))
        dropped.update(name for key, name in given.items() if key in _WEIGHTS and name)
        inputs = [given["X"]]
        for name in RUNTIME_INPUTS[node.op_type][1:]:
            placeholder = ABSENT_INT32 if name == "sequence_lens" else ABSENT_FLOAT
            inputs.append(given.get(name) or placeholder)
            if not given.get(name) and placeholder not in {t.name for t in graph.initializer}:
                graph.initializer.append(helper.make_tensor(
                    placeholder, TensorProto.INT32 if placeholder == ABSENT_INT32 else TensorProto.FLOAT, [0], []))
        outputs = list(node.output) + [""] * (len(OUTPUT_NAMES[node.op_type]) - len(node.output))
        outputs = [name or f"{keys[position]}/unused_{label}" for name, label in zip(outputs, OUTPUT_NAMES[node.op_type])]
        custom = helper.make_node(node.op_type, inputs, outputs, name=node.name, domain=DOMAIN,
                                  **{KEY_ATTRIBUTE: keys[position]})
        node.CopyFrom(custom)
    _drop_unread_initializers(out.graph, dropped)
    _import_domain(out)
    return out


def inline_external_data(model: Any, model_path: Path) -> Any:
    """``model`` (changed in place and returned) with every tensor whose data lives in an external
    file read into it: initializers and tensor attributes of the graph, its subgraphs and its local
    functions. The files are read as the importer reads recurrent weights (inside ``model_path``'s
    folder only, regular files, exact sizes), so the model no longer depends on its folder: ONNX
    Runtime can run it from bytes, and ``convert-onnx`` can write it anywhere."""
    from tsilstm.importers.onnx_external_data import is_external, with_external_data

    def tensors(graph: Any, where: str) -> Iterator[tuple[Any, str]]:
        for tensor in graph.initializer:
            yield tensor, f"{where} initializer {tensor.name!r}"
        for node in graph.node:
            for attribute in node.attribute:
                if attribute.HasField("t"):
                    yield attribute.t, f"{where} node {node.name!r} attribute {attribute.name!r}"
                for tensor in attribute.tensors:
                    yield tensor, f"{where} node {node.name!r} attribute {attribute.name!r}"

    places = [(graph, "graph") for graph in _graphs(model.graph)]
    for function in model.functions:
        holder = type("FunctionBody", (), {"node": function.node, "initializer": ()})()
        places.append((holder, f"function {function.name!r}"))
    for graph, where in places:
        for tensor, label in tensors(graph, where):
            if is_external(tensor):
                tensor.CopyFrom(with_external_data(tensor, model_path, label))
    return model


# ---------------------------------------------------------------------------------------- internals


def _refuse_foreign_tsilstm_nodes(proto: Any, source: object) -> None:
    """Raise ``ModelFileError`` for ``ai.tsilstm`` nodes tsilstm would not run as it made them: any in
    a local function (the rewrite does not reach them, ONNX Runtime would call the operator with the
    file's own key), and any in the runtime form (carrying a weight key: only a session makes those)."""
    for function in proto.functions:
        for node in function.node:
            if node.domain == DOMAIN:
                raise ModelFileError(source, f"local function {function.name!r} node {node.name!r}",
                                     f"is an {DOMAIN} node inside a local function",
                                     f"{DOMAIN} nodes only in the graph or its subgraphs (as convert-onnx writes them)")
    for graph in _graphs(proto.graph):
        for node in graph.node:
            if node.domain == DOMAIN and any(attribute.name == KEY_ATTRIBUTE for attribute in node.attribute):
                raise ModelFileError(source, f"node {node.name!r}", f"is an {DOMAIN} node carrying a {KEY_ATTRIBUTE}",
                                     f"{DOMAIN} nodes as convert-onnx writes them (a session makes its own keys)")


def _decide(item: OnnxRecurrentNode, source: object, types: dict[str, int]) -> NodeDecision:
    attrs = item.attributes()
    layout = int(attrs.get("layout", 0)) if isinstance(attrs.get("layout", 0), int) else -1
    try:
        model = model_from_node(item, source)
    except ModelFileError as error:
        reason = error.problem + (f" (expected {error.expected})" if error.expected else "")
        return NodeDecision(item.locator, item.op_type, False, reason, layout)
    weight_name = item.node.input[1]  # type: ignore[attr-defined]
    elem_type = types.get(weight_name, _FLOAT)
    if elem_type != _FLOAT:
        from onnx import TensorProto

        kind = TensorProto.DataType.Name(elem_type).lower()
        return NodeDecision(item.locator, item.op_type, False, f"its tensors are {kind}; tsilstm runs float32", layout)
    return NodeDecision(item.locator, item.op_type, True, "", layout, model)


def _subgraphs(node: Any) -> Iterator[Any]:
    """The graphs held in ``node``'s attributes (If branches, Loop and Scan bodies)."""
    from onnx import AttributeProto

    for attribute in node.attribute:
        if attribute.type == AttributeProto.GRAPH:
            yield attribute.g
        elif attribute.type == AttributeProto.GRAPHS:
            yield from attribute.graphs


def _graphs(graph: Any) -> Iterator[Any]:
    """``graph`` and every subgraph in it, depth first."""
    yield graph
    for node in graph.node:
        for sub in _subgraphs(node):
            yield from _graphs(sub)


def _recurrent_sites(graph: Any) -> Iterator[tuple[Any, int]]:
    """(graph, index) of every default-domain LSTM/GRU node, in the importer's walk order (a node,
    then the subgraphs in its attributes)."""
    for index, node in enumerate(graph.node):
        if node.op_type in RECURRENT_OPS and node.domain in STANDARD_DOMAINS:
            yield graph, index
        for sub in _subgraphs(node):
            yield from _recurrent_sites(sub)


def _sites_in(model: Any, plan: RewritePlan) -> list[tuple[Any, int]]:
    """The node sites of ``plan`` located in ``model`` (a copy of ``plan.proto``)."""
    sites = list(_recurrent_sites(model.graph))
    if len(sites) != len(plan.decisions):
        raise AssertionError("the copied graph has other recurrent nodes than the plan")
    return sites


def _element_types(graph: Any) -> dict[str, int]:
    """Element type of every initializer and Constant output (followed through Identity), by name,
    over ``graph`` and its subgraphs."""
    types: dict[str, int] = {}
    for sub in _graphs(graph):
        for tensor in sub.initializer:
            types[tensor.name] = tensor.data_type
        for node in sub.node:
            if node.op_type == "Constant" and node.output:
                for attribute in node.attribute:
                    if attribute.name == "value":
                        types[node.output[0]] = attribute.t.data_type
            elif node.op_type == "Identity" and node.input and node.input[0] in types:
                types[node.output[0]] = types[node.input[0]]
    return types


def _drop_unread_initializers(graph: Any, candidates: set[str]) -> None:
    """Remove the initializers named in ``candidates`` that no node (in any subgraph) reads and no
    graph outputs."""
    read: set[str] = set()
    for sub in _graphs(graph):
        read.update(name for node in sub.node for name in node.input)
        read.update(output.name for output in sub.output)
    for sub in _graphs(graph):
        keep = [tensor for tensor in sub.initializer if tensor.name not in candidates or tensor.name in read]
        if len(keep) != len(sub.initializer):
            gone = {tensor.name for tensor in sub.initializer} - {tensor.name for tensor in keep}
            del sub.initializer[:]
            sub.initializer.extend(keep)
            inputs = [value for value in sub.input if value.name not in gone]  # IR < 4 lists initializers as inputs
            del sub.input[:]
            sub.input.extend(inputs)


def _import_domain(model: Any) -> None:
    if not any(o.domain == DOMAIN for o in model.opset_import):
        entry = model.opset_import.add()
        entry.domain = DOMAIN
        entry.version = DOMAIN_VERSION
