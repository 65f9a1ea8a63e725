"""``tsilstm report``: the paper-style comparison of every schedule on the shipped presets."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from tsilstm.accel.arch_config import ArchConfig

from tsilstm.accel.arch_file import load_arch
from tsilstm.accel.sweep import SweepPoint, evaluate_point
from tsilstm.cli.param_types import ARCH, CONTEXT_SETTINGS, POSITIVE_INT, WORKLOAD_NAME
from tsilstm.errors import InvalidParameterError
from tsilstm.report.accel_report import (
    FOCUS_WORKLOAD, arch_table, gains_summary, gains_table, iso_traffic_section, render_markdown, report_points,
)
from tsilstm.report.paper_scenario import SCENARIOS, get_scenario, run_scenario
from tsilstm.report.scenario_report import REGION_LABELS, headline_sentence, render_scenario
from tsilstm.report.sweep_run import run_parallel, write_csv


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="report-out", show_default=True, help="Output directory.")
@click.option("--jobs", type=POSITIVE_INT, default=2, show_default=True, help="Worker processes.")
@click.option("--scenario", type=click.Choice(tuple(SCENARIOS)), default=None,
              help="A named scenario: its stated assumptions, the computed figures beside the paper's, and where they do not hold.")
@click.option("--arch", "arch", type=ARCH, default=None, help="Your design (preset or TOML/YAML file): report it for --workload.")
@click.option("--workload", "workload_names", type=WORKLOAD_NAME, multiple=True, help="Workload of --arch (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="With --scenario: print the scenario's JSON (headlines, region) instead of a summary.")
def report(
    out_dir: str, jobs: int, scenario: str | None, arch: ArchConfig | None, workload_names: tuple[str, ...], as_json: bool
) -> None:
    """Energy reduction and throughput gain of tsi and tsi-pinned against naive, conventional and
    snake for every report workload on the edge and server presets, beside the paper's band; writes
    REPORT.md, CSVs and plots (PNG and SVG). With --scenario paper: the paper's figures under stated
    assumptions; with --arch FILE --workload NAME...: the same comparison on your design."""
    out = Path(out_dir)
    if scenario is not None:
        if arch is not None or workload_names:
            raise InvalidParameterError("--scenario", scenario, "give either --scenario or --arch with --workload, not both")
        write_scenario_report(out, scenario, f"tsilstm report --scenario {scenario} --out {out_dir}", as_json)
    elif arch is not None or workload_names:
        if arch is None or not workload_names:
            raise InvalidParameterError("--arch" if arch is None else "--workload", None, "give --arch FILE with at least one --workload NAME")
        command = f"tsilstm report --arch {arch.name} " + " ".join(f"--workload {w}" for w in workload_names) + f" --out {out_dir}"
        write_design_report(out, jobs, arch, workload_names, command)
    else:
        if as_json:
            raise InvalidParameterError("--json", True, "applies to --scenario only")
        write_report(out, jobs, report_points(FOCUS_WORKLOAD), FOCUS_WORKLOAD, f"tsilstm report --out {out_dir}")


def write_scenario_report(out: Path, name: str, command: str, as_json: bool = False) -> Path:
    """Run scenario ``name`` and write REPORT.md, scenario.json, region.csv and the region plot to
    ``out``; print the JSON (``as_json``) or a summary; return REPORT.md's path."""
    from tsilstm.report.accel_plots import plot_region  # matplotlib: slow import

    scenario = get_scenario(name)
    result = run_scenario(scenario)
    out.mkdir(parents=True, exist_ok=True)
    (out / "scenario.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    write_csv([_flat_point(p) for p in result["region"]], out / "region.csv")
    plots = plot_region(result["region"], REGION_LABELS, out / "region", f"scenario {name}: where each headline figure holds")
    (out / "REPORT.md").write_text(
        render_scenario(result, scenario.design(), command, [p.name for p in plots if p.suffix == ".png"]), encoding="utf-8"
    )
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return out / "REPORT.md"
    click.echo(headline_sentence(result))
    click.echo(f"wrote {out / 'REPORT.md'}, {out / 'scenario.json'}, {out / 'region.csv'} and the region plot")
    return out / "REPORT.md"


def _flat_point(point: dict) -> dict:
    """One region point as a flat CSV row."""
    row = {key: point[key] for key in ("workload", "batch", "node_nm", "dram")}
    for part in ("vs_naive", "hoisting", "interleaving", "vs_best"):
        row[f"{part}_energy_change_pct"] = point[part]["energy_change_pct"]
        row[f"{part}_throughput_gain_pct"] = point[part]["throughput_gain_pct"]
    row["best"] = point["vs_best"]["best"]
    row.update({f"holds_{key}": value for key, value in point["holds"].items()})
    return row


def write_design_report(out: Path, jobs: int, arch: ArchConfig, workload_names: tuple[str, ...], command: str) -> Path:
    """Every schedule of each workload on ``arch`` beside the baselines (conventional, pinned, best
    non-interleaved), the iso-traffic buffers, a CSV and a gains plot; return REPORT.md's path."""
    from tsilstm.report.accel_plots import plot_gains  # matplotlib: slow import

    started = time.perf_counter()
    rows = run_parallel(_evaluate_pair, [(SweepPoint(w), arch) for w in workload_names], jobs=jobs, label="report")
    write_csv(rows, out / "design.csv")
    summary = gains_summary(rows)
    plots = plot_gains(summary, out / "gains", f"tsi and tsi-pinned vs conventional, {arch.name}")
    lines = [
        f"# Time-step interleaving on {arch.name}: model report", "",
        f"Generated by `{command}` in {time.perf_counter() - started:.0f} s from the accelerator model (`tsilstm.accel`).", "",
        "## Design", "", arch_table([arch]), "",
        "## Per workload", "",
        "Energy and throughput of tsi and tsi-pinned against conventional, pinned and the best non-interleaved schedule "
        "on this design (`best`: the least-energy of conventional, snake and pinned).", "",
        gains_table(summary), "",
    ]
    for name in workload_names:
        lines += iso_traffic_section(name, arch)
    lines += ["## Plots", ""] + [f"![{p.stem}]({p.name})" for p in plots if p.suffix == ".png"] + [""]
    (out / "REPORT.md").write_text("\n".join(lines), encoding="utf-8")
    click.echo(f"wrote {out / 'REPORT.md'}, design.csv and {len(plots)} plot files")
    return out / "REPORT.md"


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
