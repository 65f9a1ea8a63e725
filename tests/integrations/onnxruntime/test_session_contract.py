"""The session's contract: importing tsilstm never imports onnxruntime; user session options and
providers are honoured; onnxruntime's other session methods pass through; other onnxruntime-extensions
Python operators keep working beside the tsilstm ones; weights are packed once, at creation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper

from tests.importers.onnx_builders import build_recurrent_model
from tsilstm.onnx import InferenceSession

from .helpers import assert_outputs_match, onnxruntime


def test_importing_tsilstm_does_not_import_onnxruntime():
    code = "import sys, tsilstm, tsilstm.onnx; print('onnxruntime' in sys.modules, 'onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_user_session_options_providers_and_passthrough():
    model = build_recurrent_model("GRU", input_size=3, hidden=4, initial_states=False).SerializeToString()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"], threads=1)
    again = InferenceSession(model, sess_options=options)  # the same options object twice
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert session.get_session_options().intra_op_num_threads == 1
    assert session.get_modelmeta() is not None
    assert [o.name for o in session.get_outputs()] == ["Y", "Y_h"]
    feeds = {"X": np.ones((4, 1, 3), np.float32)}
    assert_outputs_match(session.run(None, feeds), again.run(["Y", "Y_h"], feeds))
    assert len(session.run(["Y_h"], feeds)) == 1


def test_weights_are_packed_once_at_creation(monkeypatch):
    from tsilstm.runtime import packing

    packed = []
    original = packing.pack_direction
    monkeypatch.setattr("tsilstm.runtime.modules.pack_direction", lambda *a, **k: packed.append(1) or original(*a, **k))
    model = build_recurrent_model("LSTM", input_size=3, hidden=4, direction="bidirectional", initial_states=False)
    session = InferenceSession(model.SerializeToString(), schedule="tsi")
    assert len(packed) == 2  # one per direction
    for steps in (3, 5, 3):
        session.run(None, {"X": np.ones((steps, 2, 3), np.float32)})
    assert len(packed) == 2


def test_other_extensions_python_operators_still_work():
    from onnxruntime_extensions import PyCustomOpDef, get_library_path, onnx_op

    @onnx_op(op_type="TsilstmTestNegate", inputs=[PyCustomOpDef.dt_float], outputs=[PyCustomOpDef.dt_float])
    def negate(x):  # type: ignore[no-untyped-def]
        return -x

    InferenceSession(build_recurrent_model("GRU", input_size=3, hidden=4, initial_states=False).SerializeToString())
    node = helper.make_node("TsilstmTestNegate", ["x"], ["y"], domain="ai.onnx.contrib")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.contrib", 1)])
    options = onnxruntime.SessionOptions()
    options.register_custom_ops_library(get_library_path())
    out = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"]).run(
        None, {"x": np.array([1.0, -2.0], np.float32)})
    assert out[0].tolist() == [-1.0, 2.0]
