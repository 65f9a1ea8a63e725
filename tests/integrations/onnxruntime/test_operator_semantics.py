"""ONNX LSTM/GRU semantics through the custom operator: directions, layout 0/1, sequence_lens of
mixed lengths (zeros included), initial states present or absent, GRU linear_before_reset 0/1,
optional outputs absent, several nodes, a node inside an If subgraph; all against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from tests.importers.onnx_builders import build_recurrent_model, wrap_in_if

from .helpers import assert_outputs_match, run_both

INPUT, HIDDEN = 3, 5


def _feeds(op: str, direction: str, layout: int, steps: int, batch: int, seed: int, *, lengths=None,
           states: bool = True) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    dirs = 2 if direction == "bidirectional" else 1
    x_shape = (steps, batch, INPUT) if layout == 0 else (batch, steps, INPUT)
    state_shape = (dirs, batch, HIDDEN) if layout == 0 else (batch, dirs, HIDDEN)
    feeds = {"X": rng.standard_normal(x_shape).astype(np.float32)}
    if lengths is not None:
        feeds["seq_lens"] = np.asarray(lengths, dtype=np.int32)
    if states:
        feeds["h0"] = rng.standard_normal(state_shape).astype(np.float32)
        if op == "LSTM":
            feeds["c0"] = rng.standard_normal(state_shape).astype(np.float32)
    return feeds


@settings(max_examples=25)
@given(
    op=st.sampled_from(["LSTM", "GRU"]),
    direction=st.sampled_from(["forward", "reverse", "bidirectional"]),
    layout=st.sampled_from([0, 1]),
    linear_before_reset=st.sampled_from([0, 1]),
    states=st.booleans(),
    lengths=st.one_of(st.none(), st.lists(st.integers(0, 6), min_size=1, max_size=4)),
    schedule=st.sampled_from(["tsi", "conventional"]),
    seed=st.integers(0, 2**16),
)
def test_node_matches_onnxruntime(op, direction, layout, linear_before_reset, states, lengths, schedule, seed):
    attributes = {"linear_before_reset": linear_before_reset} if op == "GRU" else {}
    batch = len(lengths) if lengths is not None else 2
    feeds = _feeds(op, direction, 0, 6, batch, seed, lengths=lengths, states=states)

    def build(layout):  # type: ignore[no-untyped-def]
        return build_recurrent_model(op, input_size=INPUT, hidden=HIDDEN, direction=direction,
                                     attributes={**attributes, "layout": layout}, sequence_lens=lengths is not None,
                                     initial_states=states, seed=seed)

    expected, got, session = run_both(build(0), feeds, schedule=schedule, threads=2)
    assert [d.taken for d in session.decisions] == [True]
    assert_outputs_match(expected, got)
    if layout == 1:  # onnxruntime's CPU operators refuse layout 1: compare with the layout-0 results
        from tsilstm.onnx import InferenceSession

        batch_first = {k: (v.transpose(1, 0, 2) if k in ("X", "h0", "c0") else v) for k, v in feeds.items()}
        y, y_h = InferenceSession(build(1).SerializeToString(), schedule=schedule).run(None, batch_first)
        assert_outputs_match([expected[0].transpose(2, 0, 1, 3), expected[1].transpose(1, 0, 2)], [y, y_h])


def test_mixed_lengths_give_zeros_beyond_each_length_and_the_state_at_the_last_real_step():
    model = build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN, direction="reverse", sequence_lens=True)
    feeds = _feeds("LSTM", "reverse", 0, 7, 4, 1, lengths=[7, 3, 0, 5])
    expected, got, _ = run_both(model, feeds, schedule="tsi")
    assert_outputs_match(expected, got)
    y, y_h = got
    assert np.all(y[3:, :, 1] == 0) and np.all(y[:, :, 2] == 0) and np.all(y[5:, :, 3] == 0)
    assert np.any(y[:3, :, 1] != 0)
    assert np.allclose(y_h[0, 1], y[0, 0, 1])  # reverse: the last state is the output at t = 0


def test_dynamic_batch_and_sequence_axes_reuse_one_session():
    model = build_recurrent_model("GRU", input_size=INPUT, hidden=HIDDEN, direction="bidirectional")
    from tsilstm.onnx import InferenceSession

    import onnxruntime

    session = InferenceSession(model.SerializeToString(), schedule="tsi")
    baseline = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for steps, batch in ((4, 1), (9, 3), (1, 2)):
        feeds = _feeds("GRU", "bidirectional", 0, steps, batch, steps)
        assert_outputs_match(baseline.run(None, feeds), session.run(None, feeds))


def _with_outputs(model, outputs: list[str]):  # type: ignore[no-untyped-def]
    node = model.graph.node[-1]
    del node.output[:]
    node.output.extend(outputs)
    del model.graph.output[:]
    model.graph.output.extend(helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs if o)
    return model


@pytest.mark.parametrize("outputs", [["", "Y_h"], ["Y"], ["", "", "Y_c"], ["Y", "Y_h", "Y_c"]])
def test_optional_outputs_absent(outputs):
    model = _with_outputs(build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN), outputs)
    expected, got, session = run_both(model, _feeds("LSTM", "forward", 0, 5, 2, 0), schedule="tsi")
    assert_outputs_match(expected, got)
    assert len(got) == len([o for o in outputs if o])
    assert session.tsilstm_nodes


def test_several_nodes_in_one_graph():
    first = build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN, name="first", initial_states=False)
    second = build_recurrent_model("GRU", input_size=HIDDEN, hidden=HIDDEN, name="second", initial_states=False,
                                   surrounding=False, direction="reverse")
    graph = first.graph
    squeeze_axes = helper.make_tensor("axes", TensorProto.INT64, [1], [1])
    graph.initializer.append(squeeze_axes)
    graph.node.append(helper.make_node("Squeeze", ["Y", "axes"], ["Y_squeezed"]))
    node = second.graph.node[-1]
    node.input[0] = "Y_squeezed"
    del node.output[:]
    node.output.extend(["Y2", "Y2_h"])
    graph.node.append(node)
    graph.initializer.extend(second.graph.initializer)
    del graph.output[:]
    graph.output.extend(helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("Y2", "Y_h", "Y2_h"))
    expected, got, session = run_both(first, {"X": np.random.default_rng(0).standard_normal((6, 2, INPUT)).astype(np.float32)})
    assert_outputs_match(expected, got)
    assert [d.locator for d in session.tsilstm_nodes] == ["first", "second"]


def test_node_inside_an_if_subgraph_runs_in_tsilstm():
    model = wrap_in_if(build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN, initial_states=False))
    feeds = {"X": np.random.default_rng(2).standard_normal((5, 2, INPUT)).astype(np.float32), "cond": np.array(True)}
    expected, got, session = run_both(model, feeds, schedule="tsi")
    assert_outputs_match(expected, got)
    assert [d.locator for d in session.tsilstm_nodes] == ["rnn"]
    runner = next(iter(session.runners.values()))
    calls, run = [], runner.run
    runner.run = lambda *inputs: calls.append(1) or run(*inputs)  # the branch's node runs in tsilstm
    assert_outputs_match(expected, session.run(None, feeds))
    assert calls == [1]
