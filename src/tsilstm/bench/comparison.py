"""One shape, end to end: build every implementation on the same weights and data, check each
against the error reference, time them interleaved, and report ms per step, spread, speedups,
errors and roofline figures as one JSON-ready dict."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tsilstm.bench.harness import measure_interleaved, repeats_within_budget
from tsilstm.bench.roofline import roofline
from tsilstm.bench.runners_tsilstm import TSILSTM_SCHEDULES, TsilstmRunner, runtime_unavailable_reason
from tsilstm.bench.shapes import BenchShape, make_inputs, make_model
from tsilstm.bench.streaming import streamed
from tsilstm.errors import InvalidParameterError, UnsupportedModelError
from tsilstm.validation import require_int

BASELINES = ("torch", "onnxruntime")
ERROR_TOLERANCE = 1e-4  # acceptance: tsilstm outputs equal torch within 1e-4 (fp32 max abs error)
ROOFLINE_SCHEDULES = ("conventional", "tsi")
LONG_CALL_S = 0.05  # calls at least this long (10 x the 5 ms minimum sample) need no calibration round

Runner = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], tuple]


@dataclass(frozen=True)
class CompareSettings:
    """How to compare: baselines ``against``, ``threads``, at most ``repeats`` timed rounds (fewer
    when ``budget_s`` seconds per implementation would be exceeded, never fewer than 3), tsilstm
    ``schedules`` to run, ``warmup`` calls, the weight/data ``seed``, ``prime``: an untimed call
    of the same implementation right before each timed sample (see ``measure_interleaved``), and
    ``stream``: feed every implementation one time step per call, state carried (``streaming``)."""

    against: tuple[str, ...] = BASELINES
    threads: int = 1
    repeats: int = 5
    schedules: tuple[str, ...] = ("tsi", "conventional")
    warmup: int = 1
    budget_s: float | None = None
    seed: int = 0
    prime: bool = True
    stream: bool = False

    def __post_init__(self) -> None:
        parse_against(",".join(self.against))
        require_int("threads", self.threads)
        require_int("repeats", self.repeats)
        require_int("warmup", self.warmup, minimum=0)
        for schedule in self.schedules:
            if schedule not in TSILSTM_SCHEDULES:
                raise InvalidParameterError("schedules", schedule, "each one of " + ", ".join(TSILSTM_SCHEDULES))


def parse_against(text: str) -> tuple[str, ...]:
    """The baselines named in a comma-separated list (``torch,onnxruntime``; empty: none); raises
    naming ``--against`` and the known baselines for an unknown name."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        if name not in BASELINES:
            raise InvalidParameterError("--against", name, "a comma-separated list of " + ", ".join(BASELINES))
    return tuple(dict.fromkeys(names))


def max_abs_error(outputs: tuple, reference: tuple) -> float:
    """Largest absolute difference over output, h_n and c_n (float64), NaN-aware (NaN vs non-NaN
    counts as infinite error)."""
    worst = 0.0
    for got, want in zip(outputs, reference):
        if got is None or want is None:
            continue
        got64, want64 = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
        if got64.shape != want64.shape:
            return float("inf")
        mismatch_nan = np.isnan(got64) != np.isnan(want64)
        if np.any(mismatch_nan):
            return float("inf")
        diff = np.abs(np.nan_to_num(got64 - want64, nan=0.0))
        worst = max(worst, float(diff.max(initial=0.0)))
    return worst


def _tsilstm_name(schedule: str) -> str:
    return f"tsilstm-{schedule}"


def _build_runners(
    shape: BenchShape, settings: CompareSettings
) -> tuple[dict[str, Runner], list[dict[str, str]], Runner | None, dict[str, Any]]:
    """Runners by impl name, skipped impls with reasons, the torch runner (error reference) and
    plan summaries of the tsilstm runners."""
    from tsilstm.bench.baselines_torch import TorchRunner, torch_module_from_model

    model = make_model(shape, settings.seed)
    runners: dict[str, Runner] = {}
    skipped: list[dict[str, str]] = []
    summaries: dict[str, Any] = {}
    torch_runner = None
    try:
        torch_runner = TorchRunner(torch_module_from_model(model), settings.threads)
    except ImportError:
        reason = "torch is not installed (pip install 'tsilstm[torch]')"
        if "torch" in settings.against:
            skipped.append({"impl": "torch", "reason": reason})
    unavailable = runtime_unavailable_reason()
    for schedule in settings.schedules:
        name = _tsilstm_name(schedule)
        if unavailable is not None:
            skipped.append({"impl": name, "reason": unavailable})
            continue
        runners[name] = TsilstmRunner(model, schedule, settings.threads)
    if torch_runner is not None and "torch" in settings.against:
        runners["torch"] = torch_runner
    if "onnxruntime" in settings.against:
        try:
            from tsilstm.bench.baselines_onnxruntime import OnnxRuntimeRunner

            runners["onnxruntime"] = OnnxRuntimeRunner(model, settings.threads)
        except ImportError:
            skipped.append({"impl": "onnxruntime", "reason": "onnx/onnxruntime is not installed (pip install 'tsilstm[onnx]')"})
        except UnsupportedModelError as error:
            skipped.append({"impl": "onnxruntime", "reason": str(error)})
    return runners, skipped, torch_runner, summaries


def _reference_outputs(shape: BenchShape, settings: CompareSettings, torch_runner: Runner | None, x, h0, c0) -> tuple[tuple, str]:
    if torch_runner is not None:
        return torch_runner(x, h0, c0), "torch"
    from tsilstm.cells.stack import run_reference

    return run_reference(make_model(shape, settings.seed), x, h0, c0), "numpy-reference"


def _schedule_ran(summary: dict[str, Any] | None) -> str | None:
    """The schedule a tsilstm row ran (one name when every layer ran the same one)."""
    ran = set(summary["schedules_ran"]) if summary else set()
    return ran.pop() if len(ran) == 1 else None


def compare_shape(
    shape: BenchShape,
    settings: CompareSettings,
    *,
    bandwidth_bytes_per_s: float | None = None,
    llc_bytes: int | None = None,
    on_round: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run every implementation of ``settings`` on ``shape`` in this process and report, per impl:
    ms per step (median of interleaved rounds) with min/max/quartiles, speedup against the faster
    baseline (and each baseline), max abs error against the error reference (torch, else the numpy
    reference), and for tsilstm rows the roofline bound at ``bandwidth_bytes_per_s``."""
    load_before = _load_average()
    x, h0, c0 = make_inputs(shape, settings.seed)
    runners, skipped, torch_runner, summaries = _build_runners(shape, settings)
    reference, reference_name = _reference_outputs(shape, settings, torch_runner, x, h0, c0)
    tsilstm_runners = {name: runner for name, runner in runners.items() if isinstance(runner, TsilstmRunner)}
    if settings.stream:  # the reference ran the whole sequence in one call: streaming must equal it
        runners = {name: streamed(runner) for name, runner in runners.items()}
    errors: dict[str, float] = {}
    first_call_s: dict[str, float] = {}
    for name, runner in runners.items():
        start = time.perf_counter()
        outputs = runner(x, h0, c0)
        first_call_s[name] = time.perf_counter() - start
        errors[name] = max_abs_error(outputs, reference)
        if name in tsilstm_runners:  # after a call: what auto measured and ran at this batch
            ran = tsilstm_runners[name]
            summaries[name] = {"plan_summary": ran.plan_summary(), "schedules_ran": ran.schedules_ran()}
    results: list[dict[str, Any]] = []
    repeats = settings.repeats
    if runners:
        if settings.budget_s is not None:
            calls_per_repeat = 2 if settings.prime else 1
            repeats = repeats_within_budget(
                calls_per_repeat * max(first_call_s.values()), settings.repeats, settings.budget_s
            )
        calls = {name: (lambda r=runner: r(x, h0, c0)) for name, runner in runners.items()}
        # The checked call above already warmed every implementation up; a separate warm-up round is
        # only needed to calibrate calls per sample when some call is short.
        warmup = settings.warmup if min(first_call_s.values()) < LONG_CALL_S else 0
        stats = measure_interleaved(calls, repeats, warmup=warmup, on_round=on_round, prime=settings.prime)
        for name in runners:
            row: dict[str, Any] = {"impl": name, **stats[name].per_step_ms(shape.steps)}
            if settings.stream:  # one step per call
                row["ms_per_call"] = row["ms_per_step"]
            row["repeats"] = len(stats[name].samples_s)
            row["calls_per_sample"] = stats[name].calls_per_sample
            row["max_abs_error"] = errors[name]
            if name.startswith("tsilstm-"):
                row["error_within_tolerance"] = errors[name] <= ERROR_TOLERANCE
                row["schedule_ran"] = _schedule_ran(summaries.get(name))
                row["plan_summary"] = summaries[name]["plan_summary"]
            results.append(row)
    _add_speedups(results)
    rooflines = {}
    if bandwidth_bytes_per_s:
        ran = {row["schedule_ran"] for row in results if row.get("schedule_ran")}
        names = list(ROOFLINE_SCHEDULES) + sorted(ran - set(ROOFLINE_SCHEDULES))
        rooflines = {s: roofline(s, shape, bandwidth_bytes_per_s, llc_bytes).as_dict() for s in names}
        for row in results:
            ran = row.get("schedule_ran")
            if ran in rooflines:
                bound = rooflines[ran]["roofline_ms_per_step"]
                row["roofline_ms_per_step"] = bound
                row["roofline_fraction"] = bound / row["ms_per_step"] if row["ms_per_step"] > 0 else None
    return {
        "shape": shape.as_dict(),
        "threads": settings.threads,
        "mode": "stream" if settings.stream else "sequence",
        "repeats": repeats,
        "error_reference": reference_name,
        "error_tolerance": ERROR_TOLERANCE,
        "results": results,
        "skipped": skipped,
        "roofline": rooflines,
        "load_average_1min": {"before": load_before, "after": _load_average()},
    }


def _load_average() -> float | None:
    """The 1-minute load average (runnable processes; above the core count means contention)."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return None


def _add_speedups(results: list[dict[str, Any]]) -> None:
    """Speedups from the medians (the reported figures) and, as a check on a loaded machine, from
    each implementation's fastest round (``..._best_rounds``)."""
    by_name = {row["impl"]: row["ms_per_step"] for row in results}
    baselines = {name: by_name[name] for name in BASELINES if name in by_name}
    fastest = min(baselines.values()) if baselines else None
    best_baseline = min((row["ms_per_step_min"] for row in results if row["impl"] in BASELINES), default=None)
    conventional = by_name.get("tsilstm-conventional")
    for row in results:
        ms = row["ms_per_step"]
        row["speedup_vs_fastest_baseline"] = fastest / ms if fastest and ms > 0 else None
        best = row["ms_per_step_min"]
        row["speedup_vs_fastest_baseline_best_rounds"] = best_baseline / best if best_baseline and best > 0 else None
        for name, baseline_ms in baselines.items():
            row[f"speedup_vs_{name}"] = baseline_ms / ms if ms > 0 else None
        if row["impl"].startswith("tsilstm-") and conventional and row["impl"] != "tsilstm-conventional":
            row["speedup_vs_tsilstm_conventional"] = conventional / ms if ms > 0 else None
