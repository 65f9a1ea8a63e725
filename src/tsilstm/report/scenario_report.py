"""REPORT.md text of a named scenario (``tsilstm report --scenario paper``): the headline with the
hoisting and interleaving gains apart, its assumptions, the share of the neighbourhood in which
each headline figure holds, the region as a table, and where the model cannot reach the paper."""

from __future__ import annotations

from typing import Any

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.report.accel_report import arch_table
from tsilstm.report.accel_tables import markdown_table
from tsilstm.report.paper_figures import PAPER_ENERGY_BAND, PAPER_THROUGHPUT_GAIN
from tsilstm.report.paper_scenario import HEADLINES

REGION_LABELS = {
    "energy_vs_naive": "energy in band\nvs naive", "throughput_vs_naive": ">= +105 % speed\nvs naive",
    "energy_vs_best": "energy in band\nvs best non-interl.", "throughput_vs_best": ">= +105 % speed\nvs best non-interl.",
}
"""The headline figures the region table and plot show per (DRAM interface, batch), with short labels."""
REGION_COLUMNS = tuple(REGION_LABELS)


def _pct(value: float) -> str:
    return f"{value:+.1f} %"


def headline_sentence(result: dict[str, Any]) -> str:
    """The scenario's summary in one paragraph: tsi against naive split into hoisting and
    interleaving, tsi against the best non-interleaved schedule, and the share of the
    neighbourhood in which each paper figure holds (the README quotes these words)."""
    low, high = PAPER_ENERGY_BAND
    rows = result["results"]
    spans = {}
    for key, part in (("naive", "vs_naive"), ("hoisting", "hoisting"), ("interleaving", "interleaving"), ("best", "vs_best")):
        energies = [r[part]["energy_change_pct"] for r in rows]
        gains = [r[part]["throughput_gain_pct"] for r in rows]
        spans[key] = (f"{min(energies):+.0f}..{max(energies):+.0f} %", f"{min(gains):+.0f}..{max(gains):+.0f} %")
    heads = result["headlines"]
    hood = result["neighbourhood"]

    def share(key: str) -> str:
        return f"{100 * heads[key]['holds_fraction']:.0f} %"

    return (
        f"On the edge design at {result['node_nm']} nm with {result['dram'].upper()} and {result['batch']} sequences "
        f"batched, tsi against `naive` changes energy by {spans['naive'][0]} and throughput by {spans['naive'][1]}; "
        f"of that, hoisting W_x (conventional against naive) gives {spans['hoisting'][0]} energy and "
        f"{spans['hoisting'][1]} throughput and interleaving (tsi against conventional) {spans['interleaving'][0]} and "
        f"{spans['interleaving'][1]}. Against the best non-interleaved schedule tsi gives {spans['best'][0]} energy and "
        f"{spans['best'][1]} throughput. Over {hood['points']} points ({len(hood['nodes_nm'])} nodes x "
        f"{len(hood['dram_types'])} DRAM interfaces x {len(hood['batches'])} batches x {len(hood['workloads'])} "
        f"workloads) the paper's energy band ({low:+.1f}..{high:+.1f} %) holds against naive in {share('energy_vs_naive')} "
        f"of them and against the best non-interleaved schedule in {share('energy_vs_best')}; a throughput gain of "
        f"+{result['paper']['throughput_gain_at_least_pct']:.0f} % or more (the paper: +{PAPER_THROUGHPUT_GAIN:.1f} %) "
        f"holds against naive in {share('throughput_vs_naive')} and against the best non-interleaved schedule in "
        f"{share('throughput_vs_best')}; both paper figures together hold against naive in {share('both_vs_naive')}."
    )


def _main_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for row in rows:
        for label, part in (("tsi vs naive", "vs_naive"), ("  hoisting: conventional vs naive", "hoisting"),
                            ("  interleaving: tsi vs conventional", "interleaving"),
                            (f"tsi vs best non-interleaved ({row['vs_best']['best']})", "vs_best")):
            out.append([row["workload"], label, _pct(row[part]["energy_change_pct"]), _pct(row[part]["throughput_gain_pct"])])
    return out


def region_rows(points: list[dict[str, Any]]) -> list[list[str]]:
    """One row per (DRAM interface, batch): for each of ``REGION_COLUMNS``, the nodes (nm) at which
    it holds for every workload, or "-"."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for point in points:
        groups.setdefault((point["dram"], point["batch"]), []).append(point)
    rows = []
    for (dram, batch), group in groups.items():
        cells = []
        for key in REGION_COLUMNS:
            nodes = sorted({p["node_nm"] for p in group}, reverse=True)
            held = [n for n in nodes if all(p["holds"][key] for p in group if p["node_nm"] == n)]
            cells.append(", ".join(map(str, held)) if held else "-")
        rows.append([dram, str(batch), *cells])
    return rows


def render_scenario(result: dict[str, Any], arch: ArchConfig, command: str, plot_files: list[str] | None = None) -> str:
    """Markdown of ``run_scenario``'s ``result`` on ``arch``, quoting ``command``."""
    low, high = PAPER_ENERGY_BAND
    heads = result["headlines"]
    lines = [
        f"# Scenario `{result['scenario']}`: {result['title']}",
        "",
        f"Generated by `{command}`. Every figure is computed by the accelerator model (`tsilstm.accel`) when the "
        "report runs; the assumptions below are what the figures depend on.",
        "",
        f"The paper (Park et al., ISLPED 2020) reports energy {low:+.1f} .. {high:+.1f} % and throughput "
        f"+{PAPER_THROUGHPUT_GAIN:.1f} % against its conventional scheme.",
        "",
        "## Headline",
        "",
        headline_sentence(result),
        "",
        "## Assumptions",
        "",
        *[f"- {text}" for text in result["assumptions"]],
        "",
        arch_table([arch]),
        "",
        "## Figures at the scenario's assumptions",
        "",
        markdown_table(["workload", "comparison", "energy", "throughput"], _main_rows(result["results"])),
        "",
        "## The region: where each headline figure holds",
        "",
        markdown_table(
            ["headline figure", "holds in", "DRAM interfaces", "nodes (nm)", "batches"],
            [[HEADLINES[key], f"{h['holds_points']} of {h['points']} ({100 * h['holds_fraction']:.0f} %)",
              ", ".join(h["drams"]) or "-", ", ".join(map(str, h["nodes_nm"])) or "-", ", ".join(map(str, h["batches"])) or "-"]
             for key, h in heads.items()],
        ),
        "",
        "Per DRAM interface and batch, the nodes at which each figure holds for both workloads:",
        "",
        markdown_table(["DRAM", "batch", *REGION_COLUMNS], region_rows(result["region"])),
        "",
        *[f"![{name}]({name})" for name in (plot_files or [])],
        "",
        "## Where the model cannot reach the paper's figures",
        "",
        *[f"- {text}" for text in result["limits"]],
        "",
    ]
    return "\n".join(lines)
