"""``tsilstm report``: the paper-style comparison of every schedule on the shipped presets."""

from __future__ import annotations

import time
from pathlib import Path

import click

from tsilstm.accel.arch_config import load_arch
from tsilstm.accel.sweep import SweepPoint, evaluate_point
from tsilstm.cli.param_types import CONTEXT_SETTINGS, POSITIVE_INT
from tsilstm.report.accel_report import FOCUS_WORKLOAD, gains_summary, render_markdown, report_points
from tsilstm.report.sweep_run import run_parallel, write_csv


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="report-out", show_default=True, help="Output directory.")
@click.option("--jobs", type=POSITIVE_INT, default=2, show_default=True, help="Worker processes.")
def report(out_dir: str, jobs: int) -> None:
    """Energy reduction and throughput gain of tsi and tsi-pinned against naive, conventional and
    snake for every report workload on the edge and server presets, beside the paper's band; writes
    REPORT.md, CSVs and plots (PNG and SVG)."""
    write_report(Path(out_dir), jobs, report_points(FOCUS_WORKLOAD), FOCUS_WORKLOAD, f"tsilstm report --out {out_dir}")


def write_report(
    out: Path, jobs: int, sections: dict[str, list[SweepPoint]], focus_workload: str, command: str
) -> Path:
    """Evaluate every point of ``sections`` (``report_points``: edge, server, buffer, bandwidth,
    batch) on ``jobs`` worker processes, write the CSVs, plots and REPORT.md (which quotes
    ``command``) to ``out`` and return the REPORT.md path; the sweep sections are of ``focus_workload``."""
    from tsilstm.report.accel_plots import plot_energy_breakdown, plot_gains, plot_vs_bandwidth, plot_vs_buffer  # matplotlib: slow import

    started = time.perf_counter()
    archs = {"edge": load_arch("edge"), "server": load_arch("server")}
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
    plots += plot_vs_buffer(rows["buffer"], "weight_bytes_per_step", out / "traffic_vs_buffer", f"{focus_workload}, edge")
    plots += plot_vs_buffer(rows["buffer"], "energy_pj_per_step", out / "energy_vs_buffer", f"{focus_workload}, edge")
    plots += plot_vs_bandwidth(rows["bandwidth"], out / "speed_vs_bandwidth", f"{focus_workload}, edge")
    focus_rows = [r for r in rows["edge"] if r["workload"] == focus_workload]
    plots += plot_energy_breakdown(focus_rows, out / "energy_breakdown", f"{focus_workload}, edge")
    elapsed = time.perf_counter() - started
    text = render_markdown(rows, archs, plots, out, elapsed, command, focus_workload)
    (out / "REPORT.md").write_text(text, encoding="utf-8")
    click.echo(f"wrote {out / 'REPORT.md'}, {len(rows)} CSVs and {len(plots)} plot files in {elapsed:.0f} s")
    return out / "REPORT.md"


def _evaluate_pair(pair):  # type: ignore[no-untyped-def]
    point, arch = pair
    return evaluate_point(point, arch)
