"""The text of benchmarks/RESULTS.md from a suite result (pure: returns a string).

Sections: the machine; the summary (float32 schedules, tsi at the low-precision weight dtypes, and
``auto`` against the faster fixed schedule); the per-workload table of the float32 schedules
against torch and ONNX Runtime; the low-precision table (tsi at each extra weight dtype against the
int8 peers and OpenVINO); the streaming table (one step per call). Results written before a section
existed (no labels, no streaming entries) render without it.
"""

from __future__ import annotations

from typing import Any

from tsilstm.bench.baseline_catalog import BASELINES, FLOAT32_BASELINES, INT8_BASELINES
from tsilstm.bench.speedups import speedup_key
from tsilstm.bench.suite_run import AUTO_FLOOR, AUTO_GEOMEAN_TARGET, AUTO_WITHIN_BEST, LARGE_HIDDEN, result_row
from tsilstm.units import format_bytes

SCHEDULE_LABELS = ("tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto")


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.3f}" if value < 10 else f"{value:.1f}")


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _load(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"


def _error(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"


def _against(result: dict[str, Any]) -> list[str]:
    """The baselines of the run, in report order."""
    against = set(result["settings"]["against"])
    return [name for name in BASELINES if name in against]


def _extra_dtypes(result: dict[str, Any]) -> list[str]:
    return list(result["settings"].get("extra_tsi_weight_dtypes", []))


def _sequence_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entry in result["entries"] if not entry.get("stream")]


def _stream_entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry for entry in result["entries"] if entry.get("stream")]


def _machine_lines(result: dict[str, Any]) -> list[str]:
    machine = result["machine"]
    caches = ", ".join(f"{level} {format_bytes(size)}" for level, size in machine["cache_bytes"].items())
    bandwidth, after = result["bandwidth"], result["bandwidth_after"]
    versions = result["versions"]
    installed = lambda name: versions.get(name) or "not installed"  # noqa: E731
    return [
        f"- Date: {result['date']}",
        f"- CPU: {machine['cpu_model']}, {machine['logical_cores']} logical cores ({machine['usable_cores']} usable); "
        f"caches (per instance): {caches or 'unknown'}",
        f"- Threads for every implementation: {result['settings']['threads']}",
        f"- Read bandwidth (measured in the same run, {bandwidth['method']}): "
        f"{bandwidth['bandwidth_gbs']:.1f} GB/s before the suite, {after['bandwidth_gbs']:.1f} GB/s after; the "
        f"rooflines use the better, {result['bandwidth_gbs']:.1f} GB/s",
        f"- Load average (1 min) before / after: {_load(machine['load_average_1min'])} / {_load(result['load_average_1min_after'])} "
        "(the machine is shared; other processes add noise)",
        f"- Versions: tsilstm {versions['tsilstm']}, numpy {versions['numpy']}, torch {installed('torch')}, "
        f"onnxruntime {installed('onnxruntime')}, openvino {installed('openvino')}",
    ]


def _summary_table(summary: dict[str, Any]) -> list[str]:
    lines = [
        "| tsilstm row | geomean speedup, hidden >= 1536 | same, from fastest rounds | geomean speedup, all shapes | "
        f"slowest shape | shapes below {AUTO_FLOOR}x | geomean vs fastest int8 peer, hidden >= 1536 | max abs error vs torch |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for label, s in summary.items():
        slowest = f"{_x(s['min_speedup'])} ({s['min_speedup_shape']})" if s["min_speedup"] is not None else "-"
        lines.append(
            f"| {label} | {_x(s['geomean_speedup_hidden_ge_1536'])} ({s['shapes_hidden_ge_1536']} shapes) | "
            f"{_x(s['geomean_speedup_hidden_ge_1536_best_rounds'])} | "
            f"{_x(s['geomean_speedup_all'])} | {slowest} | {len(s['shapes_below_floor'])} | "
            f"{_x(s.get('geomean_speedup_vs_int8_baselines_hidden_ge_1536'))} | {s['max_abs_error']:.2e} |"
        )
    return lines


def _targets_lines(summary: dict[str, Any]) -> list[str]:
    auto = summary.get("tsilstm-auto")
    if not auto or auto["geomean_speedup_hidden_ge_1536"] is None:
        return []
    return [
        f"Targets: geometric-mean speedup >= {AUTO_GEOMEAN_TARGET}x over the hidden >= {LARGE_HIDDEN} shapes against the "
        f"faster of torch and ONNX Runtime; no shape below {AUTO_FLOOR}x with schedule=\"auto\". "
        f"Measured with auto: {_x(auto['geomean_speedup_hidden_ge_1536'])} "
        f"({'met' if auto['geomean_speedup_hidden_ge_1536'] >= AUTO_GEOMEAN_TARGET else 'NOT met'}); "
        f"{len(auto['shapes_below_floor'])} shapes below {AUTO_FLOOR}x "
        f"({'met' if not auto['shapes_below_floor'] else 'NOT met: ' + ', '.join(auto['shapes_below_floor'])})."
    ]


def _auto_vs_best_lines(summary: dict[str, Any]) -> list[str]:
    auto = summary.get("tsilstm-auto")
    if not auto or auto.get("geomean_vs_best_tsilstm_schedule") is None:
        return []
    slower = auto["shapes_more_than_10pct_slower_than_best_schedule"]
    return [
        f"`auto` against the faster fixed schedule (tsi or conventional) per shape: geomean "
        f"{_x(auto['geomean_vs_best_tsilstm_schedule'])}, worst {_x(auto['min_vs_best_tsilstm_schedule'])} "
        f"({auto['min_vs_best_tsilstm_schedule_shape']}); {len(slower)} shapes below {AUTO_WITHIN_BEST}x"
        + (f" ({', '.join(slower)})." if slower else ".")
    ]


def _table(columns: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table: the first column left-aligned, the others right-aligned."""
    return [
        "| " + " | ".join(columns) + " |",
        "| --- |" + " ---: |" * (len(columns) - 1),
        *("| " + " | ".join(cells) + " |" for cells in rows),
    ]


def _auto_cells(entry: dict[str, Any]) -> tuple[str, str]:
    """(auto's ms with the schedule it ran, auto over the faster fixed schedule) of one entry."""
    auto = result_row(entry, "tsilstm-auto")
    if auto is None:
        return "-", "-"
    return f"{_ms(auto['ms_per_step'])} ({auto.get('schedule_ran') or '?'})", _x(auto.get("speedup_vs_best_tsilstm_schedule"))


def _ms_of(entry: dict[str, Any], label: str) -> str:
    row = result_row(entry, label)
    return _ms(row["ms_per_step"]) if row else "-"


def _errors_of_schedules(entry: dict[str, Any]) -> str:
    errors = [row["max_abs_error"] for label in SCHEDULE_LABELS if (row := result_row(entry, label))]
    return f"{max(errors) if errors else float('nan'):.1e}"


def _sequence_table(result: dict[str, Any]) -> list[str]:
    baselines = [name for name in _against(result) if name in FLOAT32_BASELINES]
    columns = (
        ["workload", "steps run / DeepBench", "W_h", "tsi", "conventional", "auto (ran)", "auto / best schedule"]
        + baselines
        + ["tsi speedup", "auto speedup", "tsi vs conventional", "tsi / roofline", "repeats", "load", "max abs error"]
    )
    table_rows = []
    for entry in _sequence_entries(result):
        tsi, auto = result_row(entry, "tsilstm-tsi"), result_row(entry, "tsilstm-auto")
        roofline_fraction = tsi.get("roofline_fraction") if tsi else None
        fits = entry["roofline"].get("tsi", {}).get("weights_fit_in_llc")
        table_rows.append([
            entry["name"], f"{entry['shape']['steps']} / {entry['full_steps']}",
            format_bytes(entry["shape"]["recurrent_weight_bytes"]),
            _ms_of(entry, "tsilstm-tsi"), _ms_of(entry, "tsilstm-conventional"), *_auto_cells(entry),
            *(_ms_of(entry, name) for name in baselines),
            _x(tsi.get("speedup_vs_fastest_baseline") if tsi else None),
            _x(auto.get("speedup_vs_fastest_baseline") if auto else None),
            _x(tsi.get("speedup_vs_tsilstm_conventional") if tsi else None),
            ("-" if roofline_fraction is None else f"{roofline_fraction:.0%}") + (" (fits LLC)" if fits else ""),
            str(entry["repeats"]), _load(entry["load_average_1min"]["before"]), _errors_of_schedules(entry),
        ])
    return _table(columns, table_rows)


def _fastest_int8_peer(entry: dict[str, Any]) -> dict[str, Any] | None:
    peers = [row for name in INT8_BASELINES if (row := result_row(entry, name))]
    return min(peers, key=lambda row: row["ms_per_step"]) if peers else None


def _low_precision_table(result: dict[str, Any]) -> list[str]:
    dtypes = _extra_dtypes(result)
    peers = [name for name in _against(result) if name not in FLOAT32_BASELINES]
    if not dtypes and not peers:
        return []
    tsi_labels = [f"tsilstm-tsi-{dtype}" for dtype in dtypes]
    columns = (
        ["workload", "tsi float32"] + [f"tsi {dtype}" for dtype in dtypes] + peers + ["fastest int8 peer"]
        + [f"tsi {dtype} vs fastest int8 peer" for dtype in dtypes]
        + [f"tsi {dtype} vs faster fp32 baseline" for dtype in dtypes]
        + [f"error tsi {dtype}" for dtype in dtypes] + [f"error {name}" for name in peers]
    )
    table_rows = []
    for entry in _sequence_entries(result):
        fastest = _fastest_int8_peer(entry)
        rows = [result_row(entry, label) for label in tsi_labels]
        peer_rows = [result_row(entry, name) for name in peers]
        cells = [entry["name"], _ms_of(entry, "tsilstm-tsi")]
        cells += [_ms(row["ms_per_step"]) if row else "-" for row in rows]
        cells += [_ms(row["ms_per_step"]) + (" (float32)" if row.get("note") else "") if row else "-" for row in peer_rows]
        cells.append(f"{fastest['impl']} {_ms(fastest['ms_per_step'])}" if fastest else "-")
        cells += [_x(row.get("speedup_vs_fastest_int8_baseline")) if row else "-" for row in rows]
        cells += [_x(row.get("speedup_vs_fastest_baseline")) if row else "-" for row in rows]
        cells += [_error(row["max_abs_error"]) if row else "-" for row in rows + peer_rows]
        table_rows.append(cells)
    return _table(columns, table_rows)


def _stream_table(result: dict[str, Any]) -> list[str]:
    entries = _stream_entries(result)
    if not entries:
        return []
    baselines = _against(result)
    columns = (
        ["workload", "calls", "tsi", "conventional", "auto (ran)", "auto / best schedule"] + baselines
        + ["auto vs faster fp32 baseline"] + [f"auto vs {name}" for name in baselines] + ["repeats", "load", "max abs error"]
    )
    table_rows = []
    for entry in entries:
        auto = result_row(entry, "tsilstm-auto") or {}
        table_rows.append([
            entry["name"], str(entry["shape"]["steps"]), _ms_of(entry, "tsilstm-tsi"),
            _ms_of(entry, "tsilstm-conventional"), *_auto_cells(entry), *(_ms_of(entry, name) for name in baselines),
            _x(auto.get("speedup_vs_fastest_baseline")), *(_x(auto.get(speedup_key(name))) for name in baselines),
            str(entry["repeats"]), _load(entry["load_average_1min"]["before"]), _errors_of_schedules(entry),
        ])
    return _table(columns, table_rows)


def _section(title: str, intro: str, body: list[str]) -> list[str]:
    return [f"## {title}", "", intro, "", *body, ""] if body else []


def render_results_markdown(result: dict[str, Any], command: str) -> str:
    """RESULTS.md for a suite ``result`` (from ``run_suite``) produced by ``command``."""
    shortened = [e for e in _sequence_entries(result) if e["shortened"]]
    skipped = sorted({f"{s['impl']}: {s['reason']}" for e in result["entries"] for s in e["skipped"]})
    notes = sorted({f"{row['impl']}: {row['note']}" for e in result["entries"] for row in e["results"] if row.get("note")})
    stream_summary = result.get("summary_stream") or {}
    lines = [
        f"# Benchmark results: {result['suite']} suite",
        "",
        f"Produced by `{command}` (one process; every implementation on the same weights, inputs and thread "
        "count; timed in interleaved rounds whose order rotates; median of the rounds).",
        "",
        "## Machine",
        "",
        *_machine_lines(result),
        "",
        "## Summary",
        "",
        "Speedup = (ms per step of the faster of torch and ONNX Runtime, float32) / (ms per step of the tsilstm "
        "row), from the medians; 'from fastest rounds' uses each implementation's fastest round instead (less "
        "sensitive to other processes on a shared machine). `tsilstm-tsi-<dtype>` rows run tsi with recurrent "
        "weights of that type; their 'vs fastest int8 peer' compares with the faster of torch-int8 and "
        "onnxruntime-int8.",
        "",
        *_summary_table(result["summary"]),
        "",
        *_targets_lines(result["summary"]),
        "",
        *_auto_vs_best_lines(result["summary"]),
        "",
        "## Per workload (ms per time step, median; float32 weights)",
        "",
        *_sequence_table(result),
        "",
        *_section(
            "Low-precision weights (ms per time step, median)",
            "tsi with bfloat16 / int8 recurrent weights against the dynamically quantized int8 peers "
            "(torch.ao.quantization.quantize_dynamic; onnxruntime.quantization.quantize_dynamic, checked to run "
            "DynamicQuantizeLSTM) and OpenVINO (bf16 inference precision where the CPU has it). Errors are max abs "
            "errors against torch float32 on the same weights and input.",
            _low_precision_table(result),
        ),
        *_section(
            "Streaming (ms per call of one time step, state carried)",
            "Each call feeds one time step and carries the state to the next call, as a speech enhancer or VAD "
            "runs on live audio.",
            _stream_table(result)
            + ([""] + _summary_table(stream_summary) + [""] + _auto_vs_best_lines(stream_summary) if stream_summary else []),
        ),
        "## Notes",
        "",
        f"- {len(shortened)} GRU workloads ran with shortened sequences (the 'steps run / DeepBench' column): "
        "time per step is compared, and it barely depends on the sequence length beyond a few dozen steps."
        if shortened else "- Every workload ran at its full DeepBench length.",
        f"- Repeats: at most {result['settings']['max_repeats']} rounds per workload, fewer (never below 3) where a "
        f"round would exceed {result['settings']['budget_s_per_impl']} s per implementation (the 'repeats' column).",
        "- 'tsi / roofline': the roofline time of tsi (W_h / 2 bytes per step over the measured bandwidth) divided by "
        "the measured time; '(fits LLC)' marks shapes whose W_h fits in the last-level cache, where the DRAM roofline "
        "does not bind.",
        "- 'auto / best schedule': the faster of the tsi and conventional rows divided by auto's time (1.00x: auto "
        "chose the best; below: it lost that much).",
        "- Before each timed sample the harness waits until the other implementations' threads are idle (ONNX "
        "Runtime's pool spins about 30 ms after every run), then makes one untimed call of the same implementation.",
        "- load: the 1-minute load average when the workload started (above the core count: other processes competed).",
        "- max abs error: largest |tsilstm - torch| over output, h_n and c_n on the benchmark's input (tolerance 1e-4 "
        "for float32 weights, looser for low-precision ones).",
        *(f"- {line}" for line in notes),
        *(f"- Not run: {line}" for line in skipped),
        "",
    ]
    return "\n".join(lines)
