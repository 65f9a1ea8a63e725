"""``tsilstm simulate``, ``sweep``, ``report`` and ``workloads`` end to end (small workloads)."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from tsilstm.accel.sweep import SweepPoint
from tsilstm.cli import report_command
from tsilstm.cli.main import cli


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_simulate_json_has_every_schedule_and_the_traffic_kinds() -> None:
    result = _run("simulate", "--workload", "deepbench-lstm-256-b1", "--arch", "edge", "--buffer", "256KiB", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    rows = {r["schedule"]: r for r in payload["results"]}
    assert set(rows) == {"naive", "conventional", "snake", "pinned", "tsi", "tsi-pinned", "best-non-interleaved"}
    best = rows["best-non-interleaved"]
    assert best["stands_for"] in ("conventional", "snake", "pinned")
    assert best["energy_pj"] == min(rows[s]["energy_pj"] for s in ("conventional", "snake", "pinned"))
    assert rows["tsi"]["vs_best-non-interleaved"]["energy_change"] < 0
    assert "W_h" in payload["weights_meaning"]
    for row in rows.values():
        assert set(row["dram_bytes"]) >= {"weights", "input_weights", "inputs", "states", "outputs"}
        assert row["energy_pj"] == pytest.approx(sum(row["energy_breakdown_pj"].values()))
        assert row["cycles"] > 0 and row["seconds"] > 0 and row["steps_per_second"] > 0
    assert rows["tsi"]["vs_conventional"]["weight_traffic_ratio"] < 0.6
    for row in rows.values():
        assert row["area_mm2"] > 0 and row["leakage_w"] > 0
        assert row["area_mm2"] == pytest.approx(sum(row["area_breakdown_mm2"].values()))
    iso = rows["tsi"]["iso_traffic"]["pinned"]
    assert iso["weight_buffer_bytes"] > 256 * 1024 and iso["extra_area_mm2"] > 0


def test_simulate_table_for_custom_layer_and_one_schedule() -> None:
    result = _run("simulate", "--hidden", "128", "--steps", "10", "--cell", "gru", "--schedule", "tsi", "--buffer", "64KiB")
    assert result.exit_code == 0, result.output
    for name in ("tsi", "conventional", "pinned", "best-non-interleaved"):
        assert name in result.output


def test_simulate_reports_the_projection_fallback() -> None:
    result = _run("simulate", "--hidden", "128", "--proj-size", "32", "--schedule", "tsi", "--buffer", "32KiB", "--json")
    row = next(r for r in json.loads(result.output)["results"] if r["schedule"] == "tsi")
    assert row["fell_back"] and row["executed_schedules"] == ["snake"]
    assert any("projection" in note for note in row["notes"])


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--workload", "deepbench-lstm-9999-b1"), "workload"),
        (("--workload", "deepbench-lstm-256-b1", "--arch", "laptop"), "arch"),
        (("--workload", "deepbench-lstm-256-b1", "--bandwidth", "0"), "--bandwidth"),
        (("--workload", "deepbench-lstm-256-b1", "--bandwidth", "10 GHz"), "--bandwidth"),
        (("--workload", "deepbench-lstm-256-b1", "--buffer", "1KiB"), "weight_buffer_bytes"),
        (("--workload", "deepbench-lstm-256-b1", "--schedule", "fast"), "--schedule"),
        (("--steps", "5"), "--workload"),
    ],
)
def test_simulate_bad_input_exits_2_naming_the_parameter(args: tuple[str, ...], named: str) -> None:
    result = CliRunner().invoke(cli, ["simulate", *args])
    assert result.exit_code == 2
    assert named in result.output


def test_workloads_lists_the_named_workloads() -> None:
    result = _run("workloads", "--json")
    names = {w["name"] for w in json.loads(result.output)}
    assert {"deepbench-lstm-2048-b1", "deepbench-gru-2816-b4-t750", "mos-ptb", "awd-lstm-ptb", "gnmt-8x1024", "speech-2048"} <= names
    assert "deepbench-lstm-2048-b1" in _run("workloads").output


def test_sweep_writes_csv_and_plots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "sweep"
    result = _run(
        "sweep", "--workload", "deepbench-lstm-256-b1", "--buffers", "64KiB,128KiB,256KiB", "--bandwidths", "6.4GB/s,12.8GB/s",
        "--schedules", "conventional,tsi,tsi-pinned", "--out", str(out), "--jobs", "2",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert len(rows) == 3 * 2 * (3 + 1)  # the three schedules and the best-non-interleaved baseline
    assert {"weight_bytes_per_step", "ideal_tsi_pinned_weight_bytes_per_step", "energy_pj", "steps_per_second"} <= set(rows[0])
    for prefix in ("traffic_vs_buffer_", "energy_vs_buffer_", "energy_breakdown_", "speed_vs_bandwidth_"):
        assert list(out.glob(prefix + "*.png")) and list(out.glob(prefix + "*.svg")), prefix


def test_sweep_bad_schedule_exits_2() -> None:
    result = CliRunner().invoke(cli, ["sweep", "--schedules", "tsi,warp"])
    assert result.exit_code == 2 and "--schedules" in result.output


def test_report_writes_markdown_and_plots(tmp_path) -> None:  # type: ignore[no-untyped-def]
    small = {
        "edge": [SweepPoint("deepbench-lstm-256-b1"), SweepPoint("deepbench-lstm-512-b1")],
        "server": [SweepPoint("deepbench-lstm-512-b1")],
        "buffer": [SweepPoint("deepbench-lstm-512-b1", weight_buffer_bytes=b) for b in (128 * 1024, 512 * 1024)],
        "bandwidth": [SweepPoint("deepbench-lstm-512-b1", dram_bandwidth_bytes_per_s=b) for b in (6.4e9, 25.6e9)],
        "batch": [SweepPoint("deepbench-lstm-512-b1", batch=n) for n in (1, 4)],
    }
    out = tmp_path / "report"
    written = report_command.write_report(out, 1, small, "deepbench-lstm-512-b1", "tsilstm report --out report")
    assert written == out / "REPORT.md"
    text = written.read_text()
    assert "Park et al." in text and "-57.3" in text and "+110.8" in text
    assert "deepbench-lstm-256-b1" in text and "What moves our figures" in text
    assert "What interleaving saves in silicon" in text and "buffer needed" in text
    assert (out / "gains_edge.png").exists() and (out / "traffic_vs_buffer.svg").exists()


def test_report_scenario_paper_json_lists_each_headline_with_its_share(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from tsilstm.report.paper_scenario import PAPER, Neighbourhood

    small = replace(PAPER, neighbourhood=Neighbourhood((45,), ("lpddr4",), (PAPER.batch,)))  # one point per workload: fast
    monkeypatch.setattr(report_command, "get_scenario", lambda name: small)
    result = _run("report", "--scenario", "paper", "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert {"energy_vs_naive", "throughput_vs_naive", "energy_vs_best"} <= set(payload["headlines"])
    assert all(0.0 <= h["holds_fraction"] <= 1.0 for h in payload["headlines"].values())
    text = (tmp_path / "REPORT.md").read_text()
    assert "## Assumptions" in text and "hoisting W_x" in text and "## Where the model cannot reach" in text
    assert (tmp_path / "region.png").exists() and (tmp_path / "region.csv").exists()


def test_report_of_a_designers_own_design(tmp_path) -> None:  # type: ignore[no-untyped-def]
    arch_file = tmp_path / "mine.toml"
    arch_file.write_text('name = "mine"\nbase = "edge"\n[memory]\nweight_buffer_bytes = "256 KiB"\n')
    result = _run("report", "--arch", str(arch_file), "--workload", "deepbench-lstm-256-b1", "--workload", "lm-2x650",
                  "--out", str(tmp_path / "r"), "--jobs", "1")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "r" / "REPORT.md").read_text()
    assert "on mine" in text and "deepbench-lstm-256-b1" in text and "lm-2x650" in text and "buffer needed" in text
    with (tmp_path / "r" / "design.csv").open() as handle:
        assert {"pinned", "best-non-interleaved", "tsi"} <= {row["schedule"] for row in csv.DictReader(handle)}


def test_report_workload_without_arch_and_scenario_with_arch_are_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    alone = CliRunner().invoke(cli, ["report", "--workload", "lm-2x650", "--out", str(tmp_path)])
    assert alone.exit_code == 2 and "--arch" in alone.output
    both = CliRunner().invoke(cli, ["report", "--scenario", "paper", "--arch", "edge", "--out", str(tmp_path)])
    assert both.exit_code == 2 and "--scenario" in both.output
