"""``tsilstm bench``: the JSON schema of a small real run, bad input (exit 2 naming the option), and
a two-workload suite writing its markdown (tiny shapes; no timing assertions)."""

from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from tsilstm.bench.runners_tsilstm import tsilstm_weight_dtypes
from tsilstm.bench.suites import SuiteEntry
from tsilstm.bench.shapes import BenchShape
from tsilstm.cli import bench_command
from tsilstm.cli.main import cli

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
WEIGHT_DTYPES = tsilstm_weight_dtypes()
LOW_PRECISION = [dtype for dtype in WEIGHT_DTYPES if dtype != "float32"]


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
        assert row.get("weight_dtype") == ("float32" if row["impl"].startswith("tsilstm-") else None)
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
        (["--against", "torch-int4"], "onnxruntime-int8"),
        (["--weight-dtype", "float8"], "--weight-dtype"),
        (["--weight-dtypes", "bfloat16"], "--weight-dtypes"),
        (["--suite", "deepbench", "--weight-dtype", "bfloat16"], "--weight-dtype"),
        (["--suite", "deepbench", "--weight-dtypes", "float32,float8"], "--weight-dtypes"),
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
        SuiteEntry("stream-gru-32-b1", BenchShape("gru", 32, 32, 1, 3), 3, stream=True),
    )
    monkeypatch.setattr(bench_command, "suite_entries", lambda suite, divisor: entries)
    output = tmp_path / "RESULTS.md"
    result = CliRunner().invoke(cli, ["bench", "--suite", "deepbench", "--repeats", "2", "--output", str(output), "--json",
                                      "--weight-dtypes", ",".join(WEIGHT_DTYPES)])
    assert result.exit_code == 0, result.output + str(result.exception)
    report = json.loads(result.stdout)
    assert [entry["name"] for entry in report["entries"]] == ["tiny-lstm", "tiny-gru", "stream-gru-32-b1"]
    low = [f"tsilstm-tsi-{dtype}" for dtype in WEIGHT_DTYPES if dtype != "float32"]
    assert {row["label"] for row in report["entries"][0]["results"]} == {
        "tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", "torch", "onnxruntime", "torch-int8", "onnxruntime-int8", *low
    }
    assert [entry["mode"] for entry in report["entries"]] == ["sequence", "sequence", "stream"]
    assert set(report["summary"]) == {"tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", *low}
    assert report["summary"]["tsilstm-auto"]["min_vs_best_tsilstm_schedule"] > 0
    assert set(report["summary_stream"]) == {"tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", *low}
    text = output.read_text()
    assert "| tiny-lstm | 4 / 4 |" in text and "| tiny-gru | 3 / 24 |" in text
    assert "GB/s" in text and "torch" in text and "Date:" in text
    assert "1 GRU workloads ran with shortened sequences" in text
    assert "## Low-precision weights" in text and "## Streaming" in text and "| stream-gru-32-b1 | 3 |" in text
    for dtype in WEIGHT_DTYPES[1:]:
        assert f"tsi {dtype} vs fastest int8 peer" in text
    assert "no int8 GRU kernel" in text


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


@pytest.mark.parametrize("dtype", LOW_PRECISION)
def test_weight_dtype_runs_tsilstm_at_that_type_against_the_int8_peers(dtype):
    against = "torch,torch-int8,onnxruntime,onnxruntime-int8"
    result = CliRunner().invoke(cli, ["bench", "--hidden", "48", "--steps", "4", "--repeats", "2", "--auto",
                                      "--against", against, "--weight-dtype", dtype, "--json"])
    assert result.exit_code == 0, result.output + str(result.exception)
    report = json.loads(result.stdout)
    assert report["weight_dtype"] == dtype
    rows = {row["impl"]: row for row in report["results"]}
    assert list(rows) == ["tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", *against.split(",")]
    for impl in ("tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto"):
        assert rows[impl]["weight_dtype"] == dtype
        assert 0 < rows[impl]["max_abs_error"] <= rows[impl]["error_tolerance"]  # rounded weights: not exact
        assert rows[impl]["speedup_vs_fastest_int8_baseline"] > 0
    assert rows["tsilstm-auto"]["speedup_vs_best_tsilstm_schedule"] > 0
    for impl in ("torch-int8", "onnxruntime-int8"):
        assert "weight_dtype" not in rows[impl] and rows[impl]["precision"] == "int8 dynamic"
        assert 1e-4 < rows[impl]["max_abs_error"] < 0.1
    assert rows["torch"]["max_abs_error"] == 0.0


def test_table_output_names_the_weight_types_and_the_gru_without_int8():
    result = CliRunner().invoke(cli, ["bench", "--cell", "gru", "--hidden", "32", "--steps", "3", "--repeats", "2",
                                      "--against", "onnxruntime-int8", "--weight-dtype", LOW_PRECISION[0]])
    assert result.exit_code == 0, result.output + str(result.exception)
    assert LOW_PRECISION[0] in result.stdout and "int8 peer" in result.stdout
    assert "no int8 GRU kernel" in result.stdout


def test_an_explicit_baseline_without_its_package_fails_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)  # find_spec / import now say: not installed
    result = CliRunner().invoke(cli, ["bench", "--hidden", "32", "--steps", "3", "--against", "torch,openvino"])
    assert result.exit_code == 2, result.output
    assert "--against" in result.output and "tsilstm[openvino]" in result.output


def test_openvino_row_when_installed():
    pytest.importorskip("openvino")
    result = CliRunner().invoke(cli, ["bench", "--hidden", "40", "--steps", "4", "--repeats", "2",
                                      "--against", "torch,openvino", "--json"])
    assert result.exit_code == 0, result.output + str(result.exception)
    rows = {row["impl"]: row for row in json.loads(result.stdout)["results"]}
    assert rows["openvino"]["precision"] in ("bf16", "f32")
    assert rows["openvino"]["max_abs_error"] < 2e-2 and rows["openvino"]["speedup_vs_openvino"] == 1.0


def test_suite_summary_table_shows_the_low_precision_and_streaming_rows(tmp_path, monkeypatch):
    entries = (
        SuiteEntry("tiny-lstm", BenchShape("lstm", 32, 32, 1, 3), 3),
        SuiteEntry("stream-lstm-32-b1", BenchShape("lstm", 32, 32, 1, 3), 3, stream=True),
    )
    monkeypatch.setattr(bench_command, "suite_entries", lambda suite, divisor: entries)
    result = CliRunner().invoke(cli, ["bench", "--suite", "deepbench", "--repeats", "2", "--output", str(tmp_path / "R.md"),
                                      "--against", "onnxruntime-int8"])
    assert result.exit_code == 0, result.output + str(result.exception)
    assert "streaming rows (one step per call)" in result.stdout
    for dtype in LOW_PRECISION:
        assert f"tsilstm-tsi-{dtype}" in result.stdout
