"""``tsilstm convert-onnx`` (the file form runs with tsilstm.onnx.InferenceSession and lists the
nodes that moved and those that stay) and ``tsilstm bench --onnx``."""

from __future__ import annotations

import json

import numpy as np
import onnx
from click.testing import CliRunner

from tests.importers.onnx_builders import build_recurrent_model, save
from tsilstm.cli.main import cli
from tsilstm.integrations.onnxruntime import DOMAIN
from tsilstm.onnx import InferenceSession

from .helpers import assert_outputs_match, onnxruntime


def _two_node_model():  # type: ignore[no-untyped-def]
    """An LSTM tsilstm takes followed by a bidirectional LSTM with different activations in its two
    directions, which it leaves to onnxruntime (same graph)."""
    first = build_recurrent_model("LSTM", input_size=3, hidden=4, name="taken", initial_states=False)
    second = build_recurrent_model("LSTM", input_size=4, hidden=4, name="kept", initial_states=False, surrounding=False,
                                   direction="bidirectional",
                                   attributes={"activations": ["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Tanh", "Tanh"]})
    graph = first.graph
    graph.initializer.append(onnx.helper.make_tensor("axes", onnx.TensorProto.INT64, [1], [1]))
    graph.node.append(onnx.helper.make_node("Squeeze", ["Y", "axes"], ["Y_squeezed"]))
    node = second.graph.node[-1]
    node.input[0] = "Y_squeezed"
    del node.output[:]
    node.output.extend(["Y2"])
    graph.node.append(node)
    graph.initializer.extend(second.graph.initializer)
    del graph.output[:]
    graph.output.extend([onnx.helper.make_tensor_value_info("Y2", onnx.TensorProto.FLOAT, None)])
    return first


def test_convert_onnx_writes_the_file_form_and_lists_the_nodes(tmp_path):
    source = save(_two_node_model(), tmp_path / "in.onnx")
    result = CliRunner().invoke(cli, ["convert-onnx", str(source), "-o", str(tmp_path / "out.onnx"), "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["node"]: row for row in json.loads(result.output)["nodes"]}
    assert rows["taken"]["runs_in"] == "tsilstm" and rows["kept"]["runs_in"] == "onnxruntime"
    assert "different activations" in rows["kept"]["reason"]
    converted = onnx.load(str(tmp_path / "out.onnx"))
    domains = {node.name: node.domain for node in converted.graph.node if node.op_type == "LSTM"}
    assert domains == {"taken": DOMAIN, "kept": ""}
    assert {t.name for t in converted.graph.initializer} >= {"taken_W", "taken_R", "taken_B"}  # weights kept
    feeds = {"X": np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)}
    expected = onnxruntime.InferenceSession(str(source), providers=["CPUExecutionProvider"]).run(None, feeds)
    session = InferenceSession(tmp_path / "out.onnx")
    assert_outputs_match(expected, session.run(None, feeds))
    assert [d.locator for d in session.tsilstm_nodes] == ["taken"]
    table = CliRunner().invoke(cli, ["convert-onnx", str(source), "-o", str(tmp_path / "again.onnx")])
    assert table.exit_code == 0 and "1 of 2" in table.output and "activations" in table.output


def test_convert_onnx_refuses_a_non_onnx_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_text("not a model")
    result = CliRunner().invoke(cli, ["convert-onnx", str(bad), "-o", str(tmp_path / "out.onnx")])
    assert result.exit_code == 2 and "bad.onnx" in result.output


def test_bench_onnx_reports_both_sessions_and_the_output_errors(tmp_path):
    model = build_recurrent_model("GRU", input_size=3, hidden=8, initial_states=False)
    model.graph.input[0].CopyFrom(onnx.helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, ["time", "batch", 3]))
    source = save(model, tmp_path / "m.onnx")
    result = CliRunner().invoke(cli, ["bench", "--onnx", str(source), "--repeats", "2", "--steps", "7", "--batch", "2",
                                      "--threads", "1", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{"):])
    assert {row["impl"] for row in report["results"]} == {"onnxruntime", "tsilstm", "onnxruntime (control)"}
    assert all(row["calls_per_block"] >= 3 for row in report["results"])
    assert report["control_speedup"] > 0 and "in_place" in report
    assert report["feeds"] == {"X": [7, 2, 3]}
    assert set(report["max_abs_error"]) == {"Y", "Y_h"} and max(report["max_abs_error"].values()) <= 1e-4
    assert report["speedup"] > 0
    table = CliRunner().invoke(cli, ["bench", "--onnx", str(source), "--repeats", "1", "--threads", "1"])
    assert table.exit_code == 0 and "tsilstm vs onnxruntime" in table.output


def test_bench_onnx_needs_a_feeds_file_for_integer_inputs(tmp_path):
    source = save(build_recurrent_model("LSTM", input_size=3, hidden=4, sequence_lens=True, initial_states=False),
                  tmp_path / "m.onnx")
    result = CliRunner().invoke(cli, ["bench", "--onnx", str(source), "--repeats", "1"])
    assert result.exit_code == 2 and "seq_lens" in result.output and ".npz" in result.output
    feeds = tmp_path / "feeds.npz"
    np.savez(feeds, X=np.ones((4, 2, 3), np.float32), seq_lens=np.array([4, 2], np.int32))
    result = CliRunner().invoke(cli, ["bench", "--onnx", str(source), "--feeds", str(feeds), "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
