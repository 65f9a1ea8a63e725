"""The text of benchmarks/RESULTS.md from a suite result (pure: returns a string)."""

from __future__ import annotations

from typing import Any

from tsilstm.bench.suite_run import AUTO_FLOOR, LARGE_HIDDEN
from tsilstm.units import format_bytes

IMPL_COLUMNS = ("tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", "torch", "onnxruntime")


def _ms(value: float | None) -> str:
    return "-" if value is None else (f"{value:.3f}" if value < 10 else f"{value:.1f}")


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _load(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.2f}"


def _row(entry: dict[str, Any], impl: str) -> dict[str, Any] | None:
    return next((row for row in entry["results"] if row["impl"] == impl), None)


def _machine_lines(result: dict[str, Any]) -> list[str]:
    machine = result["machine"]
    caches = ", ".join(f"{level} {format_bytes(size)}" for level, size in machine["cache_bytes"].items())
    bandwidth, after = result["bandwidth"], result["bandwidth_after"]
    versions = result["versions"]
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
        f"- Versions: tsilstm {versions['tsilstm']}, numpy {versions['numpy']}, torch {versions['torch'] or 'not installed'}, "
        f"onnxruntime {versions['onnxruntime'] or 'not installed'}",
    ]


def _summary_lines(result: dict[str, Any]) -> list[str]:
    lines = [
        "| tsilstm schedule | geomean speedup, hidden >= 1536 | same, from fastest rounds | geomean speedup, all shapes | "
        f"slowest shape | shapes below {AUTO_FLOOR}x | max abs error vs torch |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for impl, s in result["summary"].items():
        slowest = f"{_x(s['min_speedup'])} ({s['min_speedup_shape']})" if s["min_speedup"] is not None else "-"
        lines.append(
            f"| {impl} | {_x(s['geomean_speedup_hidden_ge_1536'])} ({s['shapes_hidden_ge_1536']} shapes) | "
            f"{_x(s['geomean_speedup_hidden_ge_1536_best_rounds'])} | "
            f"{_x(s['geomean_speedup_all'])} | {slowest} | {len(s['shapes_below_0_9'])} | {s['max_abs_error']:.2e} |"
        )
    auto = result["summary"].get("tsilstm-auto")
    lines.append("")
    if auto and auto["geomean_speedup_hidden_ge_1536"] is not None:
        lines.append(
            f"Targets: geometric-mean speedup >= 2x over the hidden >= {LARGE_HIDDEN} shapes against the "
            f"faster of torch and ONNX Runtime; no shape below {AUTO_FLOOR}x with schedule=\"auto\". "
            f"Measured with auto: {_x(auto['geomean_speedup_hidden_ge_1536'])} "
            f"({'met' if auto['geomean_speedup_hidden_ge_1536'] >= 2 else 'NOT met'}); "
            f"{len(auto['shapes_below_0_9'])} shapes below {AUTO_FLOOR}x "
            f"({'met' if not auto['shapes_below_0_9'] else 'NOT met: ' + ', '.join(auto['shapes_below_0_9'])})."
        )
    return lines


def _table_lines(result: dict[str, Any]) -> list[str]:
    header = (
        "| workload | steps run / DeepBench | W_h | tsi | conventional | auto (ran) | torch | onnxruntime | "
        "tsi speedup | auto speedup | tsi vs conventional | tsi / roofline | repeats | load | max abs error |"
    )
    lines = [header, "| --- |" + " ---: |" * 14]
    for entry in result["entries"]:
        cells = {impl: _row(entry, impl) for impl in IMPL_COLUMNS}
        ms = {impl: _ms(row["ms_per_step"]) if row else "-" for impl, row in cells.items()}
        auto = cells["tsilstm-auto"]
        if auto:
            ms["tsilstm-auto"] += f" ({auto.get('schedule_ran') or '?'})"
        tsi = cells["tsilstm-tsi"]
        errors = [row["max_abs_error"] for impl, row in cells.items() if row and impl.startswith("tsilstm-")]
        roofline_fraction = tsi.get("roofline_fraction") if tsi else None
        fits = entry["roofline"].get("tsi", {}).get("weights_fit_in_llc")
        lines.append(
            f"| {entry['name']} | {entry['shape']['steps']} / {entry['full_steps']} | "
            f"{format_bytes(entry['shape']['recurrent_weight_bytes'])} | "
            + " | ".join(ms[impl] for impl in IMPL_COLUMNS)
            + f" | {_x(tsi.get('speedup_vs_fastest_baseline') if tsi else None)} | "
            f"{_x(auto.get('speedup_vs_fastest_baseline') if auto else None)} | "
            f"{_x(tsi.get('speedup_vs_tsilstm_conventional') if tsi else None)} | "
            f"{'-' if roofline_fraction is None else f'{roofline_fraction:.0%}'}{' (fits LLC)' if fits else ''} | "
            f"{entry['repeats']} | {_load(entry['load_average_1min']['before'])} | {max(errors) if errors else float('nan'):.1e} |"
        )
    return lines


def render_results_markdown(result: dict[str, Any], command: str) -> str:
    """RESULTS.md for a suite ``result`` (from ``run_suite``) produced by ``command``."""
    shortened = [e for e in result["entries"] if e["shortened"]]
    skipped = sorted({f"{s['impl']}: {s['reason']}" for e in result["entries"] for s in e["skipped"]})
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
        "Speedup = (ms per step of the faster of torch and ONNX Runtime) / (ms per step of the tsilstm row), from "
        "the medians; 'from fastest rounds' uses each implementation's fastest round instead (less sensitive to "
        "other processes on a shared machine).",
        "",
        *_summary_lines(result),
        "",
        "## Per workload (ms per time step, median)",
        "",
        *_table_lines(result),
        "",
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
        "- load: the 1-minute load average when the workload started (above the core count: other processes competed).",
        "- max abs error: largest |tsilstm - torch| over output, h_n and c_n on the benchmark's input (tolerance 1e-4).",
        *(f"- Not run: {line}" for line in skipped),
        "",
    ]
    return "\n".join(lines)
