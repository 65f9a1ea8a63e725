"""``tsilstm verify``: every schedule, LSTM and GRU, JSON form, exit status."""

import json

from click.testing import CliRunner

from tsilstm.cli.main import cli
from tsilstm.plan import SCHEDULES


def test_issue_case_passes_for_all_schedules_and_both_cells():
    result = CliRunner().invoke(cli, ["verify", "--hidden", "96", "--input", "40", "--steps", "9", "--batch", "3", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["results"]
    assert {(r["cell"], r["schedule"]) for r in rows} == {(c, s) for c in ("lstm", "gru") for s in SCHEDULES}
    assert all(r["ok"] and r["max_abs_error"] <= 1e-5 for r in rows)


def test_fp64_stack_with_projection_reports_fallback():
    result = CliRunner().invoke(cli, ["verify", "--hidden", "20", "--cell", "lstm", "--layers", "2", "--bidirectional",
                                      "--proj-size", "6", "--dtype", "float64", "--schedule", "tsi", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.output)["results"][0]
    assert row["executed_schedule"] == "snake" and row["max_abs_error"] <= 1e-12 and row["notes"]


def test_bad_input_exits_2():
    result = CliRunner().invoke(cli, ["verify", "--hidden", "8", "--tile", "9"])
    assert result.exit_code == 2 and "tile" in result.output
    result = CliRunner().invoke(cli, ["verify", "--dtype", "float16"])
    assert result.exit_code == 2 and "dtype" in result.output
