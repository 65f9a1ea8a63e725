"""A whole suite in one process: the machine and its read bandwidth (measured before and after),
every entry compared by ``comparison.compare_shape``, and the summary figures the runtime's speed
targets are judged by (geometric-mean speedup, slowest shape under "auto")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from typing import Any, Callable, Sequence

import numpy as np

from tsilstm.version import __version__
from tsilstm.bench.bandwidth import measure_read_bandwidth
from tsilstm.bench.baselines_onnxruntime import onnxruntime_version
from tsilstm.bench.baselines_openvino import openvino_version
from tsilstm.bench.baselines_torch import torch_version
from tsilstm.bench.comparison import CompareSettings, compare_shape
from tsilstm.bench.machine import describe_machine
from tsilstm.bench.suites import SuiteEntry

LARGE_HIDDEN = 1536  # speed target: geometric-mean speedup over the DeepBench shapes with hidden >= 1536
AUTO_FLOOR = 0.95  # speed target: no shape slower than 0.95 x the faster baseline with schedule="auto"
AUTO_GEOMEAN_TARGET = 1.35  # speed target: auto's geomean over the hidden >= 1536 shapes against the faster baseline
AUTO_WITHIN_BEST = 0.9  # auto within 10 % of the faster fixed schedule (tsi or conventional) at every shape


def versions() -> dict[str, str | None]:
    """Versions of tsilstm, numpy, torch, onnxruntime and openvino (None: not installed)."""
    return {
        "tsilstm": __version__,
        "numpy": np.__version__,
        "torch": torch_version(),
        "onnxruntime": onnxruntime_version(),
        "openvino": openvino_version(),
    }


def measurement_context(threads: int) -> dict[str, Any]:
    """Machine, versions, UTC date and the read bandwidth measured now, for the top of a report."""
    bandwidth = measure_read_bandwidth(threads)
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": describe_machine(threads),
        "versions": versions(),
        "bandwidth": bandwidth.as_dict(),
        "bandwidth_gbs": bandwidth.best_gbs,
    }


def geometric_mean(values: Sequence[float]) -> float | None:
    """The geometric mean of positive ``values`` (None for an empty list)."""
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


def result_row(entry: dict[str, Any], label: str) -> dict[str, Any] | None:
    """The row labelled ``label`` (``impl`` in results without labels) of a suite entry, or None."""
    return next((row for row in entry["results"] if row.get("label", row["impl"]) == label), None)


def tsilstm_labels(entries: Sequence[dict[str, Any]]) -> list[str]:
    """The labels of the tsilstm rows over ``entries``, in order of first appearance
    (``tsilstm-tsi``, ``tsilstm-conventional``, ``tsilstm-auto``, ``tsilstm-tsi-bfloat16``, ...)."""
    labels = (row.get("label", row["impl"]) for entry in entries for row in entry["results"] if row["impl"].startswith("tsilstm-"))
    return list(dict.fromkeys(labels))


def summarize_suite(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per tsilstm row label: geometric-mean speedup against the faster float32 baseline over the
    shapes with hidden >= 1536 and over all shapes, the slowest shape's speedup, the shapes below
    AUTO_FLOOR, the geometric-mean speedup against the faster int8 peer over hidden >= 1536 (when int8
    peers ran), for ``auto`` how it fares against the faster fixed schedule (geomean, worst shape,
    shapes more than 10 % slower), and the largest max_abs_error (and how many rows exceed their
    tolerance)."""
    summary: dict[str, Any] = {}
    for label in tsilstm_labels(entries):
        large, every, below, worst_error, over_tolerance = [], [], [], 0.0, 0
        large_best: list[float] = []
        large_int8: list[float] = []
        versus_best: list[tuple[float, str]] = []
        slowest: tuple[float, str] | None = None
        for entry in entries:
            row = result_row(entry, label)
            if row is None:
                continue
            worst_error = max(worst_error, row["max_abs_error"])
            over_tolerance += 0 if row.get("error_within_tolerance", True) else 1
            if row.get("speedup_vs_best_tsilstm_schedule") is not None:
                versus_best.append((row["speedup_vs_best_tsilstm_schedule"], entry["name"]))
            speedup = row.get("speedup_vs_fastest_baseline")
            if entry["shape"]["hidden"] >= LARGE_HIDDEN and row.get("speedup_vs_fastest_int8_baseline"):
                large_int8.append(row["speedup_vs_fastest_int8_baseline"])
            if speedup is None:
                continue
            every.append(speedup)
            if entry["shape"]["hidden"] >= LARGE_HIDDEN:
                large.append(speedup)
                if row.get("speedup_vs_fastest_baseline_best_rounds"):
                    large_best.append(row["speedup_vs_fastest_baseline_best_rounds"])
            if speedup < AUTO_FLOOR:
                below.append(entry["name"])
            if slowest is None or speedup < slowest[0]:
                slowest = (speedup, entry["name"])
        if not every and worst_error == 0.0 and over_tolerance == 0:
            continue
        summary[label] = {
            "geomean_speedup_hidden_ge_1536": geometric_mean(large),
            "shapes_hidden_ge_1536": len(large),
            "geomean_speedup_hidden_ge_1536_best_rounds": geometric_mean(large_best),
            "geomean_speedup_all": geometric_mean(every),
            "min_speedup": slowest[0] if slowest else None,
            "min_speedup_shape": slowest[1] if slowest else None,
            "shapes_below_floor": below,
            "geomean_speedup_vs_int8_baselines_hidden_ge_1536": geometric_mean(large_int8),
            "max_abs_error": worst_error,
            "rows_over_error_tolerance": over_tolerance,
        }
        if versus_best:
            worst = min(versus_best)
            summary[label].update({
                "geomean_vs_best_tsilstm_schedule": geometric_mean([ratio for ratio, _ in versus_best]),
                "min_vs_best_tsilstm_schedule": worst[0],
                "min_vs_best_tsilstm_schedule_shape": worst[1],
                "shapes_more_than_10pct_slower_than_best_schedule": [n for r, n in versus_best if r < AUTO_WITHIN_BEST],
            })
    return summary


def rescale_rooflines(result: dict[str, Any], used_gbs: float, best_gbs: float) -> None:
    """Restate the rooflines of one ``compare_shape`` result computed at ``used_gbs`` for a bandwidth
    of ``best_gbs`` (GB/s): roofline time scales as 1 / bandwidth."""
    scale = used_gbs / best_gbs
    for bound in result["roofline"].values():
        bound["roofline_ms_per_step"] *= scale
    for row in result["results"]:
        if "roofline_ms_per_step" in row:
            row["roofline_ms_per_step"] *= scale
            if row.get("roofline_fraction") is not None:
                row["roofline_fraction"] *= scale


def run_suite(
    suite: str,
    entries: Sequence[SuiteEntry],
    settings: CompareSettings,
    *,
    on_entry: Callable[[int, int, str], None] | None = None,
    on_round: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Compare every entry with ``settings`` in this process, read bandwidth measured before and
    after (the rooflines use the better of the two: the machine's bandwidth with the least
    interference); returns the JSON-ready suite result with its summary."""
    context = measurement_context(settings.threads)
    llc_bytes = context["machine"]["llc_bytes"]
    results = []
    for index, entry in enumerate(entries):
        if on_entry is not None:
            on_entry(index, len(entries), entry.name)
        result = compare_shape(
            entry.shape, dataclasses.replace(settings, stream=entry.stream), bandwidth_bytes_per_s=context["bandwidth_gbs"] * 1e9, llc_bytes=llc_bytes,
            on_round=on_round,
        )
        results.append({"name": entry.name, "full_steps": entry.full_steps, "shortened": entry.shortened,
                        "stream": entry.stream, **result})
    after = measure_read_bandwidth(settings.threads)
    best_gbs = max(context["bandwidth_gbs"], after.best_gbs)
    for result in results:
        rescale_rooflines(result, context["bandwidth_gbs"], best_gbs)
    context["bandwidth_gbs"] = best_gbs
    try:
        load_after = os.getloadavg()[0]
    except OSError:
        load_after = None
    return {
        "suite": suite,
        **context,
        "bandwidth_after": after.as_dict(),
        "load_average_1min_after": load_after,
        "settings": {
            "threads": settings.threads,
            "max_repeats": settings.repeats,
            "budget_s_per_impl": settings.budget_s,
            "against": list(settings.against),
            "schedules": list(settings.schedules),
            "weight_dtype": settings.weight_dtype,
            "extra_tsi_weight_dtypes": list(settings.extra_tsi_weight_dtypes),
            "seed": settings.seed,
        },
        "entries": results,
        "summary": summarize_suite([result for result in results if not result["stream"]]),
        "summary_stream": summarize_suite([result for result in results if result["stream"]]),
    }
