"""The report's arithmetic and tables from synthetic rows, and the plots' files."""

from __future__ import annotations

import pytest

from tsilstm.report.accel_plots import plot_vs_buffer
from tsilstm.report.accel_report import gains_summary, gains_table
from tsilstm.report.accel_tables import markdown_table


def _row(schedule: str, energy: float, speed: float, weights: float, buffer: int = 1024, executed: str | None = None) -> dict:
    return {
        "workload": "w", "batch": 1, "weight_buffer_bytes": buffer, "dram_bandwidth_bytes_per_s": 1e9,
        "schedule": schedule, "executed": executed or schedule, "energy_pj": energy, "steps_per_second": speed,
        "weight_bytes": weights, "weight_bytes_per_step": weights / 10, "recurrent_matrix_bytes": 4096,
        "ideal_tsi_pinned_weight_bytes_per_step": max(4096 - buffer, 0) / 2,
    }


def test_gains_against_each_baseline_by_hand() -> None:
    rows = [
        _row("naive", 400.0, 50.0, 1000.0), _row("conventional", 200.0, 100.0, 1000.0),
        _row("snake", 160.0, 125.0, 800.0), _row("pinned", 180.0, 110.0, 900.0), _row("tsi", 100.0, 200.0, 520.0),
        _row("tsi-pinned", 80.0, 250.0, 400.0), {**_row("best-non-interleaved", 160.0, 125.0, 800.0), "stands_for": "snake"},
    ]
    (summary,) = gains_summary(rows)
    assert summary["best_non_interleaved_is"] == "snake"
    assert summary["tsi_vs_pinned_energy_pct"] == pytest.approx(100 * (100 / 180 - 1))
    assert summary["tsi_vs_best-non-interleaved_energy_pct"] == pytest.approx(-37.5)
    assert summary["tsi_vs_naive_energy_pct"] == pytest.approx(-75.0)
    assert summary["tsi_vs_conventional_energy_pct"] == pytest.approx(-50.0)
    assert summary["tsi_vs_snake_throughput_pct"] == pytest.approx(60.0)
    assert summary["tsi-pinned_throughput_gain_pct"] == pytest.approx(150.0)
    assert summary["tsi_weight_ratio"] == pytest.approx(0.52)
    assert summary["fallbacks"] == []
    table = gains_table([summary])
    assert "-50.0 %" in table and "0.520" in table and "-37.5 %" in table and "snake" in table


def test_fallbacks_are_listed() -> None:
    rows = [
        _row("naive", 1, 1, 1), _row("conventional", 1, 1, 1), _row("snake", 1, 1, 1), _row("pinned", 1, 1, 1),
        _row("tsi", 1, 1, 1, executed="snake"), _row("tsi-pinned", 1, 1, 1, executed="pinned"),
        {**_row("best-non-interleaved", 1, 1, 1, executed="conventional"), "stands_for": "conventional"},
    ]
    assert gains_summary(rows)[0]["fallbacks"] == ["tsi -> snake", "tsi-pinned -> pinned"]


def test_markdown_table_shape() -> None:
    assert markdown_table(["a", "b"], [["1", "2"]]).splitlines() == ["| a | b |", "| --- | --- |", "| 1 | 2 |"]


def test_traffic_plot_written_as_png_and_svg(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [_row(s, 1.0, 1.0, w, buffer=b) for s, w in (("conventional", 1000.0), ("tsi", 520.0)) for b in (512, 1024, 2048)]
    paths = plot_vs_buffer(rows, "weight_bytes_per_step", tmp_path / "traffic.v1", "test")
    assert [p.name for p in paths] == ["traffic.v1.png", "traffic.v1.svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
