"""Small ONNX models with LSTM/GRU nodes, built with onnx.helper for the importer tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DEFAULT_OPSET = 17


def recurrent_node_arrays(op: str, input_size: int, hidden: int, dirs: int, seed: int, peephole: bool = False) -> dict[str, np.ndarray]:
    """Random W, R, B (and P) in ONNX layout for ``op`` (LSTM or GRU)."""
    rng = np.random.default_rng(seed)
    gates = 4 if op == "LSTM" else 3
    bound = 1.0 / np.sqrt(hidden)
    u = lambda *shape: rng.uniform(-bound, bound, size=shape).astype(np.float32)  # noqa: E731
    arrays = {"W": u(dirs, gates * hidden, input_size), "R": u(dirs, gates * hidden, hidden), "B": u(dirs, 2 * gates * hidden)}
    if peephole:
        arrays["P"] = u(dirs, 3 * hidden)
    return arrays


def build_recurrent_model(
    op: str = "LSTM",
    *,
    input_size: int = 3,
    hidden: int = 5,
    direction: str = "forward",
    attributes: dict | None = None,
    arrays: dict[str, np.ndarray] | None = None,
    weights_as: str = "initializer",
    sequence_lens: bool = False,
    initial_states: bool = True,
    seed: int = 0,
    name: str = "rnn",
    opset: int = DEFAULT_OPSET,
    surrounding: bool = True,
):  # type: ignore[no-untyped-def]
    """A model computing ``Relu(X)`` -> one LSTM/GRU node -> ``Y`` (plus Y_h). Weights W, R, B (and
    P when present in ``arrays``) come as initializers, ``Constant`` nodes (``weights_as='constant'``),
    through ``Identity`` (``'identity'``) or as graph inputs (``'input'``: computed at run time)."""
    dirs = 2 if direction == "bidirectional" else 1
    arrays = arrays if arrays is not None else recurrent_node_arrays(op, input_size, hidden, dirs, seed)
    nodes, inits, inputs = [], [], [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)]
    x_name = "X"
    if surrounding:
        nodes.append(helper.make_node("Relu", ["X"], ["X_relu"], name="pre"))
        x_name = "X_relu"
    weight_names = {}
    for key, value in arrays.items():
        tensor_name = f"{name}_{key}"
        if weights_as == "initializer":
            inits.append(numpy_helper.from_array(value, tensor_name))
        elif weights_as == "constant":
            nodes.append(helper.make_node("Constant", [], [tensor_name], value=numpy_helper.from_array(value, tensor_name + "_t")))
        elif weights_as == "identity":
            inits.append(numpy_helper.from_array(value, tensor_name + "_raw"))
            nodes.append(helper.make_node("Identity", [tensor_name + "_raw"], [tensor_name]))
        else:
            inputs.append(helper.make_tensor_value_info(tensor_name, TensorProto.FLOAT, list(value.shape)))
        weight_names[key] = tensor_name
    node_inputs = [x_name, weight_names["W"], weight_names["R"], weight_names.get("B", "")]
    node_inputs.append("seq_lens" if sequence_lens else "")
    if sequence_lens:
        inputs.append(helper.make_tensor_value_info("seq_lens", TensorProto.INT32, None))
    if initial_states:
        node_inputs.append("h0")
        inputs.append(helper.make_tensor_value_info("h0", TensorProto.FLOAT, None))
        if op == "LSTM":
            node_inputs.append("c0")
            inputs.append(helper.make_tensor_value_info("c0", TensorProto.FLOAT, None))
    if "P" in weight_names:
        while len(node_inputs) < 7:
            node_inputs.append("")
        node_inputs.append(weight_names["P"])
    while node_inputs and node_inputs[-1] == "":
        node_inputs.pop()
    outputs = ["Y", "Y_h"]
    attrs = {"hidden_size": hidden, "direction": direction, **(attributes or {})}
    nodes.append(helper.make_node(op, node_inputs, outputs, name=name, **attrs))
    graph = helper.make_graph(nodes, "test", inputs, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def save(model, path: Path) -> Path:  # type: ignore[no-untyped-def]
    """Write ``model`` to ``path`` and return the path."""
    onnx.save(model, str(path))
    return path


def wrap_in_if(model):  # type: ignore[no-untyped-def]
    """``model``'s graph moved into both branches of an ``If`` node (condition a graph input)."""
    inner = model.graph
    then_graph = helper.make_graph(list(inner.node), "then", [], list(inner.output), list(inner.initializer))
    else_graph = helper.make_graph([helper.make_node("Identity", ["X"], ["Y_else"])], "else", [],
                                   [helper.make_tensor_value_info("Y_else", TensorProto.FLOAT, None)])
    outputs = [helper.make_tensor_value_info("Y_out", TensorProto.FLOAT, None)]
    if_node = helper.make_node("If", ["cond"], ["Y_out"], name="branch", then_branch=helper.make_graph(
        list(then_graph.node), "then", [], [then_graph.output[0]], list(then_graph.initializer)), else_branch=else_graph)
    inputs = list(inner.input) + [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])]
    graph = helper.make_graph([if_node], "outer", inputs, outputs)
    wrapped = helper.make_model(graph, opset_imports=list(model.opset_import))
    wrapped.ir_version = model.ir_version
    return wrapped
