"""Tables of accelerator-model results: rows with gains against a baseline schedule, rendered with
rich for the terminal and as markdown for reports."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from tsilstm.accel.baselines import BEST_NON_INTERLEAVED
from tsilstm.accel.energy import ENERGY_GROUPS, GAIN_CAUSES, energy_change_by_cause, energy_gain_cause
from tsilstm.accel.evaluate import ScheduleResult

MB = 1e6


def gains_against(result: ScheduleResult, baseline: ScheduleResult | None) -> dict[str, float | None]:
    """Ratios of ``result`` to ``baseline``: recurrent-weight traffic ratio, energy change (a
    fraction, negative = saving) with its split by cause (DRAM traffic, SRAM accesses, arithmetic,
    leakage; fractions of the baseline's energy) and the cause that saves most, and throughput
    ratio (steps/s). None without a baseline."""
    if baseline is None:
        return {"weight_traffic_ratio": None, "energy_change": None, "energy_change_by_cause": None,
                "energy_gain_cause": None, "speedup": None}
    base_weights = baseline.counts.dram_bytes["weights"]
    by_cause = energy_change_by_cause(result.energy_breakdown_pj, baseline.energy_breakdown_pj)
    return {
        "weight_traffic_ratio": result.counts.dram_bytes["weights"] / base_weights if base_weights else None,
        "energy_change": result.energy_pj / baseline.energy_pj - 1.0,
        "energy_change_by_cause": by_cause,
        "energy_gain_cause": energy_gain_cause(by_cause),
        "speedup": result.steps_per_second / baseline.steps_per_second,
    }


def gain_cause_notes(results: list[ScheduleResult], baseline: str = BEST_NON_INTERLEAVED) -> list[str]:
    """One line per result whose energy gain against ``baseline`` comes mostly from something other
    than DRAM traffic (e.g. SRAM accesses when the DRAM traffic is equal), saying so with the split."""
    base = next((r for r in results if r.schedule == baseline), None)
    notes = []
    for result in results:
        if base is None or result.schedule in (baseline, base.stands_for):
            continue
        gains = gains_against(result, base)
        cause = gains["energy_gain_cause"]
        if cause is not None and cause != "dram":
            split = ", ".join(f"{GAIN_CAUSES[g]} {100 * v:+.1f} %" for g, v in gains["energy_change_by_cause"].items() if v)
            notes.append(
                f"{result.schedule}: its energy gain against {baseline} ({100 * gains['energy_change']:+.1f} %) comes from "
                f"{GAIN_CAUSES[cause]}, not from DRAM traffic ({split})"
            )
    return notes


COMPARED_AGAINST = ("conventional", BEST_NON_INTERLEAVED)
"""The baselines whose gains every result row and table carries."""


def result_rows(results: list[ScheduleResult], baselines: tuple[str, ...] = COMPARED_AGAINST) -> list[dict[str, Any]]:
    """One JSON-ready dict per result, with ``vs_<baseline>`` gains for each of ``baselines``
    (None figures when that baseline was not evaluated)."""
    bases = {name: next((r for r in results if r.schedule == name), None) for name in baselines}
    rows = []
    for result in results:
        row = result.as_dict()
        for name, base in bases.items():
            row[f"vs_{name}"] = gains_against(result, base)
        rows.append(row)
    return rows


def _label(result: ScheduleResult) -> str:
    if result.stands_for:
        return f"{result.schedule} ({result.stands_for})"
    if result.fell_back:
        return f"{result.schedule} -> {'+'.join(result.executed_schedules)}"
    return result.schedule


def _fmt_ratio(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "energy":
        return f"{value * 100:+.1f} %"
    return f"{value:.3f}x"


def rich_table(results: list[ScheduleResult], baseline: str = "conventional") -> Table:
    """A terminal table: one row per schedule (traffic, energy with breakdown, time, gains against
    ``baseline`` and against the best non-interleaved schedule)."""
    base = next((r for r in results if r.schedule == baseline), None)
    best = next((r for r in results if r.schedule == BEST_NON_INTERLEAVED), None)
    table = Table()
    columns = (
        "schedule", "W_h MB", "DRAM MB", "energy uJ", "DRAM/SRAM/comp/static %", "time ms", "steps/s",
        f"W_h vs {baseline[:4]}", f"energy vs {baseline[:4]}", f"speed vs {baseline[:4]}", "energy vs best", "speed vs best",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "schedule" else "right", no_wrap=column == "schedule")
    for result in results:
        gains = gains_against(result, base)
        best_gains = gains_against(result, best)
        total = result.energy_pj
        shares = "/".join(
            f"{100 * sum(result.energy_breakdown_pj[k] for k in keys) / total:.0f}" for keys in ENERGY_GROUPS.values()
        )
        table.add_row(
            _label(result),
            f"{result.counts.dram_bytes['weights'] / MB:.1f}",
            f"{result.counts.dram_total_bytes / MB:.1f}",
            f"{total / 1e6:.1f}",
            shares,
            f"{result.seconds * 1e3:.3f}",
            f"{result.steps_per_second:.1f}",
            _fmt_ratio(gains["weight_traffic_ratio"], "ratio"),
            _fmt_ratio(gains["energy_change"], "energy"),
            _fmt_ratio(gains["speedup"], "ratio"),
            _fmt_ratio(best_gains["energy_change"], "energy"),
            _fmt_ratio(best_gains["speedup"], "ratio"),
        )
    return table


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
