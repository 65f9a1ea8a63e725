"""Speedups of one shape's result rows (``comparison.compare_shape``), from the medians (the
reported figures) and, as a check on a loaded machine, from each row's fastest round
(``..._best_rounds``). Rows are told apart by ``label``; a tsilstm row has a ``weight_dtype``."""

from __future__ import annotations

from typing import Any

from tsilstm.bench.baseline_catalog import BASELINES, FLOAT32_BASELINES, INT8_BASELINES

FIXED_SCHEDULE_IMPLS = ("tsilstm-tsi", "tsilstm-conventional")
"""The tsilstm rows that run one schedule; ``auto`` is compared with the faster of them."""


def speedup_key(baseline: str) -> str:
    """The row field of the speedup against ``baseline`` (``speedup_vs_torch_int8``)."""
    return "speedup_vs_" + baseline.replace("-", "_")


def _ratio(numerator: float | None, denominator: float) -> float | None:
    return numerator / denominator if numerator and denominator > 0 else None


def add_speedups(results: list[dict[str, Any]]) -> None:
    """Add to every row: ``speedup_vs_fastest_baseline`` (against the faster float32 baseline,
    torch or ONNX Runtime) and its ``_best_rounds`` form, ``speedup_vs_fastest_int8_baseline``
    (against the faster of torch-int8 and onnxruntime-int8, when run), and ``speedup_vs_<baseline>``
    for each baseline run. tsilstm rows also get ``speedup_vs_tsilstm_conventional`` (the
    conventional row of the same weight dtype), and ``auto`` rows ``speedup_vs_best_tsilstm_schedule``:
    the faster fixed schedule's time over auto's (1.0: auto picked the best; below: it lost)."""
    baseline_ms = {row["label"]: row["ms_per_step"] for row in results if row["label"] in BASELINES}
    fastest = min((baseline_ms[n] for n in FLOAT32_BASELINES if n in baseline_ms), default=None)
    fastest_int8 = min((baseline_ms[n] for n in INT8_BASELINES if n in baseline_ms), default=None)
    best_baseline = min((row["ms_per_step_min"] for row in results if row["label"] in FLOAT32_BASELINES), default=None)
    tsilstm_rows = [row for row in results if "weight_dtype" in row]
    for row in results:
        ms = row["ms_per_step"]
        row["speedup_vs_fastest_baseline"] = _ratio(fastest, ms)
        row["speedup_vs_fastest_baseline_best_rounds"] = _ratio(best_baseline, row["ms_per_step_min"])
        if fastest_int8 is not None:
            row["speedup_vs_fastest_int8_baseline"] = _ratio(fastest_int8, ms)
        for name, other_ms in baseline_ms.items():
            row[speedup_key(name)] = _ratio(other_ms, ms)
    for row in tsilstm_rows:
        same_dtype = [r for r in tsilstm_rows if r["weight_dtype"] == row["weight_dtype"]]
        conventional = next((r["ms_per_step"] for r in same_dtype if r["impl"] == "tsilstm-conventional"), None)
        if conventional is not None and row["impl"] != "tsilstm-conventional":
            row["speedup_vs_tsilstm_conventional"] = _ratio(conventional, row["ms_per_step"])
        fixed = [r["ms_per_step"] for r in same_dtype if r["impl"] in FIXED_SCHEDULE_IMPLS]
        if row["impl"] == "tsilstm-auto" and fixed:
            row["speedup_vs_best_tsilstm_schedule"] = _ratio(min(fixed), row["ms_per_step"])
