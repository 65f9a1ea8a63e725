"""Plots of accelerator-model results (matplotlib, Agg backend), each saved as PNG and SVG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tsilstm.accel.energy import ENERGY_PARTS  # noqa: E402
from tsilstm.report.paper_figures import PAPER_ENERGY_BAND, PAPER_THROUGHPUT_GAIN  # noqa: E402
from tsilstm.units import format_bytes  # noqa: E402

SCHEDULE_STYLE = {
    "naive": ("tab:gray", "x"),
    "conventional": ("tab:red", "o"),
    "snake": ("tab:orange", "s"),
    "pinned": ("tab:purple", "^"),
    "tsi": ("tab:blue", "D"),
    "tsi-pinned": ("tab:green", "v"),
}

ENERGY_PART_LABELS = {
    "dram_weights": "DRAM: recurrent weights W_h",
    "dram_input_weights": "DRAM: input weights W_x",
    "dram_activations": "DRAM: inputs, states, spills",
    "sram_weights": "weight buffer (SRAM)",
    "sram_activations": "activation buffer (SRAM)",
    "mac": "MAC array",
    "cell": "cell unit (activations, products)",
    "static": "leakage x time",
}
"""Readable names of the energy breakdown's parts (``ENERGY_PARTS``) in plots."""
LEGEND_BESIDE = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0}
"""Legend placement beside the axes, off the data."""


def save_figure(fig: plt.Figure, base: Path) -> list[Path]:
    """Save ``fig`` as ``base``.png and ``base``.svg; return both paths."""
    base.parent.mkdir(parents=True, exist_ok=True)
    paths = [base.parent / f"{base.name}.png", base.parent / f"{base.name}.svg"]
    for path in paths:
        fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)
    return paths


def _finish_line_plot(fig: plt.Figure, ax: plt.Axes, title: str, base: Path) -> list[Path]:
    """Title, grid and legend of a line plot, then write it (PNG and SVG)."""
    ax.set_title(title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, **LEGEND_BESIDE)
    return save_figure(fig, base)


def _ticks_at(ax: plt.Axes, values: list[float], labels: list[str]) -> None:
    """x tick labels at the data points only (no minor ticks of a log axis)."""
    ax.set_xticks(values, labels, fontsize=7, rotation=30)
    ax.minorticks_off()


def _by_schedule(rows: list[dict[str, Any]], x_key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["schedule"], []).append(row)
    for series in out.values():
        series.sort(key=lambda r: r[x_key])
    return out


def plot_vs_buffer(rows: list[dict[str, Any]], metric: str, base: Path, title: str) -> list[Path]:
    """``metric`` (``weight_bytes_per_step`` or ``energy_pj_per_step``) against the weight buffer
    size, one line per schedule; for traffic also M per step and the ideal (M - B)/2 line."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    scale, unit = (1e6, "MB") if metric == "weight_bytes_per_step" else (1e6, "uJ")
    series = _by_schedule(rows, "weight_buffer_bytes")
    for schedule, points in series.items():
        color, marker = SCHEDULE_STYLE.get(schedule, ("black", "."))
        ax.plot(
            [p["weight_buffer_bytes"] / 1024 for p in points], [p[metric] / scale for p in points],
            marker=marker, color=color, label=schedule, linewidth=1.4, markersize=4,
        )
    if metric == "weight_bytes_per_step" and rows:
        ref = sorted({(r["weight_buffer_bytes"], r["ideal_tsi_pinned_weight_bytes_per_step"], r["recurrent_matrix_bytes"]) for r in rows})
        xs = [b / 1024 for b, _, _ in ref]
        ax.plot(xs, [ideal / scale for _, ideal, _ in ref], "k--", linewidth=1, label="(M - B)/2")
        ax.plot(xs, [m / scale for _, _, m in ref], "k:", linewidth=1, label="M")
    ax.set_xscale("log", base=2)
    buffers = sorted({r["weight_buffer_bytes"] for r in rows})
    _ticks_at(ax, [b / 1024 for b in buffers], [format_bytes(b).replace(".0 ", " ") for b in buffers])
    ax.set_xlabel("weight buffer B")
    ax.set_ylabel(("recurrent weight DRAM traffic per step (" if metric == "weight_bytes_per_step" else "energy per step (") + unit + ")")
    return _finish_line_plot(fig, ax, title, base)


def plot_vs_bandwidth(rows: list[dict[str, Any]], base: Path, title: str) -> list[Path]:
    """Speedup (steps per second over conventional's at the same bandwidth; over the first schedule
    when conventional is not among the rows) against DRAM bandwidth, one line per schedule."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    series = _by_schedule(rows, "dram_bandwidth_bytes_per_s")
    reference = "conventional" if "conventional" in series else next(iter(series))
    speed_of = {p["dram_bandwidth_bytes_per_s"]: p["steps_per_second"] for p in series[reference]}
    for schedule, points in series.items():
        color, marker = SCHEDULE_STYLE.get(schedule, ("black", "."))
        ax.plot(
            [p["dram_bandwidth_bytes_per_s"] / 1e9 for p in points],
            [p["steps_per_second"] / speed_of[p["dram_bandwidth_bytes_per_s"]] for p in points],
            marker=marker, color=color, label=schedule, linewidth=1.4, markersize=4,
        )
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log", base=2)
    bandwidths = sorted(speed_of)
    _ticks_at(ax, [b / 1e9 for b in bandwidths], [f"{b / 1e9:g}" for b in bandwidths])
    ax.set_xlabel("DRAM bandwidth (GB/s)")
    ax.set_ylabel(f"speedup over {reference} (x)")
    return _finish_line_plot(fig, ax, title, base)


def plot_energy_breakdown(rows: list[dict[str, Any]], base: Path, title: str) -> list[Path]:
    """Stacked bars of the energy breakdown (uJ), one bar per schedule (rows of one point)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    labels = [r["schedule"] for r in rows]
    bottoms = [0.0] * len(rows)
    colors = plt.get_cmap("tab10").colors
    for index, part in enumerate(ENERGY_PARTS):
        values = [r[f"energy_{part}_pj"] / 1e6 for r in rows]
        ax.bar(labels, values, bottom=bottoms, label=ENERGY_PART_LABELS.get(part, part), color=colors[index % len(colors)])
        bottoms = [b + v for b, v in zip(bottoms, values)]
    ax.set_ylabel("energy (uJ)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, **LEGEND_BESIDE)
    ax.tick_params(axis="x", labelrotation=20)
    return save_figure(fig, base)


def plot_gains(summary: list[dict[str, Any]], base: Path, title: str) -> list[Path]:
    """Energy change and throughput gain of tsi and tsi-pinned against conventional per workload,
    beside the paper's reported band (shaded)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, max(3.5, 0.32 * len(summary) + 1.5)), sharey=True)
    names = [s["workload"] for s in summary]
    ys = list(range(len(names)))
    for offset, schedule, color in ((-0.18, "tsi", "tab:blue"), (0.18, "tsi-pinned", "tab:green")):
        left.barh([y + offset for y in ys], [s[f"{schedule}_energy_change_pct"] for s in summary], height=0.34, color=color, label=schedule)
        right.barh([y + offset for y in ys], [s[f"{schedule}_throughput_gain_pct"] for s in summary], height=0.34, color=color, label=schedule)
    limit = 300.0  # a workload whose W_h nearly fits gains far more: clip the axis, print the value
    right.set_xlim(0, limit)
    for y, s in zip(ys, summary):
        for offset, schedule in ((-0.18, "tsi"), (0.18, "tsi-pinned")):
            value = s[f"{schedule}_throughput_gain_pct"]
            if value > limit:
                right.text(limit * 0.98, y + offset, f"+{value:.0f} %", ha="right", va="center", fontsize=6, color="white")
    left.axvspan(*PAPER_ENERGY_BAND, color="gold", alpha=0.3, label="Park et al. 2020 band")
    right.axvline(PAPER_THROUGHPUT_GAIN, color="goldenrod", linestyle="--", label="Park et al. 2020: +110.8 %")
    left.set_yticks(ys, names, fontsize=7)
    left.invert_yaxis()
    left.set_xlabel("energy vs conventional (%)")
    right.set_xlabel("throughput gain vs conventional (%)")
    for ax in (left, right):
        ax.grid(True, axis="x", alpha=0.3)
    handles, labels = left.get_legend_handles_labels()
    more_handles, more_labels = right.get_legend_handles_labels()
    fig.legend(handles + more_handles[-1:], labels + more_labels[-1:], fontsize=7, ncol=4, loc="upper center",
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, base)


def plot_region(points: list[dict[str, Any]], headlines: dict[str, str], base: Path, title: str) -> list[Path]:
    """The region of a scenario: one panel per (headline figure, DRAM interface), nodes down and
    batches across, each cell the share of the workloads at which the figure holds (0 .. 1);
    ``headlines`` maps each figure's key to a short label."""
    drams = sorted({p["dram"] for p in points})
    nodes = sorted({p["node_nm"] for p in points}, reverse=True)
    batches = sorted({p["batch"] for p in points})
    fig, axes = plt.subplots(len(headlines), len(drams), figsize=(2.2 * len(drams) + 1.5, 2.2 * len(headlines)), squeeze=False)
    image = None
    for row, (key, words) in enumerate(headlines.items()):
        for col, dram in enumerate(drams):
            grid = [[0.0] * len(batches) for _ in nodes]
            for i, node in enumerate(nodes):
                for j, batch in enumerate(batches):
                    cell = [p["holds"][key] for p in points if (p["dram"], p["node_nm"], p["batch"]) == (dram, node, batch)]
                    grid[i][j] = sum(cell) / len(cell) if cell else 0.0
            ax = axes[row][col]
            image = ax.imshow(grid, vmin=0.0, vmax=1.0, cmap="Greens", aspect="auto")
            ax.set_xticks(range(len(batches)), [str(b) for b in batches], fontsize=7)
            ax.set_yticks(range(len(nodes)), [f"{n} nm" for n in nodes] if col == 0 else [], fontsize=7)
            if row == 0:
                ax.set_title(dram, fontsize=9)
            if col == 0:
                ax.set_ylabel(words, fontsize=8)
            if row == len(headlines) - 1:
                ax.set_xlabel("batch", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label="share of workloads where it holds")
    fig.suptitle(title, fontsize=10)
    return save_figure(fig, base)
