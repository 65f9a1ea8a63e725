"""``tsilstm inspect FILE`` and ``tsilstm verify FILE``: tables, JSON, exit status, bad files."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests.importers.onnx_builders import build_recurrent_model, save
from tsilstm.cli.inspect_command import cache_bytes, fits_in
from tsilstm.cli.main import cli
from tsilstm.plan import SCHEDULES

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")


@pytest.fixture()
def torch_file(tmp_path):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    path = tmp_path / "speaker.pt"
    lstm = torch.nn.LSTM(12, 40, 2)
    torch.save({"step": 7, "model_state": {f"lstm.{k}": v for k, v in lstm.state_dict().items()}}, path)
    return path


def test_inspect_lists_every_layer_as_a_table(torch_file):
    result = CliRunner().invoke(cli, ["inspect", str(torch_file)])
    assert result.exit_code == 0, result.output
    assert "lstm.l0" in result.output and "lstm.l1" in result.output and "2 recurrent layer(s)" in result.output


def test_inspect_json_fields(tmp_path):
    path = save(build_recurrent_model("LSTM", input_size=6, hidden=16, direction="bidirectional", name="enc"), tmp_path / "m.onnx")
    result = CliRunner().invoke(cli, ["inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.output)["layers"]
    assert (row["layer"], row["cell"], row["directions"], row["input_size"], row["hidden_size"]) == ("enc", "lstm", 2, 6, 16)
    assert row["recurrent_weight_bytes"] == 4 * 16 * 16 * 4
    assert row["weight_bytes"] == 2 * 4 * (64 * 6 + 64 * 16 + 2 * 64)
    assert row["fits"] == "L2"
    assert set(row["accelerators"]) <= {"edge", "server"}


def test_verify_file_every_schedule_against_the_framework(torch_file, tmp_path):
    result = CliRunner().invoke(cli, ["verify", str(torch_file), "--json", "--steps", "5", "--batch", "2"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["results"]
    replayed = {r["schedule"] for r in rows if r["engine"] == "replay"}
    assert replayed == set(SCHEDULES)
    assert all(r["ok"] and r["against"] == "torch" for r in rows)
    onnx_path = save(build_recurrent_model("GRU", hidden=12, attributes={"linear_before_reset": 1}), tmp_path / "g.onnx")
    result = CliRunner().invoke(cli, ["verify", str(onnx_path), "--schedule", "tsi"])
    assert result.exit_code == 0, result.output
    assert "onnxruntime" in result.output and "tsi" in result.output


def test_bad_files_exit_2_naming_the_file(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00\x01 not a model" * 10)
    for command in (["inspect", str(junk)], ["verify", str(junk)]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2 and "junk.onnx" in result.output, result.output
    result = CliRunner().invoke(cli, ["inspect", str(tmp_path / "absent.pt")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_cache_sizes_from_sysfs_unknown_when_absent(tmp_path):
    assert cache_bytes(tmp_path / "absent") == {}
    assert fits_in(100, {}) == "unknown"
    for index, (level, kind, size) in enumerate([("1", "Data", "32K"), ("1", "Instruction", "32K"), ("2", "Unified", "2048K"), ("3", "Unified", "16M")]):
        folder = tmp_path / f"index{index}"
        folder.mkdir()
        (folder / "level").write_text(level + "\n")
        (folder / "type").write_text(kind + "\n")
        (folder / "size").write_text(size + "\n")
    assert cache_bytes(tmp_path) == {"L2": 2 * 1024**2, "L3": 16 * 1024**2}
    caches = {"L2": 1000, "L3": 5000}
    assert [fits_in(n, caches) for n in (1000, 1001, 5001)] == ["L2", "L3", "DRAM"]


def test_verify_file_refuses_random_model_options(torch_file):
    result = CliRunner().invoke(cli, ["verify", str(torch_file), "--hidden", "8"])
    assert result.exit_code == 2 and "--hidden" in result.output and "MODEL_FILE" in result.output
    result = CliRunner().invoke(cli, ["verify", str(torch_file), "--steps", "0"])
    assert result.exit_code == 2 and "steps" in result.output


@pytest.mark.parametrize("weight_dtype", ["int8", "bfloat16"])
def test_verify_file_with_low_precision_weights_checks_each_layer(torch_file, weight_dtype):
    result = CliRunner().invoke(cli, ["verify", str(torch_file), "--json", "--steps", "5", "--schedule", "tsi",
                                      "--weight-dtype", weight_dtype])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["results"]
    runtime = [r for r in rows if r["engine"] == "runtime"]
    assert [r["model"].rsplit(" ", 2)[-2:] for r in runtime[1:]] == [["layer", "0"], ["layer", "1"]]
    assert all(r["against"] == "reference" for r in runtime[1:]) and runtime[0]["against"] == "torch"
    # the weights' rounding shows, within the documented tolerance; float replay stays exact
    assert all(1e-6 < r["max_abs_error"] <= r["tolerance"] for r in runtime)
    assert all(r["max_abs_error"] < 1e-4 for r in rows if r["engine"] == "replay")
    result = CliRunner().invoke(cli, ["verify", "--weight-dtype", weight_dtype])
    assert result.exit_code == 2 and "--weight-dtype" in result.output and "MODEL_FILE" in result.output
