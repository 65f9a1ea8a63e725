"""ONNX files as untrusted input to the session: an ``ai.tsilstm`` node inside a local function or in
the runtime form (carrying a weight key) is refused at session creation; a model with external data
on a non-recurrent tensor runs from its path as in ONNX Runtime, and ``convert-onnx`` writes an
output that loads from its new folder."""

from __future__ import annotations

import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.importers.onnx_builders import build_recurrent_model
from tsilstm.errors import ModelFileError
from tsilstm.integrations.onnxruntime import convert_model
from tsilstm.integrations.onnxruntime.graph_rewrite import DOMAIN, KEY_ATTRIBUTE
from tsilstm.onnx import InferenceSession

from .helpers import assert_outputs_match, onnxruntime


def test_a_tsilstm_node_in_a_local_function_is_refused():
    model = build_recurrent_model("GRU", input_size=3, hidden=4, initial_states=False)
    body = helper.make_node("GRU", ["x"], ["y"], domain=DOMAIN, **{KEY_ATTRIBUTE: "any/0"})
    function = helper.make_function("local", "Wrapped", ["x"], ["y"], [body],
                                    [helper.make_opsetid("", 17), helper.make_opsetid(DOMAIN, 1)])
    model.functions.append(function)
    with pytest.raises(ModelFileError, match="local function"):
        InferenceSession(model.SerializeToString())


def test_a_runtime_form_node_in_the_file_is_refused():
    model = build_recurrent_model("LSTM", input_size=3, hidden=4, initial_states=False)
    node = model.graph.node[-1]
    node.domain = DOMAIN
    node.attribute.append(helper.make_attribute(KEY_ATTRIBUTE, "0123456789abcdef/0"))
    with pytest.raises(ModelFileError, match=KEY_ATTRIBUTE):
        InferenceSession(model.SerializeToString())


def _with_external_head(tmp_path):  # type: ignore[no-untyped-def]
    """GRU -> MatMul by an 8 x 4 initializer kept in weights.bin beside the model."""
    model = build_recurrent_model("GRU", input_size=3, hidden=4, initial_states=False)
    head = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    model.graph.initializer.append(numpy_helper.from_array(head, "head"))
    model.graph.node.append(helper.make_node("MatMul", ["Y_h", "head"], ["Z"]))
    model.graph.output.append(helper.make_tensor_value_info("Z", TensorProto.FLOAT, None))
    folder = tmp_path / "src"
    folder.mkdir()
    path = folder / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin",
                    size_threshold=0)
    return path


def test_external_data_on_other_tensors_runs_from_the_path(tmp_path):  # type: ignore[no-untyped-def]
    path = _with_external_head(tmp_path)
    feeds = {"X": np.random.default_rng(1).standard_normal((5, 2, 3)).astype(np.float32)}
    expected = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feeds)
    session = InferenceSession(str(path))
    assert session.tsilstm_nodes
    assert_outputs_match(expected, session.run(None, feeds))


def test_convert_onnx_output_loads_from_its_new_folder(tmp_path):  # type: ignore[no-untyped-def]
    path = _with_external_head(tmp_path)
    out_folder = tmp_path / "elsewhere"
    out_folder.mkdir()
    convert_model(path, out_folder / "converted.onnx")
    shutil.rmtree(path.parent)  # the source folder (and its weights.bin) is gone
    feeds = {"X": np.ones((4, 1, 3), np.float32)}
    session = InferenceSession(str(out_folder / "converted.onnx"))
    outputs = session.run(None, feeds)
    assert [np.shape(o) for o in outputs][-1] == (1, 1, 5)
