"""A whole suite in one process: the machine and its read bandwidth (measured before and after),
every entry compared by ``comparison.compare_shape``, and the summary figures the runtime's speed
targets are judged by (geometric-mean speedup, slowest shape under "auto")."""

from __future__ import annotations

import datetime as dt
import math
import os
from typing import Any, Callable, Sequence

import numpy as np

import tsilstm
from tsilstm.bench.bandwidth import measure_read_bandwidth
from tsilstm.bench.baselines_onnxruntime import onnxruntime_version
from tsilstm.bench.baselines_torch import torch_version
from tsilstm.bench.comparison import CompareSettings, compare_shape
from tsilstm.bench.machine import describe_machine
from tsilstm.bench.suites import SuiteEntry

LARGE_HIDDEN = 1536  # speed target: geometric-mean speedup over the DeepBench shapes with hidden >= 1536
AUTO_FLOOR = 0.9  # speed target: no shape slower than 0.9 x the faster baseline with schedule="auto"
TSILSTM_IMPLS = ("tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto")


def versions() -> dict[str, str | None]:
    """Versions of tsilstm, numpy, torch and onnxruntime (None: not installed)."""
    return {
        "tsilstm": tsilstm.__version__,
        "numpy": np.__version__,
        "torch": torch_version(),
        "onnxruntime": onnxruntime_version(),
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


def _row(entry: dict[str, Any], impl: str) -> dict[str, Any] | None:
    return next((row for row in entry["results"] if row["impl"] == impl), None)


def summarize_suite(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per tsilstm impl: geometric-mean speedup against the faster baseline over the shapes with
    hidden >= 1536 and over all shapes, the slowest shape's speedup, the shapes below 0.9 x, and
    the largest max_abs_error (and how many rows exceed the tolerance)."""
    summary: dict[str, Any] = {}
    for impl in TSILSTM_IMPLS:
        large, every, below, worst_error, over_tolerance = [], [], [], 0.0, 0
        large_best: list[float] = []
        slowest: tuple[float, str] | None = None
        for entry in entries:
            row = _row(entry, impl)
            if row is None:
                continue
            worst_error = max(worst_error, row["max_abs_error"])
            over_tolerance += 0 if row.get("error_within_tolerance", True) else 1
            speedup = row.get("speedup_vs_fastest_baseline")
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
        summary[impl] = {
            "geomean_speedup_hidden_ge_1536": geometric_mean(large),
            "shapes_hidden_ge_1536": len(large),
            "geomean_speedup_hidden_ge_1536_best_rounds": geometric_mean(large_best),
            "geomean_speedup_all": geometric_mean(every),
            "min_speedup": slowest[0] if slowest else None,
            "min_speedup_shape": slowest[1] if slowest else None,
            "shapes_below_0_9": below,
            "max_abs_error": worst_error,
            "rows_over_error_tolerance": over_tolerance,
        }
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
            entry.shape, settings, bandwidth_bytes_per_s=context["bandwidth_gbs"] * 1e9, llc_bytes=llc_bytes,
            on_round=on_round,
        )
        results.append({"name": entry.name, "full_steps": entry.full_steps, "shortened": entry.shortened, **result})
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
            "seed": settings.seed,
        },
        "entries": results,
        "summary": summarize_suite(results),
    }
