"""``tsilstm simulate --model FILE`` feeds a model file's layers to the accelerator model."""

import json

import pytest
from click.testing import CliRunner

from tsilstm.cli.main import cli

torch = pytest.importorskip("torch")


def test_simulate_a_saved_torch_lstm(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "lstm.pt"
    torch.save(torch.nn.LSTM(48, 96, num_layers=2).state_dict(), path)
    result = CliRunner().invoke(cli, ["simulate", "--model", str(path), "--steps", "20", "--buffer", "64KiB", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["workload"]["steps"] == 20
    rows = {row["schedule"]: row for row in data["results"]}
    assert rows["tsi"]["dram_bytes"]["weights"] < rows["conventional"]["dram_bytes"]["weights"]


def test_model_with_workload_is_refused(tmp_path):
    path = tmp_path / "gru.pt"
    torch.save(torch.nn.GRU(8, 8).state_dict(), path)
    result = CliRunner().invoke(cli, ["simulate", "--model", str(path), "--workload", "mos-ptb"])
    assert result.exit_code == 2 and "--model" in result.output


def test_not_a_model_file_exits_2(tmp_path):
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"not a model")
    result = CliRunner().invoke(cli, ["simulate", "--model", str(path)])
    assert result.exit_code == 2 and "junk.onnx" in result.output
