"""``tsilstm.onnx.InferenceSession`` with ``schedule="auto"``: ONNX Runtime's own session of the
unchanged model is a candidate, timed in place per input shape; a model with no node for tsilstm is
ONNX Runtime's session as the user asked for it; user ``sess_options`` are copied, never changed,
and their thread count is tsilstm's budget."""

from __future__ import annotations

import numpy as np
import pytest
import onnx
from onnx import TensorProto, helper

from tests.importers.onnx_builders import build_recurrent_model, save
from tsilstm.integrations.onnxruntime.graph_rewrite import converted_model, load_model_proto, plan_rewrite
from tsilstm.integrations.onnxruntime.session_options import NO_SPINNING, options_for_tsilstm
from tsilstm.onnx import InferenceSession
from tsilstm.runtime.inplace_choice import CANDIDATES

from .helpers import assert_outputs_match, onnxruntime


@pytest.fixture(autouse=True)
def short_blocks(monkeypatch):  # type: ignore[no-untyped-def]
    """Blocks of 0.5 ms instead of 5: the trials finish within the tests' few hundred tiny calls."""
    from tsilstm.runtime import inplace_choice

    monkeypatch.setattr(inplace_choice, "MIN_BLOCK_SECONDS", 0.0005)


def streaming_lstm_bytes() -> bytes:
    """An LSTM node with state inputs h0, c0 and state outputs Y_h, Y_c: one step per call."""
    model = build_recurrent_model("LSTM", input_size=6, hidden=8, initial_states=True)
    node = model.graph.node[-1]
    while len(node.output) < 3:
        node.output.append(["Y", "Y_h", "Y_c"][len(node.output)])
    if "Y_c" not in [out.name for out in model.graph.output]:
        model.graph.output.append(helper.make_tensor_value_info("Y_c", TensorProto.FLOAT, None))
    return model.SerializeToString()


def stream(session, model: bytes, calls: int):  # type: ignore[no-untyped-def]
    """``calls`` one-step calls with the state fed back, each compared with onnxruntime."""
    reference = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    h = np.zeros((1, 1, 8), np.float32)
    c = np.zeros((1, 1, 8), np.float32)
    for _ in range(calls):
        feeds = {"X": rng.standard_normal((1, 1, 6)).astype(np.float32), "h0": h, "c0": c}
        expected = reference.run(None, feeds)
        got = session.run(None, feeds)
        assert_outputs_match(expected, got)
        h, c = got[1], got[2]


def test_streaming_session_decides_in_place_per_shape_and_stays_equal():
    model = streaming_lstm_bytes()
    session = InferenceSession(model)
    stream(session, model, 300)
    decisions = session.inplace_decisions
    assert len(decisions) == 1
    (key, decision), = decisions.items()
    assert key.startswith("onnxruntime/") and decision.winner in CANDIDATES
    assert "calls of" in session.summary() and decision.winner in session.summary()


def test_explicit_schedule_or_tuning_off_has_no_host_session():
    model = streaming_lstm_bytes()
    for session in (InferenceSession(model, schedule="tsi"), InferenceSession(model, tuning="off")):
        stream(session, model, 40)
        assert session.inplace_decisions == {} and "run every call" in session.summary()


def test_a_model_without_recurrent_nodes_is_onnxruntime_as_asked():
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    options = onnxruntime.SessionOptions()
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    session = InferenceSession(model, sess_options=options)
    assert session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert session.runners == {} and session.summary().startswith("no LSTM or GRU node")
    x = np.array([[-1, 2, -3], [4, -5, 6]], np.float32)
    np.testing.assert_array_equal(session.run(None, {"x": x})[0], np.maximum(x, 0))


def test_user_options_are_copied_with_spinning_off_and_never_changed():
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    copy = options_for_tsilstm(onnxruntime, options)
    assert copy.intra_op_num_threads == 2
    assert copy.graph_optimization_level == onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert copy.get_session_config_entry("session.set_denormal_as_zero") == "1"
    assert copy.get_session_config_entry(NO_SPINNING[0]) == NO_SPINNING[1]
    model = streaming_lstm_bytes()
    session = InferenceSession(model, sess_options=options)
    try:
        options.get_session_config_entry(NO_SPINNING[0])
        changed = True
    except Exception:  # noqa: BLE001 - absent, as the user left it
        changed = False
    assert not changed
    assert session.get_session_options().get_session_config_entry(NO_SPINNING[0]) == NO_SPINNING[1]
    assert all(runner.module.threads == 2 for runner in session.runners.values())
    stream(session, model, 10)


def test_a_converted_file_has_onnxruntime_as_candidate_too(tmp_path):
    proto = build_recurrent_model("GRU", input_size=6, hidden=8, initial_states=False)
    plan = plan_rewrite(load_model_proto(proto.SerializeToString()), "test")
    path = save(converted_model(plan), tmp_path / "converted.onnx")
    session = InferenceSession(str(path))
    assert session._host_session is not None
    x = np.random.default_rng(1).standard_normal((5, 2, 6)).astype(np.float32)
    reference = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    for _ in range(120):
        assert_outputs_match(reference.run(None, {"X": x}), session.run(None, {"X": x}))
    assert len(session.inplace_decisions) == 1
    assert "ai.tsilstm" in [node.domain for node in onnx.load(str(path)).graph.node]


@pytest.fixture
def slow_kernel_and_short_watch(monkeypatch):  # type: ignore[no-untyped-def]
    """tsilstm's nodes made 2 ms slower (ONNX Runtime's session wins every trial) and a watch of 4
    sampled calls, one in 2."""
    import time

    from tsilstm.integrations.onnxruntime.node_runner import NodeRunner
    from tsilstm.runtime import inplace_choice

    real = NodeRunner.run
    monkeypatch.setattr(NodeRunner, "run", lambda self, *a: (time.sleep(0.002), real(self, *a))[1])
    monkeypatch.setattr(inplace_choice, "WATCH_CALLS", 4)
    monkeypatch.setattr(inplace_choice, "WATCH_STRIDE", 2)


def test_a_confirmed_onnxruntime_win_of_one_signature_hands_run_over(slow_kernel_and_short_watch):
    model = streaming_lstm_bytes()
    session = InferenceSession(model)
    stream(session, model, 200)
    (decision,) = session.inplace_decisions.values()
    assert decision.winner == "host"
    assert session.handed_to_onnxruntime and session.run == session._host_session.run
    assert "ONNX Runtime's own session's from now on" in session.summary()
    stream(session, model, 5)  # (equal results from there on, as checked in stream)


def test_two_signatures_keep_run_ours(slow_kernel_and_short_watch):
    model = streaming_lstm_bytes()
    session = InferenceSession(model)
    reference = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    for _ in range(200):
        for batch in (1, 2):
            feeds = {"X": rng.standard_normal((1, batch, 6)).astype(np.float32),
                     "h0": np.zeros((1, batch, 8), np.float32), "c0": np.zeros((1, batch, 8), np.float32)}
            assert_outputs_match(reference.run(None, feeds), session.run(None, feeds))
    assert session.inplace_decisions and not session.handed_to_onnxruntime
    assert "run" not in vars(session)


def test_a_model_without_recurrent_nodes_runs_onnxruntime_directly():
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    session = InferenceSession(model)
    assert session.run == session._session.run
