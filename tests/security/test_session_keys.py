"""A model file cannot reach the weights of a live ``tsilstm.onnx.InferenceSession``: each session
makes its own random keys (a file written before it cannot know them), and a file whose custom-op
node carries a key, even one naming a live session's runner, is refused at session creation while
the live session goes on running its own model."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxruntime_extensions")

from onnx import helper  # noqa: E402

from tests.importers.onnx_builders import build_recurrent_model  # noqa: E402
from tsilstm.errors import ModelFileError  # noqa: E402
from tsilstm.importers.onnx_graph import TSILSTM_DOMAIN  # noqa: E402
from tsilstm.onnx import InferenceSession  # noqa: E402

KEY_ATTRIBUTE = "tsilstm_key"
"""The runtime form's attribute, as a hostile file would spell it."""


def _model():  # type: ignore[no-untyped-def]
    return build_recurrent_model("GRU", input_size=3, hidden=4, initial_states=False, name="gate")


def test_each_session_makes_its_own_unguessable_keys():
    keys = [set(InferenceSession(_model().SerializeToString(), schedule="tsi").runners) for _ in range(2)]
    assert all(len(session_keys) == 1 for session_keys in keys) and not keys[0] & keys[1]
    for key in keys[0] | keys[1]:
        assert re.fullmatch(r"[0-9a-f]{32}/0", key), key  # a random 128-bit id per session


def test_a_file_naming_a_live_sessions_key_is_refused_and_the_session_unharmed():
    live = InferenceSession(_model().SerializeToString(), schedule="tsi")
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    expected = live.run(None, {"X": x})
    (key,) = live.runners
    hostile = _model()
    node = next(node for node in hostile.graph.node if node.op_type == "GRU")
    node.domain = TSILSTM_DOMAIN
    node.attribute.append(helper.make_attribute(KEY_ATTRIBUTE, key))
    with pytest.raises(ModelFileError, match=KEY_ATTRIBUTE):
        InferenceSession(hostile.SerializeToString())
    for want, got in zip(expected, live.run(None, {"X": x})):
        np.testing.assert_array_equal(got, want)
