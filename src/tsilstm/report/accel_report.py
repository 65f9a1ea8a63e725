"""The paper-style comparison (``tsilstm report``): for each workload, energy reduction and
throughput gain of tsi and tsi-pinned against naive, conventional and snake on the shipped
presets, beside the band Park et al. (ISLPED 2020) report, plus sweeps that show what moves them."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.baselines import BEST_NON_INTERLEAVED
from tsilstm.accel.energy import static_power_w
from tsilstm.accel.hardware_cost import design_cost
from tsilstm.accel.baselines import NON_INTERLEAVED
from tsilstm.accel.iso_traffic import iso_traffic_view, recurrent_weight_bytes
from tsilstm.accel.workloads import get_workload
from tsilstm.accel.evaluate import WEIGHTS_MEANING
from tsilstm.accel.sweep import SweepPoint
from tsilstm.report.paper_figures import PAPER_ENERGY_BAND, PAPER_THROUGHPUT_GAIN
from tsilstm.report.accel_tables import markdown_table

REPORT_WORKLOADS = (
    "deepbench-lstm-256-b1", "deepbench-lstm-512-b1", "deepbench-lstm-1024-b1", "deepbench-lstm-1536-b1",
    "deepbench-lstm-2048-b1", "deepbench-lstm-2048-b4",
    "deepbench-gru-1024-b1-t1500", "deepbench-gru-1536-b1-t375", "deepbench-gru-2560-b4-t187", "deepbench-gru-2816-b1-t750",
    "mos-ptb", "awd-lstm-ptb", "lm-2x1500", "gnmt-8x1024", "speech-2048", "speech-lstmp-2048-p512",
)
SERVER_WORKLOADS = (
    "deepbench-lstm-1024-b1", "deepbench-lstm-2048-b1", "deepbench-lstm-2048-b4", "deepbench-gru-2816-b1-t750",
    "gnmt-8x1024", "speech-2048",
)
FOCUS_WORKLOAD = "deepbench-lstm-2048-b1"
BUFFER_SWEEP_BYTES = tuple(2**k * 1024 for k in range(7, 16))  # 128 KiB .. 32 MiB
BANDWIDTH_SWEEP = (3.2e9, 6.4e9, 12.8e9, 25.6e9, 51.2e9, 102.4e9, 204.8e9)
BATCH_SWEEP = (1, 4, 16, 64)
TARGETS = ("tsi", "tsi-pinned")
BASELINES = ("naive", "conventional", "snake", "pinned", BEST_NON_INTERLEAVED)
TABLE_BASELINES = ("conventional", "pinned", BEST_NON_INTERLEAVED)
"""The baselines of the per-workload tables (naive and snake are in the summary rows too)."""


def report_points(focus_workload: str = FOCUS_WORKLOAD) -> dict[str, list[SweepPoint]]:
    """The points the report evaluates, by section; the buffer, bandwidth and batch sections sweep
    ``focus_workload``."""
    return {
        "edge": [SweepPoint(w) for w in REPORT_WORKLOADS],
        "server": [SweepPoint(w) for w in SERVER_WORKLOADS],
        "buffer": [SweepPoint(focus_workload, weight_buffer_bytes=b) for b in BUFFER_SWEEP_BYTES],
        "bandwidth": [SweepPoint(focus_workload, dram_bandwidth_bytes_per_s=b) for b in BANDWIDTH_SWEEP],
        "batch": [SweepPoint(focus_workload, batch=n) for n in BATCH_SWEEP],
    }


def gains_summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per workload: energy change and throughput gain (%) of each target against each baseline,
    the recurrent-weight traffic ratio tsi / conventional and the fallbacks."""
    by_workload: dict[tuple, dict[str, dict[str, Any]]] = {}
    for row in rows:
        key = (row["workload"], row["batch"], row["weight_buffer_bytes"], row["dram_bandwidth_bytes_per_s"])
        by_workload.setdefault(key, {})[row["schedule"]] = row
    out = []
    for (workload, batch, buffer, bandwidth), schedules in by_workload.items():
        entry: dict[str, Any] = {
            "workload": workload, "batch": batch, "weight_buffer_bytes": buffer, "dram_bandwidth_bytes_per_s": bandwidth,
            "recurrent_matrix_bytes": schedules["conventional"]["recurrent_matrix_bytes"],
            "fallbacks": sorted({
                f"{s} -> {r['executed']}" for s, r in schedules.items() if r["executed"] != s and not r.get("stands_for")
            }),
            "best_non_interleaved_is": schedules[BEST_NON_INTERLEAVED]["stands_for"],
        }
        for target in TARGETS:
            for base in BASELINES:
                t, b = schedules[target], schedules[base]
                entry[f"{target}_vs_{base}_energy_pct"] = 100 * (t["energy_pj"] / b["energy_pj"] - 1)
                entry[f"{target}_vs_{base}_throughput_pct"] = 100 * (t["steps_per_second"] / b["steps_per_second"] - 1)
            entry[f"{target}_energy_change_pct"] = entry[f"{target}_vs_conventional_energy_pct"]
            entry[f"{target}_throughput_gain_pct"] = entry[f"{target}_vs_conventional_throughput_pct"]
            conv_w = schedules["conventional"]["weight_bytes"]
            entry[f"{target}_weight_ratio"] = schedules[target]["weight_bytes"] / conv_w if conv_w else float("nan")
        out.append(entry)
    return out


def iso_traffic_section(workload_name: str, arch: ArchConfig) -> list[str]:
    """Markdown lines: the weight buffer each non-interleaved schedule needs to match tsi's and
    tsi-pinned's recurrent-weight traffic on ``arch``, and the area and leakage that adds."""
    workload = get_workload(workload_name)
    rows = []
    for target in TARGETS:
        view = iso_traffic_view(workload, arch, target, recurrent_weight_bytes(workload, target, arch))
        for schedule in NON_INTERLEAVED:
            entry = view[schedule]
            rows.append([
                target, schedule, _mib(entry["weight_buffer_bytes"]), f"{entry['extra_area_mm2']:.2f} mm^2",
                f"{entry['extra_leakage_w'] * 1e3:.2f} mW",
            ])
    return [
        f"## What interleaving saves in silicon ({workload_name}, {arch.name}, {arch.node_nm} nm)",
        "",
        f"The weight buffer each non-interleaved schedule needs to move no more recurrent weights than tsi does with "
        f"{_mib(arch.weight_buffer_bytes)}, and the area and leakage that larger buffer adds (bit cells of the node, "
        "array efficiency and leakage per bit as in `src/tsilstm/accel/technology.py`; leakage per bit is an estimate).",
        "",
        markdown_table(["matching", "schedule", "buffer needed", "extra area", "extra leakage"], rows),
        "",
    ]


def _pct(value: float) -> str:
    return f"{value:+.1f} %"


def _mib(num: float) -> str:
    return f"{num / 2**20:.1f} MiB"


def gains_table(summary: list[dict[str, Any]]) -> str:
    """Markdown: one row per workload, energy and throughput of tsi / tsi-pinned vs each of
    ``TABLE_BASELINES`` (best = best-non-interleaved, with the schedule it stands for)."""
    short = {BEST_NON_INTERLEAVED: "best"}
    headers = ["workload", "M", "W_h tsi/conv", "best is"]
    for target in TARGETS:
        headers += [f"{target} energy vs {short.get(b, b)}" for b in TABLE_BASELINES]
        headers += [f"{target} speed vs {short.get(b, b)}" for b in TABLE_BASELINES]
    rows = []
    for s in summary:
        row = [
            s["workload"] + (" (fallback)" if s["fallbacks"] else ""), _mib(s["recurrent_matrix_bytes"]),
            f"{s['tsi_weight_ratio']:.3f}", s["best_non_interleaved_is"],
        ]
        for target in TARGETS:
            row += [_pct(s[f"{target}_vs_{b}_energy_pct"]) for b in TABLE_BASELINES]
            row += [_pct(s[f"{target}_vs_{b}_throughput_pct"]) for b in TABLE_BASELINES]
        rows.append(row)
    return markdown_table(headers, rows)


def arch_table(archs: list[ArchConfig]) -> str:
    """Markdown: the parameters of the accelerators used."""
    keys = [
        ("clock", lambda a: f"{a.clock_hz / 1e6:.0f} MHz"), ("MAC units", lambda a: str(a.mac_units)),
        ("weight / activation / accumulator bits", lambda a: f"{a.weight_bits} / {a.activation_bits} / {a.accumulator_bits} ({a.arithmetic})"),
        ("weight buffer", lambda a: f"{a.weight_buffer_bytes // 1024} KiB"),
        ("activation buffer", lambda a: f"{a.activation_buffer_bytes // 1024} KiB"),
        ("tile", lambda a: f"{a.tile_units} units"),
        ("DRAM bandwidth / latency", lambda a: f"{a.dram_bandwidth_bytes_per_s / 1e9:.1f} GB/s / {a.dram_latency_ns:.0f} ns"),
        ("DRAM energy", lambda a: f"{a.dram_pj_per_bit} pJ/bit"),
        ("MAC energy", lambda a: f"{a.mac_energy_pj:.2f} pJ"),
        ("technology node", lambda a: f"{a.node_nm} nm"),
        ("area (buffers, MACs, cell unit)", lambda a: f"{design_cost(a).total_area_mm2:.2f} mm^2"),
        ("static power", lambda a: f"{static_power_w(a) * 1e3:.1f} mW" + (" (set)" if a.static_power_w is not None else " (leakage model)")),
    ]
    return markdown_table(["parameter"] + [a.name for a in archs], [[k] + [f(a) for a in archs] for k, f in keys])


def _range(values: list[float]) -> str:
    return f"{min(values):+.1f} .. {max(values):+.1f} % (median {statistics.median(values):+.1f} %)"


def _gap_columns(rows: list[dict[str, Any]]) -> list[list[str]]:
    """Per buffer size (ascending): tsi-pinned's recurrent-weight MB per step and the ideal (M - B)/2."""
    pinned = sorted((r for r in rows if r["schedule"] == "tsi-pinned"), key=lambda r: r["weight_buffer_bytes"])
    return [[f"{r['weight_bytes_per_step'] / 1e6:.2f}", f"{r['ideal_tsi_pinned_weight_bytes_per_step'] / 1e6:.2f}"] for r in pinned]


def _sweep_line(rows: list[dict[str, Any]], key: str, fmt) -> list[list[str]]:  # type: ignore[no-untyped-def]
    summary = gains_summary(rows)
    out = []
    for s in sorted(summary, key=lambda s: s[key] if key != "batch" else s["batch"]):
        out.append([fmt(s[key]), f"{s['tsi_weight_ratio']:.3f}", _pct(s["tsi_energy_change_pct"]), _pct(s["tsi_throughput_gain_pct"]),
                    _pct(s["tsi-pinned_energy_change_pct"]), _pct(s["tsi-pinned_throughput_gain_pct"])])
    return out


def render_markdown(
    rows: dict[str, list[dict[str, Any]]], archs: dict[str, ArchConfig], plots: list[Path], out_dir: Path,
    elapsed_s: float, command: str, focus_workload: str = FOCUS_WORKLOAD,
) -> str:
    """The report text (markdown) from the evaluated rows of every section of ``report_points``,
    whose buffer, bandwidth and batch sections sweep ``focus_workload``."""
    edge = gains_summary(rows["edge"])
    server = gains_summary(rows["server"])
    single = [s for s in edge if s["workload"].startswith("deepbench")]
    energy_conv = [s["tsi_energy_change_pct"] for s in edge if not s["fallbacks"]]
    speed_conv = [s["tsi_throughput_gain_pct"] for s in edge if not s["fallbacks"]]
    energy_naive = [s["tsi_vs_naive_energy_pct"] for s in edge if not s["fallbacks"]]
    speed_naive = [s["tsi_vs_naive_throughput_pct"] for s in edge if not s["fallbacks"]]
    focus = next(s for s in edge if s["workload"] == focus_workload)
    lines = [
        "# Time-step interleaving on an LSTM accelerator: model report",
        "",
        f"Generated by `{command}` in {elapsed_s:.0f} s. Every figure below comes from the accelerator model "
        "(`tsilstm.accel`): closed-form traffic counts checked against the plan's buffer simulation, and an event model "
        "of the DRAM channel, the MAC array and the cell unit. Nothing here is measured on silicon.",
        "",
        "## Accelerators",
        "",
        arch_table([archs["edge"], archs["server"]]),
        "",
        "Sources of every parameter are the comments of `src/tsilstm/accel/presets/*.toml` and "
        "`src/tsilstm/accel/energy_table.py` (Horowitz, ISSCC 2014, for SRAM, MAC and DRAM-access energies).",
        "",
        f"Traffic kinds: {WEIGHTS_MEANING}.",
        "",
        "## Ours beside the paper",
        "",
        markdown_table(
            ["", "energy vs conventional", "throughput vs conventional"],
            [
                ["Park et al., ISLPED 2020 (reported)", f"{PAPER_ENERGY_BAND[0]:+.1f} .. {PAPER_ENERGY_BAND[1]:+.1f} %", f"+{PAPER_THROUGHPUT_GAIN:.1f} %"],
                [f"tsi, edge preset, {len(energy_conv)} workloads", _range(energy_conv), _range(speed_conv)],
                ["tsi vs naive (no hoisting), same workloads", _range(energy_naive), _range(speed_naive)],
                [f"tsi, {focus_workload}, edge", _pct(focus["tsi_energy_change_pct"]), _pct(focus["tsi_throughput_gain_pct"])],
            ],
        ),
        "",
        f"For {focus_workload} on the edge preset tsi moves {focus['tsi_weight_ratio']:.3f} x the recurrent-weight "
        "DRAM bytes of conventional (25 steps need at least 13 loads of W_h: 13/25 = 0.52).",
        "",
        "## Per workload (edge preset)",
        "",
        "Energy and throughput of tsi and tsi-pinned against conventional, pinned and the best non-interleaved "
        "schedule on the same design (`best`: the least-energy of conventional, snake and pinned; `best is` names it); "
        "`W_h tsi/conv` is the recurrent-weight DRAM traffic ratio.",
        "",
        gains_table(edge),
        "",
    ]
    fallbacks = sorted({f"{s['workload']}: {f}" for s in edge + server for f in s["fallbacks"]})
    if fallbacks:
        lines += [
            "Fallbacks: an LSTM with a projection (LSTMP) cannot use time-step interleaving (every h_t block needs all "
            "of m_t, docs/design.md section 3), so the generator runs another schedule and says so:",
            "",
            *[f"- {f}" for f in fallbacks],
            "",
        ]
    lines += ["## Per workload (server preset)", "", gains_table(server), ""]
    lines += iso_traffic_section(focus_workload, archs["edge"])
    lines += [
        f"## What moves our figures ({focus_workload} unless said otherwise)",
        "",
        "Our tsi gain against conventional is bounded by the traffic ratio: when the DRAM channel is the "
        "bottleneck, time and DRAM energy follow bytes, and conventional moves W_x + T x M while tsi moves "
        "W_x + about (T + 1)/2 x M (lower tiles ceil(T/2) times, upper tiles floor(T/2) + 1 times). With "
        "X = H and T = 25 that is 26 M against 14 M: at most +86 % throughput; at T = 1500, +100 %. The paper's +110.8 % exceeds what any hoisting baseline allows at T = 25; against "
        "our naive baseline (W_x streamed with W_h every step) tsi gains far more (table above). "
        "So the baseline's treatment of W_x is the first assumption that moves the figure.",
        "",
        "**Buffer size.** Gains shrink as the buffer grows: snake and pinned save B per step, tsi-pinned "
        "(M - B)/2; once W_h fits, every schedule loads it once and the gain is zero. The last two columns "
        "compare tsi-pinned's recurrent-weight traffic per step with the ideal (M - B)/2 of docs/design.md "
        "section 3 (the gap: the plans keep one tile of streaming room, the model one more for double "
        "buffering, and the first and last half sweeps load what a longer sequence would share).",
        "",
        markdown_table(
            ["weight buffer", "W_h tsi/conv", "tsi energy", "tsi speed", "tsi-pinned energy", "tsi-pinned speed",
             "tsi-pinned W_h MB/step", "(M - B)/2 MB"],
            [line + gap for line, gap in zip(
                _sweep_line(rows["buffer"], "weight_buffer_bytes", lambda b: f"{b // 1024} KiB"), _gap_columns(rows["buffer"])
            )],
        ),
        "",
        "**Bandwidth.** With more bandwidth the MAC array becomes the bottleneck and halving the weight "
        "traffic stops paying in time (energy still falls with the bytes):",
        "",
        markdown_table(
            ["DRAM bandwidth", "W_h tsi/conv", "tsi energy", "tsi speed", "tsi-pinned energy", "tsi-pinned speed"],
            _sweep_line(rows["bandwidth"], "dram_bandwidth_bytes_per_s", lambda b: f"{b / 1e9:.1f} GB/s"),
        ),
        "",
        "**Batch.** Each tile use serves the whole batch, so larger batches need more MAC cycles per byte; "
        "once compute-bound, the traffic saving no longer shows in the time:",
        "",
        markdown_table(
            ["batch", "W_h tsi/conv", "tsi energy", "tsi speed", "tsi-pinned energy", "tsi-pinned speed"],
            _sweep_line(rows["batch"], "batch", lambda n: str(n)),
        ),
        "",
        "**Where tsi loses.** When the MAC array, not DRAM, is the bottleneck (batch 64 above, or W_h "
        "resident), tsi's sweep turnarounds expose about one cell-update latency per step (phase 2 starts with "
        "the diagonal tile that needs the row-block finished last), which conventional's row-major order "
        "hides behind the other row-blocks' tiles: tsi is then up to a few 0.01 % slower on DeepBench "
        "sizes, and more on tiny tiles whose cell updates dominate. tsi-pinned streams through a few tiles "
        "of room beside its pinned tiles (the plan's one tile and the config's prefetch_tiles), so when the DRAM is fast its loads run ahead less far than plain tsi's "
        "and it can trail tsi slightly in time while still moving fewer bytes. The tests state the regime "
        "where tsi is never slower: W_h streams and conventional spends at least twice as long on DRAM as "
        "on compute.",
        "",
        "**Other assumptions that move the figures:** the DRAM energy per bit (8 pJ/bit LPDDR4 on edge; with "
        "DDR3-class 70 pJ/bit DRAM dominates even more and the energy saving approaches the traffic saving); "
        "static power (spent for the whole run, so a faster schedule also saves leakage); the sequence "
        "length (short sequences pay the first and last half sweeps: T = 1 gives no reuse); the tile size "
        "(it sets the streaming room and the pinned granularity); whether pre-activations spill "
        "(activation buffer); and the share of the work that is not recurrent (W_x hoisting, a projection).",
        "",
        "Single-layer DeepBench workloads in this report: " + ", ".join(s["workload"] for s in single) + ".",
        "",
        "## Plots",
        "",
    ]
    for path in plots:
        if path.suffix == ".png":
            lines += [f"![{path.stem}]({path.relative_to(out_dir).as_posix()})", ""]
    lines += [
        "## Model assumptions",
        "",
        "- Each layer is its own recurrence (layer by layer, W_x hoisted per layer); the two directions of a "
        "bidirectional layer run one after the other; times and energies add up.",
        "- The weight buffer keeps room for loads running ahead: plans are generated for B minus "
        "prefetch_tiles tiles (2 in the presets: double buffering and one load in flight); schedules that pin "
        "nothing use the whole buffer to run ahead.",
        "- DRAM: one channel, loads in plan order, a load may run ahead while the buffer has room; latency "
        "is paid per load but overlaps with earlier transfers.",
        "- MAC array: one tile use at a time, two-entry issue queue (a use waiting for its h lets the next go first).",
        "- Cell unit: one row-block update at a time, 5 (LSTM) or 3 (GRU) activation evaluations per unit.",
        "- Long sequences are extended from short runs once the per-period increment is steady "
        "(tested equal to the full simulation on small cases).",
        "",
    ]
    return "\n".join(lines)
