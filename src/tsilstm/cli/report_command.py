"""``tsilstm report``: the paper-style comparison of every schedule on the shipped presets."""

from __future__ import annotations

import time
from pathlib import Path

import click

from tsilstm.accel.arch_config import load_arch
from tsilstm.accel.sweep import evaluate_point
from tsilstm.cli.param_types import CONTEXT_SETTINGS, POSITIVE_INT
from tsilstm.report.accel_plots import plot_energy_breakdown, plot_gains, plot_vs_bandwidth, plot_vs_buffer
from tsilstm.report.accel_report import FOCUS_WORKLOAD, gains_summary, render_markdown, report_points
from tsilstm.report.sweep_run import run_parallel, write_csv


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="report-out", show_default=True, help="Output directory.")
@click.option("--jobs", type=POSITIVE_INT, default=2, show_default=True, help="Worker processes.")
def report(out_dir: str, jobs: int) -> None:
    """Energy reduction and throughput gain of tsi and tsi-pinned against naive, conventional and
    snake for every report workload on the edge and server presets, beside the paper's band; writes
    REPORT.md, CSVs and plots (PNG and SVG)."""
    started = time.perf_counter()
    out = Path(out_dir)
    archs = {"edge": load_arch("edge"), "server": load_arch("server")}
    sections = report_points()
    tasks = [(name, index) for name, points in sections.items() for index in range(len(points))]
    # one task per point, every section in one pool so both cores stay busy
    flat = [(sections[name][index], archs["server" if name == "server" else "edge"]) for name, index in tasks]
    rows_flat = run_parallel(_evaluate_pair, flat, jobs=jobs, label="report")
    rows: dict[str, list[dict]] = {name: [] for name in sections}
    per_point = len(rows_flat) // len(flat)
    for (name, _), start in zip(tasks, range(0, len(rows_flat), per_point)):
        rows[name] += rows_flat[start : start + per_point]
    plots = []
    for name, section_rows in rows.items():
        write_csv(section_rows, out / f"{name}.csv")
    plots += plot_gains(gains_summary(rows["edge"]), out / "gains_edge", "tsi and tsi-pinned vs conventional, edge preset")
    plots += plot_gains(gains_summary(rows["server"]), out / "gains_server", "tsi and tsi-pinned vs conventional, server preset")
    plots += plot_vs_buffer(rows["buffer"], "weight_bytes_per_step", out / "traffic_vs_buffer", f"{FOCUS_WORKLOAD}, edge")
    plots += plot_vs_buffer(rows["buffer"], "energy_pj_per_step", out / "energy_vs_buffer", f"{FOCUS_WORKLOAD}, edge")
    plots += plot_vs_bandwidth(rows["bandwidth"], out / "speed_vs_bandwidth", f"{FOCUS_WORKLOAD}, edge")
    focus_rows = [r for r in rows["edge"] if r["workload"] == FOCUS_WORKLOAD]
    plots += plot_energy_breakdown(focus_rows, out / "energy_breakdown", f"{FOCUS_WORKLOAD}, edge")
    elapsed = time.perf_counter() - started
    text = render_markdown(rows, archs, plots, out, elapsed, f"tsilstm report --out {out_dir}")
    (out / "REPORT.md").write_text(text, encoding="utf-8")
    click.echo(f"wrote {out / 'REPORT.md'}, {len(rows)} CSVs and {len(plots)} plot files in {elapsed:.0f} s")


def _evaluate_pair(pair):  # type: ignore[no-untyped-def]
    point, arch = pair
    return evaluate_point(point, arch)
