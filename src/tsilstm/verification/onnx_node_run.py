"""Run one ONNX LSTM/GRU node on its own in onnxruntime: the node with its attributes and weights,
cut out of its graph into a one-node model, fed a given input and initial state.

onnxruntime's CPU kernels do not implement ``layout=1`` (batch-major tensors); the ONNX spec defines
it as the same computation on transposed tensors, so the node is run with ``layout=0`` on the
time-major input."""

from __future__ import annotations

import numpy as np

from tsilstm.cell_spec import ONNX_OPS
from tsilstm.errors import ModelFileError
from tsilstm.importers.onnx_graph import INPUT_NAMES, OnnxRecurrentNode
from tsilstm.optional_packages import import_optional

_MIN_OPSET = 7  # LSTM/GRU-7 is the oldest form onnxruntime runs
_IR_VERSION = 8  # understood by every onnxruntime >= 1.10


def single_node_model(found: OnnxRecurrentNode, with_sequence_lens: bool):  # type: ignore[no-untyped-def]
    """A ModelProto holding only ``found``'s node: inputs X, initial_h (and initial_c for LSTM,
    and sequence_lens when ``with_sequence_lens``) as graph inputs, its constant weights as
    initializers in their original ONNX layout, outputs Y, Y_h (, Y_c)."""
    from onnx import TensorProto, helper, numpy_helper

    op = found.op_type
    names = INPUT_NAMES[op]
    node_inputs = []
    initializers = []
    graph_inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, None)]
    for name in names:
        if name == "X":
            node_inputs.append("X")
        elif name in ("initial_h", "initial_c"):
            node_inputs.append(name)
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
        elif name == "sequence_lens":
            node_inputs.append(name if with_sequence_lens else "")
            if with_sequence_lens:
                graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.INT32, None))
        elif name in found.arrays:
            node_inputs.append(name)
            initializers.append(numpy_helper.from_array(np.asarray(found.arrays[name], dtype=np.float32), name))
        else:
            node_inputs.append("")
    outputs = ["Y", "Y_h", "Y_c"] if ONNX_OPS[op].has_cell_state else ["Y", "Y_h"]
    node = helper.make_node(op, node_inputs, outputs, name=found.node.name or "node")  # type: ignore[attr-defined]
    node.attribute.extend(a for a in found.node.attribute if a.name != "layout")  # type: ignore[attr-defined]
    graph = helper.make_graph(
        [node], "single_node", graph_inputs,
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], initializers,
    )
    opset = max(found.opset, _MIN_OPSET)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = _IR_VERSION
    return model


def run_onnx_node(
    found: OnnxRecurrentNode, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, *, with_sequence_lens: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run ``found`` in onnxruntime on ``x`` (T, N, X) with initial states ``h0`` / ``c0`` (D, N, H)
    and return (Y as (T, N, D*H), Y_h (D, N, H), Y_c or None), all time-major (see module doc). With
    ``with_sequence_lens`` every sequence length is fed as T."""
    onnxruntime = import_optional("onnxruntime", "run ONNX models for verification")
    model = single_node_model(found, with_sequence_lens)
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelFileError(found.locator, "", f"onnxruntime cannot run this node alone ({str(error)[:300]})") from error
    steps, batch, _ = x.shape
    feeds = {"X": x, "initial_h": h0}
    if c0 is not None:
        feeds["initial_c"] = c0
    if with_sequence_lens:
        feeds["sequence_lens"] = np.full(batch, steps, dtype=np.int32)
    feeds = {k: np.ascontiguousarray(v, dtype=np.float32) if k != "sequence_lens" else v for k, v in feeds.items()}
    results = session.run(None, feeds)
    y, y_h = results[0], results[1]
    y_c = results[2] if len(results) > 2 else None
    dirs, hidden = y.shape[1], y.shape[3]
    return np.ascontiguousarray(y.transpose(0, 2, 1, 3).reshape(steps, batch, dirs * hidden)), y_h, y_c
