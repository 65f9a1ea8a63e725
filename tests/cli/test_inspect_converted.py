"""A file written by ``tsilstm convert-onnx`` through the public CLI: ``inspect`` lists its nodes
(now in tsilstm's custom domain) as the original's, says they are converted, and ``verify`` checks
them against ONNX Runtime; a custom-domain node carrying what convert-onnx never writes (a
session's runtime form) is refused naming the node and the attribute."""

from __future__ import annotations

import json

import onnx
import pytest
from click.testing import CliRunner
from onnx import helper

from tests.importers.onnx_builders import build_recurrent_model, save
from tsilstm.cli.main import cli
from tsilstm.importers.onnx_graph import TSILSTM_DOMAIN

pytest.importorskip("onnxruntime")


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args))


@pytest.fixture()
def converted(tmp_path):  # type: ignore[no-untyped-def]
    source = save(build_recurrent_model("LSTM", input_size=6, hidden=16, direction="bidirectional", name="enc"),
                  tmp_path / "model.onnx")
    target = tmp_path / "converted.onnx"
    result = _invoke("convert-onnx", str(source), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert [node.domain for node in onnx.load(str(target)).graph.node if node.op_type == "LSTM"] == [TSILSTM_DOMAIN]
    return source, target


def test_inspect_lists_the_converted_nodes_and_says_they_are_converted(converted):  # type: ignore[no-untyped-def]
    source, target = converted
    result = _invoke("inspect", str(target))
    assert result.exit_code == 0, result.output
    assert "1 recurrent layer(s)" in result.output and "Converted by tsilstm convert-onnx" in result.output
    assert "enc" in result.output.split("Converted by")[1]
    rows = {name: json.loads(_invoke("inspect", str(path), "--json").output)["layers"] for name, path in
            (("source", source), ("converted", target))}
    assert [row.pop("converted") for row in rows["source"]] == [False]
    assert [row.pop("converted") for row in rows["converted"]] == [True]
    assert rows["source"] == rows["converted"]  # the same layer, weights and sizes


def test_verify_checks_the_converted_nodes_against_onnxruntime(converted):  # type: ignore[no-untyped-def]
    _, target = converted
    result = _invoke("verify", str(target), "--schedule", "tsi", "--json")
    assert result.exit_code == 0, result.output
    checks = json.loads(result.output)["results"]
    assert checks and all(check["ok"] and check["against"] == "onnxruntime" for check in checks)


def test_a_custom_domain_node_with_a_foreign_attribute_is_refused(tmp_path):  # type: ignore[no-untyped-def]
    model = build_recurrent_model("GRU", input_size=3, hidden=4, name="gate")
    node = next(node for node in model.graph.node if node.op_type == "GRU")
    node.domain = TSILSTM_DOMAIN
    node.attribute.append(helper.make_attribute("tsilstm_key", "0123456789abcdef/0"))
    path = save(model, tmp_path / "runtime_form.onnx")
    result = _invoke("inspect", str(path))
    assert result.exit_code == 2, result.output
    assert "runtime_form.onnx" in result.output and "'gate'" in result.output and "tsilstm_key" in result.output


def test_convert_onnx_into_a_missing_folder_names_the_option(tmp_path):  # type: ignore[no-untyped-def]
    source = save(build_recurrent_model("GRU", input_size=3, hidden=4), tmp_path / "model.onnx")
    result = _invoke("convert-onnx", str(source), "-o", str(tmp_path / "absent" / "out.onnx"))
    assert result.exit_code == 2 and "--output" in result.output and "does not exist" in result.output, result.output
    assert not (tmp_path / "absent").exists()
