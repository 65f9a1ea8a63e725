"""ONNX Runtime baseline: an ONNX LSTM/GRU graph built with the onnx helper API from a model's
weights, run by an ``onnxruntime.InferenceSession`` with ``intra_op_num_threads = threads``.

Gate orders (ONNX operator spec, LSTM and GRU): ONNX LSTM stacks gates ``i, o, f, c`` where
PyTorch (and model.py) stack ``i, f, g, o``; ONNX GRU stacks ``z, r, h`` where PyTorch stacks
``r, z, n``. ``B`` is ``[Wb, Rb]`` per direction; the PyTorch GRU (reset applied after the
recurrent product) is ``linear_before_reset=1``. onnx and onnxruntime are imported lazily.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tsilstm.cell_spec import cell_spec
from tsilstm.errors import UnsupportedModelError
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel

ONNX_OPSET = 14  # LSTM-14 / GRU-14 (adds the 'layout' attribute); supported by onnxruntime >= 1.10


def reorder_gates(matrix: np.ndarray, cell: str, hidden: int) -> np.ndarray:
    """Rows of a gate-stacked ``matrix`` (gates*hidden, ...) or bias (gates*hidden,) moved from
    PyTorch's gate order to ONNX's."""
    order = cell_spec(cell).canonical_to_onnx
    blocks = [matrix[k * hidden : (k + 1) * hidden] for k in order]
    return np.ascontiguousarray(np.concatenate(blocks, axis=0), dtype=np.float32)


def _direction_tensors(layer: RecurrentLayer, weights: DirectionWeights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h = layer.hidden_size
    w = reorder_gates(weights.w_ih, layer.cell, h)
    r = reorder_gates(weights.w_hh, layer.cell, h)
    b = np.concatenate([reorder_gates(weights.b_ih, layer.cell, h), reorder_gates(weights.b_hh, layer.cell, h)])
    return w, r, b


def build_onnx_model(model: RecurrentModel) -> Any:
    """An ``onnx.ModelProto`` computing ``model`` like ``torch.nn.LSTM/GRU`` (sequence-first).

    Graph inputs: ``X`` (T, N, X), ``h0`` (L*D, N, H) and for LSTM ``c0``; outputs: ``Y`` (T, N, D*H),
    ``h_n`` and for LSTM ``c_n`` (L*D, N, H). Both GRU forms map (``linear_before_reset`` 1 for
    reset_after, 0 for reset_before). Raises ``UnsupportedModelError`` for an LSTM with a projection
    (the ONNX LSTM operator has none)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    first = model.layers[0]
    spec = first.spec
    with_c = spec.has_cell_state
    dirs = len(first.directions)
    n_states = len(model.layers) * dirs
    nodes, inits = [], []
    inputs = [
        helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "N", first.input_size]),
        helper.make_tensor_value_info("h0", TensorProto.FLOAT, [n_states, "N", first.hidden_size]),
    ]
    if with_c:
        inputs.append(helper.make_tensor_value_info("c0", TensorProto.FLOAT, [n_states, "N", first.hidden_size]))
    inits.append(numpy_helper.from_array(np.array([0, 0, -1], dtype=np.int64), "merge_shape"))
    layer_in = "X"
    h_parts, c_parts = [], []
    for li, layer in enumerate(model.layers):
        if layer.proj_size:
            raise UnsupportedModelError(
                f"layer {li} has proj_size={layer.proj_size}: the ONNX LSTM operator has no projection"
            )
        tensors = [_direction_tensors(layer, d) for d in layer.directions]
        for name, index in (("W", 0), ("R", 1), ("B", 2)):
            inits.append(numpy_helper.from_array(np.stack([t[index] for t in tensors]), f"{name}{li}"))
        start, stop = li * dirs, (li + 1) * dirs
        for const, value in (("starts", start), ("ends", stop)):
            inits.append(numpy_helper.from_array(np.array([value], dtype=np.int64), f"{const}{li}"))
        for state in ("h0", "c0") if with_c else ("h0",):
            nodes.append(helper.make_node("Slice", [state, f"starts{li}", f"ends{li}"], [f"{state}_{li}"]))
        outputs = [f"Y{li}", f"Yh{li}"] + ([f"Yc{li}"] if with_c else [])
        op_inputs = [layer_in, f"W{li}", f"R{li}", f"B{li}", "", f"h0_{li}"] + ([f"c0_{li}"] if with_c else [])
        attributes: dict[str, Any] = {
            "hidden_size": layer.hidden_size,
            "direction": "bidirectional" if dirs == 2 else "forward",
        }
        if spec.supports_reset_before:
            attributes["linear_before_reset"] = 1 if layer.variant == "reset_after" else 0
        nodes.append(helper.make_node(spec.onnx_op_type, op_inputs, outputs, **attributes))
        # Y is (T, D, N, H): to (T, N, D, H), then merge the last two axes into D*H features.
        nodes.append(helper.make_node("Transpose", [f"Y{li}"], [f"Yt{li}"], perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", [f"Yt{li}", "merge_shape"], [f"out{li}"]))
        layer_in = f"out{li}"
        h_parts.append(f"Yh{li}")
        c_parts.append(f"Yc{li}")
    nodes.append(helper.make_node("Identity", [layer_in], ["Y"]))
    nodes.append(helper.make_node("Concat", h_parts, ["h_n"], axis=0))
    out_width = model.layers[-1].hidden_size * dirs
    outputs_info = [
        helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["T", "N", out_width]),
        helper.make_tensor_value_info("h_n", TensorProto.FLOAT, [n_states, "N", first.hidden_size]),
    ]
    if with_c:
        nodes.append(helper.make_node("Concat", c_parts, ["c_n"], axis=0))
        outputs_info.append(helper.make_tensor_value_info("c_n", TensorProto.FLOAT, [n_states, "N", first.hidden_size]))
    graph = helper.make_graph(nodes, f"tsilstm-{first.cell}", inputs, outputs_info, initializer=inits)
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="tsilstm")
    onnx_model.ir_version = min(onnx_model.ir_version, 8)  # readable by onnxruntime >= 1.14
    onnx.checker.check_model(onnx_model)
    return onnx_model


class OnnxRuntimeRunner:
    """A model run by ONNX Runtime on ``threads`` intra-op threads; call with torch-layout numpy
    arrays ``(x, h0, c0)`` and get ``(output, h_n, c_n)`` (c_n None for GRU). ``onnx_model`` replaces
    the float graph built from ``model`` (e.g. a quantized one); with ``optimized_model_path`` the
    session writes the graph it really runs (after its optimizations) to that file."""

    precision = "float32"

    def __init__(self, model: RecurrentModel, threads: int, *, onnx_model: Any = None,
                 optimized_model_path: str | None = None) -> None:
        import onnxruntime

        self.has_cell_state = model.spec.has_cell_state
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        if optimized_model_path is not None:
            options.optimized_model_filepath = optimized_model_path
            options.log_severity_level = 3  # no warning that the saved graph is specific to this machine
        serialized = (build_onnx_model(model) if onnx_model is None else onnx_model).SerializeToString()
        self.session = onnxruntime.InferenceSession(serialized, options, providers=["CPUExecutionProvider"])
        self.version = onnxruntime.__version__

    def __call__(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Run the sequence ``x`` (T, N, X) from states ``h0``/``c0`` (L*D, N, H)."""
        feeds = {"X": x, "h0": h0}
        if self.has_cell_state:
            feeds["c0"] = c0
        result = self.session.run(None, feeds)
        return result[0], result[1], result[2] if self.has_cell_state else None


def onnxruntime_version() -> str | None:
    """The installed onnxruntime version, or None when it (or onnx) is not installed."""
    try:
        import onnx  # noqa: F401
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)
