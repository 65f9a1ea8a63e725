"""What ``tsilstm explore`` writes: every design's rows and the Pareto fronts as CSV (and Parquet
when pyarrow is installed), a JSON summary, and plots of the fronts (PNG and SVG)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any, Sequence

from tsilstm.accel.design_space import OBJECTIVES
from tsilstm.report.sweep_run import write_csv


def write_tables(rows: Sequence[dict[str, Any]], fronts: dict[str, list[dict[str, Any]]], out: Path) -> list[Path]:
    """``designs.csv`` (every row) and ``pareto_front.csv`` (the front rows of every schedule), plus
    ``.parquet`` copies when pyarrow is importable. Returns the paths written."""
    front_rows = [row for schedule_rows in fronts.values() for row in schedule_rows]
    written = []
    for name, table in (("designs", list(rows)), ("pareto_front", front_rows)):
        write_csv(table, out / f"{name}.csv")
        written.append(out / f"{name}.csv")
        if importlib.util.find_spec("pyarrow") is not None and table:
            import pyarrow
            import pyarrow.parquet

            pyarrow.parquet.write_table(pyarrow.Table.from_pylist(table), out / f"{name}.parquet")
            written.append(out / f"{name}.parquet")
    return written


def write_summary(summary: dict[str, Any], out: Path) -> Path:
    """``explore.json``: the inputs, counts and the front of every schedule."""
    path = out / "explore.json"
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return path


def plot_fronts(rows: Sequence[dict[str, Any]], fronts: dict[str, list[dict[str, Any]]], out: Path, title: str) -> list[Path]:
    """Two plots of every schedule's front over all designs (grey): energy per step against latency
    per step, and energy per step against area; legends beside the axes, off the data."""
    from tsilstm.report.accel_plots import SCHEDULE_STYLE, plt, save_figure  # matplotlib: slow import

    written = []
    for y_key, y_label, y_scale, name in (
        ("seconds_per_step", "latency per step (us)", 1e6, "pareto_energy_latency"),
        ("area_mm2", "area (mm^2)", 1.0, "pareto_energy_area"),
    ):
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        ax.scatter([r["energy_pj_per_step"] / 1e6 for r in rows], [r[y_key] * y_scale for r in rows],
                   s=8, color="0.8", label="all designs", zorder=1)
        for schedule, front in fronts.items():
            color, marker = SCHEDULE_STYLE.get(schedule, ("black", "."))
            ax.scatter([r["energy_pj_per_step"] / 1e6 for r in front], [r[y_key] * y_scale for r in front],
                       s=24, color=color, marker=marker, label=f"{schedule} front ({len(front)})", zorder=2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("energy per step (uJ)")
        ax.set_ylabel(y_label)
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        written += save_figure(fig, out / name)
    return written


def front_summary(fronts: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per schedule: the front's size and its least-energy, least-latency and least-area designs."""
    out: dict[str, Any] = {}
    for schedule, front in fronts.items():
        out[schedule] = {
            "points": len(front),
            **{f"least_{key}": min(front, key=lambda row, k=key: row[k]) for key in OBJECTIVES},
        }
    return out
