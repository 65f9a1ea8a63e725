"""``tsilstm plan``: JSON keys, the issue's traffic figure, plots, and exit 2 on bad input."""

import json

import pytest
from click.testing import CliRunner

from tsilstm.cli.main import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_json_has_the_documented_keys():
    result = run("plan", "--hidden", "64", "--steps", "7", "--schedule", "snake", "--tile", "16", "--buffer", "16KiB", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for key in ("schedule", "steps", "weight_bytes_loaded", "weight_bytes_per_step", "peak_buffer_bytes"):
        assert key in data
    assert data["schedule"] == "snake" and data["steps"] == 7
    assert data["peak_buffer_bytes"] <= 16 * 1024


def test_tsi_needs_at_most_052_of_conventional_at_hidden_2048():
    tsi = json.loads(run("plan", "--hidden", "2048", "--steps", "50", "--schedule", "tsi", "--json").output)
    conv = json.loads(run("plan", "--hidden", "2048", "--steps", "50", "--schedule", "conventional", "--json").output)
    assert tsi["weight_bytes_per_step"] <= 0.52 * conv["weight_bytes_per_step"]


def test_all_schedules_table_and_json():
    result = run("plan", "--hidden", "32", "--schedule", "all", "--tile", "8", "--buffer", "8KiB")
    assert result.exit_code == 0 and "tsi-pinned" in result.output
    data = json.loads(run("plan", "--hidden", "32", "--schedule", "all", "--json").output)
    assert [r["schedule"] for r in data["results"]][-1] == "tsi-pinned"


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plot_writes_a_file(tmp_path, suffix):
    path = tmp_path / f"grid.{suffix}"
    result = run("plan", "--hidden", "96", "--tile", "16", "--plot", str(path))
    assert result.exit_code == 0, result.output
    assert path.stat().st_size > 1000


@pytest.mark.parametrize(
    "args, word",
    [
        (["--hidden", "0"], "hidden"),
        (["--hidden", "16", "--tile", "32"], "tile"),
        (["--hidden", "64", "--buffer", "1KiB"], "buffer"),
        (["--hidden", "64", "--buffer", "lots"], "buffer"),
        (["--hidden", "64", "--schedule", "zigzag"], "schedule"),
        (["--hidden", "64", "--cell", "rnn"], "cell"),
        (["--hidden", "64", "--steps", "-2"], "steps"),
        (["--hidden", "64", "--plot", "grid.jpg"], "plot"),
    ],
)
def test_bad_input_exits_2_naming_the_parameter(args, word):
    result = run("plan", *args)
    assert result.exit_code == 2
    assert word in result.output
    assert "Traceback" not in result.output
