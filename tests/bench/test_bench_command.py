"""``tsilstm bench``: the JSON schema of a small real run, bad input (exit 2 naming the option), and
a two-workload suite writing its markdown (tiny shapes; no timing assertions)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tsilstm.bench.suites import SuiteEntry
from tsilstm.bench.shapes import BenchShape
from tsilstm.cli import bench_command
from tsilstm.cli.main import cli

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")


def test_json_schema_of_a_small_run():
    result = CliRunner().invoke(cli, ["bench", "--hidden", "64", "--steps", "5", "--repeats", "2", "--json"])
    assert result.exit_code == 0, result.output + str(result.exception)
    report = json.loads(result.stdout)
    assert report["bandwidth_gbs"] > 0
    assert {"cpu_model", "logical_cores", "cache_bytes", "llc_bytes", "threads"} <= set(report["machine"])
    assert report["shape"] == {
        "cell": "lstm", "hidden": 64, "input": 64, "batch": 1, "steps": 5, "num_layers": 1, "proj_size": 0,
        "bidirectional": False, "recurrent_weight_bytes": 4 * 64 * 64 * 4,
    }
    impls = [row["impl"] for row in report["results"]]
    assert impls == ["tsilstm-tsi", "tsilstm-conventional", "torch", "onnxruntime"]
    for row in report["results"]:
        assert {"ms_per_step", "ms_per_step_min", "ms_per_step_max", "ms_per_step_iqr", "max_abs_error",
                "speedup_vs_fastest_baseline", "repeats"} <= set(row)
        assert row["max_abs_error"] <= 1e-4
        assert row["repeats"] == 2
    assert set(report["roofline"]) == {"conventional", "tsi"}
    assert {"torch", "onnxruntime"} <= set(report["versions"])


@pytest.mark.parametrize(
    "args,option",
    [
        (["--workload", "deepbench-lstm-3-b1"], "--workload"),
        (["--hidden", "0"], "--hidden"),
        (["--batch", "-2"], "--batch"),
        (["--steps", "0"], "--steps"),
        (["--input", "0"], "--input"),
        (["--threads", "0"], "--threads"),
        (["--repeats", "0"], "--repeats"),
        (["--against", "torch,tensorflow"], "--against"),
        (["--cell", "rnn"], "--cell"),
        (["--workload", "deepbench-lstm-2048-b1", "--hidden", "64"], "--workload"),
        (["--suite", "mlperf"], "--suite"),
        (["--proj-size", "-1"], "--proj-size"),
        (["--suite", "deepbench", "--workload", "deepbench-lstm-2048-b1"], "--workload"),
    ],
)
def test_bad_input_exits_2_naming_the_option(args, option):
    result = CliRunner().invoke(cli, ["bench", *args])
    assert result.exit_code == 2, result.output
    assert option in result.output


def test_tiny_suite_writes_results_markdown(tmp_path, monkeypatch):
    entries = (
        SuiteEntry("tiny-lstm", BenchShape("lstm", 48, 48, 1, 4), 4),
        SuiteEntry("tiny-gru", BenchShape("gru", 40, 40, 2, 3), 24),
    )
    monkeypatch.setattr(bench_command, "suite_entries", lambda suite, divisor: entries)
    output = tmp_path / "RESULTS.md"
    result = CliRunner().invoke(cli, ["bench", "--suite", "deepbench", "--repeats", "2", "--output", str(output), "--json"])
    assert result.exit_code == 0, result.output + str(result.exception)
    report = json.loads(result.stdout)
    assert [entry["name"] for entry in report["entries"]] == ["tiny-lstm", "tiny-gru"]
    assert {row["impl"] for row in report["entries"][0]["results"]} == {
        "tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", "torch", "onnxruntime"
    }
    assert set(report["summary"]) == {"tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto"}
    text = output.read_text()
    assert "| tiny-lstm | 4 / 4 |" in text and "| tiny-gru | 3 / 24 |" in text
    assert "GB/s" in text and "torch" in text and "Date:" in text
    assert "1 GRU workloads ran with shortened sequences" in text


def test_a_workload_torch_cannot_express_is_rejected_naming_it():
    result = CliRunner().invoke(cli, ["bench", "--workload", "mos-ptb"])
    assert result.exit_code == 2
    assert "workload='mos-ptb'" in result.output and "--hidden/--layers" in result.output


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_stream_mode_reports_ms_per_call_and_equals_the_whole_sequence(cell):
    result = CliRunner().invoke(cli, ["bench", "--stream", "--cell", cell, "--hidden", "32", "--steps", "7",
                                      "--repeats", "2", "--json"])
    assert result.exit_code == 0, result.output + str(result.exception)
    report = json.loads(result.stdout)
    assert report["mode"] == "stream" and report["shape"]["steps"] == 7
    impls = [row["impl"] for row in report["results"]]
    assert impls == ["tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", "torch", "onnxruntime"]
    for row in report["results"]:  # 7 calls of one step each vs torch over the whole sequence at once
        assert row["ms_per_call"] == row["ms_per_step"] > 0
        assert row["max_abs_error"] <= 1e-4


def test_stream_and_suite_are_exclusive():
    result = CliRunner().invoke(cli, ["bench", "--stream", "--suite", "deepbench"])
    assert result.exit_code == 2 and "--stream" in result.output


def test_streamed_runner_carries_the_state():
    import numpy as np

    from tsilstm.bench.streaming import streamed

    calls = []

    def runner(x, h, c):  # type: ignore[no-untyped-def]
        calls.append(x.shape[0])
        return x + h, h + 1, None

    y, h, _ = streamed(runner)(np.zeros((4, 1, 1)), np.zeros((1, 1)), None)
    assert calls == [1, 1, 1, 1] and y.ravel().tolist() == [0, 1, 2, 3] and h.item() == 4
