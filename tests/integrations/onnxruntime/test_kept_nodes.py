"""Nodes with ONNX's cell options (peepholes, clip, activations, input_forget) run in tsilstm;
nodes it cannot run (different activations per direction, double tensors, weights computed at
run time) stay ONNX Runtime's, are listed with the reason, and the model still gives
onnxruntime's outputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, numpy_helper

from tests.importers.onnx_builders import build_recurrent_model, recurrent_node_arrays

from .helpers import assert_outputs_match, run_both

INPUT, HIDDEN = 3, 4


def _feeds(steps: int = 5, batch: int = 2, dtype=np.float32) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    return {name: rng.standard_normal(shape).astype(dtype)
            for name, shape in (("X", (steps, batch, INPUT)), ("h0", (1, batch, HIDDEN)), ("c0", (1, batch, HIDDEN)))}


CASES = {
    "peephole": dict(arrays=recurrent_node_arrays("LSTM", INPUT, HIDDEN, 1, 0, peephole=True)),
    "clip": dict(attributes={"clip": 0.5}),
    "activations": dict(attributes={"activations": ["HardSigmoid", "Tanh", "Tanh"]}),
    "input_forget": dict(attributes={"input_forget": 1}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_cell_options_run_in_tsilstm(case):
    model = build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN, **CASES[case])
    expected, got, session = run_both(model, _feeds())
    assert_outputs_match(expected, got)
    assert [node.locator for node in session.tsilstm_nodes] == ["rnn"] and not session.onnxruntime_nodes


def test_different_activations_per_direction_stay_in_onnxruntime_with_the_reason():
    model = build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN, direction="bidirectional",
                                  attributes={"activations": ["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Tanh", "Tanh"]})
    feeds = _feeds()
    feeds["h0"], feeds["c0"] = (np.concatenate([v, v]) for v in (feeds["h0"], feeds["c0"]))
    expected, got, session = run_both(model, feeds)
    assert_outputs_match(expected, got)
    assert not session.tsilstm_nodes
    [kept] = session.onnxruntime_nodes
    assert kept.locator == "rnn" and "different activations" in kept.reason
    assert "onnxruntime" in session.summary()


def test_runtime_weights_stay_in_onnxruntime():
    model = build_recurrent_model("GRU", input_size=INPUT, hidden=HIDDEN, weights_as="input")
    arrays = recurrent_node_arrays("GRU", INPUT, HIDDEN, 1, 0)
    feeds = {k: v for k, v in _feeds().items() if k != "c0"} | {f"rnn_{k}": v for k, v in arrays.items()}
    expected, got, session = run_both(model, feeds)
    assert_outputs_match(expected, got)
    assert "run time" in session.onnxruntime_nodes[0].reason


def test_double_tensors_stay_in_onnxruntime():
    model = build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN)
    for tensor in list(model.graph.initializer):
        tensor.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(tensor).astype(np.float64), tensor.name))
    for value in model.graph.input:
        value.type.tensor_type.elem_type = TensorProto.DOUBLE
    for value in model.graph.output:
        value.type.tensor_type.elem_type = TensorProto.DOUBLE
    from tsilstm.onnx import InferenceSession

    session = InferenceSession(model.SerializeToString())  # onnxruntime's CPU LSTM refuses double at run time
    assert not session.tsilstm_nodes and "double" in session.onnxruntime_nodes[0].reason


def test_a_model_without_recurrent_nodes_runs_unchanged():
    model = build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN, initial_states=False)
    del model.graph.node[-1]
    del model.graph.initializer[:]
    del model.graph.output[:]
    model.graph.output.extend([model.graph.input[0]])
    model.graph.output[0].name = "X_relu"
    expected, got, session = run_both(model, {"X": _feeds()["X"]})
    assert_outputs_match(expected, got)
    assert session.decisions == [] and "no LSTM or GRU" in session.summary()
