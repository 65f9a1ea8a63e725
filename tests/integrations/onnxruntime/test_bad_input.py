"""Bad input: a file that is not ONNX, wrong feeds, sequence_lens out of range, bad states: the
clear error onnxruntime gives, or tsilstm's naming the node and the input; never a crash, and the
session keeps working afterwards."""

from __future__ import annotations

import numpy as np
import pytest

from tests.importers.onnx_builders import build_recurrent_model
from tsilstm.errors import InvalidParameterError, TsilstmError
from tsilstm.importers import ModelFileError
from tsilstm.onnx import InferenceSession

from .helpers import assert_outputs_match, onnxruntime

INPUT, HIDDEN = 3, 4


def _session_and_feeds():  # type: ignore[no-untyped-def]
    model = build_recurrent_model("LSTM", input_size=INPUT, hidden=HIDDEN, sequence_lens=True, name="enc")
    rng = np.random.default_rng(0)
    feeds = {"X": rng.standard_normal((5, 2, INPUT)).astype(np.float32), "seq_lens": np.array([5, 3], np.int32),
             "h0": np.zeros((1, 2, HIDDEN), np.float32), "c0": np.zeros((1, 2, HIDDEN), np.float32)}
    return InferenceSession(model.SerializeToString(), schedule="tsi"), feeds, model


def test_not_an_onnx_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00this is not a protobuf\xff" * 10)
    with pytest.raises(ModelFileError, match="bad.onnx"):
        InferenceSession(bad)
    with pytest.raises(ModelFileError, match="not a readable ONNX model|not an ONNX model"):
        InferenceSession(b"\x08\x07garbage")
    with pytest.raises(ModelFileError, match="neither a path nor bytes"):
        InferenceSession(12345)  # type: ignore[arg-type]


def test_bad_session_parameters():
    model = build_recurrent_model("GRU", input_size=INPUT, hidden=HIDDEN).SerializeToString()
    with pytest.raises(InvalidParameterError, match="schedule"):
        InferenceSession(model, schedule="fastest")
    with pytest.raises(InvalidParameterError, match="weight_dtype"):
        InferenceSession(model, weight_dtype="int4")
    with pytest.raises(InvalidParameterError, match="threads"):
        InferenceSession(model, threads=0)


@pytest.mark.parametrize("lengths, words", [([6, 2], "<= seq_length=5"), ([-1, 2], ">= 0")])
def test_sequence_lens_out_of_range_names_the_node_and_input(lengths, words):
    session, feeds, _ = _session_and_feeds()
    feeds["seq_lens"] = np.array(lengths, np.int32)
    with pytest.raises(InvalidParameterError, match="LSTM node 'enc' input sequence_lens") as error:
        session.run(None, feeds)
    assert words in str(error.value)
    feeds["seq_lens"] = np.array([5, 3], np.int32)
    expected = onnxruntime.InferenceSession(_session_and_feeds()[2].SerializeToString(),
                                            providers=["CPUExecutionProvider"]).run(None, feeds)
    assert_outputs_match(expected, session.run(None, feeds))  # still works


def test_wrong_state_and_input_shapes_name_the_input():
    session, feeds, _ = _session_and_feeds()
    with pytest.raises(InvalidParameterError, match="LSTM node 'enc' input initial_h"):
        session.run(None, {**feeds, "h0": np.zeros((1, 3, HIDDEN), np.float32)})
    with pytest.raises(InvalidParameterError, match="LSTM node 'enc' input X"):
        session.run(None, {**feeds, "X": np.zeros((5, 2, INPUT + 1), np.float32)})
    with pytest.raises(InvalidParameterError, match="input sequence_lens"):
        session.run(None, {**feeds, "seq_lens": np.array([5, 3, 1], np.int32)})


def test_wrong_feed_dtype_or_rank_is_onnxruntimes_error():
    session, feeds, _ = _session_and_feeds()
    with pytest.raises(Exception, match="(?i)type|INVALID_ARGUMENT") as error:
        session.run(None, {**feeds, "X": feeds["X"].astype(np.float64)})
    assert not isinstance(error.value, TsilstmError) or "X" in str(error.value)
    with pytest.raises(Exception, match="(?i)feed|input|missing"):
        session.run(None, {"X": feeds["X"]})


def test_runtime_form_outside_a_session_reports_instead_of_crashing():
    from tsilstm.integrations.onnxruntime import custom_ops
    from tsilstm.integrations.onnxruntime.graph_rewrite import plan_rewrite, runtime_model

    session, feeds, model = _session_and_feeds()
    plan = plan_rewrite(model, "<test>")
    detached = runtime_model(plan, {0: "nosession/0"}).SerializeToString()
    options = onnxruntime.SessionOptions()
    options.register_custom_ops_library(custom_ops.extensions_library_path())
    plain = onnxruntime.InferenceSession(detached, options, providers=["CPUExecutionProvider"])
    for _ in range(20):
        outputs = plain.run(None, feeds)
        assert all(np.size(out) == 0 for out in outputs)  # no weights: empty outputs
    # no session collects errors under a key no session made: none is kept (they would pile up)
    assert custom_ops.take_errors("nosession") == [] and "nosession" not in custom_ops._ERRORS


def test_converted_file_is_refused_by_a_plain_onnxruntime_session(tmp_path):
    from tsilstm.integrations.onnxruntime import convert_model
    from tsilstm.integrations.onnxruntime import custom_ops
    from tests.importers.onnx_builders import save

    source = save(_session_and_feeds()[2], tmp_path / "in.onnx")
    convert_model(source, tmp_path / "out.onnx")
    options = onnxruntime.SessionOptions()
    options.register_custom_ops_library(custom_ops.extensions_library_path())
    with pytest.raises(Exception, match="(?i)type|input"):
        onnxruntime.InferenceSession(str(tmp_path / "out.onnx"), options, providers=["CPUExecutionProvider"])
