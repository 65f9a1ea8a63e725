"""One shape, end to end: build every implementation on the same weights and data, check each
against the error reference, time them interleaved, and report ms per step, spread, speedups,
errors and roofline figures as one JSON-ready dict."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from tsilstm.bench.baseline_catalog import DEFAULT_BASELINES, build_baseline, missing_package, parse_against
from tsilstm.bench.harness import measure_interleaved, repeats_within_budget
from tsilstm.bench.quiescence import wait_until_quiet
from tsilstm.bench.roofline import roofline
from tsilstm.bench.runners_tsilstm import (
    FLOAT32, TSILSTM_SCHEDULES, TsilstmRunner, runtime_unavailable_reason, tsilstm_weight_dtypes,
)
from tsilstm.bench.shapes import BenchShape, make_inputs, make_model
from tsilstm.bench.speedups import add_speedups
from tsilstm.bench.streaming import streamed
from tsilstm.errors import InvalidParameterError, TsilstmError, UnsupportedModelError
from tsilstm.validation import require_int

ERROR_TOLERANCE = 1e-4  # acceptance: tsilstm fp32 outputs equal torch within 1e-4 (max abs error)
ERROR_TOLERANCE_BY_WEIGHT_DTYPE = {"float32": ERROR_TOLERANCE, "float16": 5e-3, "bfloat16": 1e-2, "int8": 1e-1}
"""Largest max abs error vs torch fp32 a tsilstm row may show at each weight dtype: a check that
the kernel computes the right thing (a wrong kernel errs by O(1)), not an accuracy claim: bf16 and
int8 weights err by about 1e-3 and 1e-2 on the benchmark's unit-scale data."""
ROOFLINE_SCHEDULES = ("conventional", "tsi")
LONG_CALL_S = 0.05  # calls at least this long (10 x the 5 ms minimum sample) need no calibration round

Runner = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], tuple]


def error_tolerance(weight_dtype: str) -> float:
    """The max abs error vs torch fp32 accepted for a tsilstm row with ``weight_dtype`` weights."""
    if weight_dtype not in ERROR_TOLERANCE_BY_WEIGHT_DTYPE:
        raise InvalidParameterError("weight_dtype", weight_dtype,
                                    "one of " + ", ".join(ERROR_TOLERANCE_BY_WEIGHT_DTYPE) + " (an error tolerance is known)")
    return ERROR_TOLERANCE_BY_WEIGHT_DTYPE[weight_dtype]


@dataclass(frozen=True)
class CompareSettings:
    """How to compare: baselines ``against``, ``threads``, at most ``repeats`` timed rounds (fewer
    when ``budget_s`` seconds per implementation would be exceeded, never fewer than 3), tsilstm
    ``schedules`` to run with ``weight_dtype`` weights, and the tsi schedule again at each of
    ``extra_tsi_weight_dtypes`` (rows labelled ``tsilstm-tsi-<dtype>``), ``warmup`` calls, the
    weight/data ``seed``, ``prime``: before each timed sample, wait until the other implementations'
    threads are idle (``quiescence``), then one untimed call of the same implementation (see
    ``measure_interleaved``), and ``stream``: feed every implementation one time
    step per call, state carried (``streaming``)."""

    against: tuple[str, ...] = DEFAULT_BASELINES
    threads: int = 1
    repeats: int = 5
    schedules: tuple[str, ...] = ("tsi", "conventional")
    warmup: int = 1
    budget_s: float | None = None
    seed: int = 0
    prime: bool = True
    stream: bool = False
    weight_dtype: str = FLOAT32
    extra_tsi_weight_dtypes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        parse_against(",".join(self.against))
        require_int("threads", self.threads)
        require_int("repeats", self.repeats)
        require_int("warmup", self.warmup, minimum=0)
        for schedule in self.schedules:
            if schedule not in TSILSTM_SCHEDULES:
                raise InvalidParameterError("schedules", schedule, "each one of " + ", ".join(TSILSTM_SCHEDULES))
        known = tsilstm_weight_dtypes()
        for dtype in (self.weight_dtype, *self.extra_tsi_weight_dtypes):
            if dtype not in known:
                raise InvalidParameterError("weight_dtype", dtype, "one of the kernel's weight types: " + ", ".join(known))
            error_tolerance(dtype)

    def tsilstm_rows(self) -> list[tuple[str, str, str]]:
        """(label, schedule, weight dtype) of every tsilstm row: the schedules at ``weight_dtype``
        (labelled ``tsilstm-<schedule>``), then tsi at each extra dtype (``tsilstm-tsi-<dtype>``)."""
        rows = [(_tsilstm_name(schedule), schedule, self.weight_dtype) for schedule in self.schedules]
        extras = dict.fromkeys(d for d in self.extra_tsi_weight_dtypes if d != self.weight_dtype)
        return rows + [(f"{_tsilstm_name('tsi')}-{dtype}", "tsi", dtype) for dtype in extras]


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
) -> tuple[dict[str, Runner], dict[str, dict[str, Any]], list[dict[str, str]], Runner | None]:
    """Runners by row label, the fixed fields of each row by label (impl, and weight_dtype for
    tsilstm rows or precision and any note for baselines), skipped impls with reasons, and the
    torch fp32 runner (the error reference). A tsilstm row at an extra weight dtype that the
    runtime refuses for this shape is skipped with the runtime's reason (a suite goes on); at the
    main weight dtype the error is raised."""
    model = make_model(shape, settings.seed)
    runners: dict[str, Runner] = {}
    fields: dict[str, dict[str, Any]] = {}
    skipped: list[dict[str, str]] = []
    torch_module = None
    if missing_package("torch") is None:
        from tsilstm.bench.baselines_torch import torch_module_from_model

        torch_module = torch_module_from_model(model)
    unavailable = runtime_unavailable_reason()
    for label, schedule, dtype in settings.tsilstm_rows():
        if unavailable is not None:
            skipped.append({"impl": label, "reason": unavailable})
            continue
        try:
            runners[label] = TsilstmRunner(model, schedule, settings.threads, dtype)
        except TsilstmError as error:  # e.g. a layer the kernel cannot serve at an extra dtype
            if dtype == settings.weight_dtype:
                raise
            skipped.append({"impl": label, "reason": str(error)})
            continue
        fields[label] = {"impl": _tsilstm_name(schedule), "weight_dtype": dtype}
    for name in settings.against:
        missing = missing_package(name)
        if missing is not None:
            skipped.append({"impl": name, "reason": str(missing)})
            continue
        try:
            runner = build_baseline(name, model, settings.threads, torch_module)
        except UnsupportedModelError as error:
            skipped.append({"impl": name, "reason": str(error)})
            continue
        runners[name] = runner
        fields[name] = {"impl": name, "precision": runner.precision}
        if getattr(runner, "note", None):
            fields[name]["note"] = runner.note
    torch_runner = runners.get("torch")
    if torch_runner is None and torch_module is not None:
        torch_runner = build_baseline("torch", model, settings.threads, torch_module)
    return runners, fields, skipped, torch_runner


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
    runners, fields, skipped, torch_runner = _build_runners(shape, settings)
    reference, reference_name = _reference_outputs(shape, settings, torch_runner, x, h0, c0)
    tsilstm_runners = {name: runner for name, runner in runners.items() if isinstance(runner, TsilstmRunner)}
    summaries: dict[str, dict[str, Any]] = {}
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
        stats = measure_interleaved(
            calls, repeats, warmup=warmup, on_round=on_round, prime=settings.prime,
            settle=wait_until_quiet if settings.prime else None,
        )
        for name in runners:
            row: dict[str, Any] = {**fields[name], "label": name, **stats[name].per_step_ms(shape.steps)}
            if settings.stream:  # one step per call
                row["ms_per_call"] = row["ms_per_step"]
            row["repeats"] = len(stats[name].samples_s)
            row["calls_per_sample"] = stats[name].calls_per_sample
            row["max_abs_error"] = errors[name]
            if name in tsilstm_runners:
                row["error_tolerance"] = error_tolerance(row["weight_dtype"])
                row["error_within_tolerance"] = errors[name] <= row["error_tolerance"]
                row["schedule_ran"] = _schedule_ran(summaries.get(name))
                row["plan_summary"] = summaries[name]["plan_summary"]
            results.append(row)
    add_speedups(results)
    rooflines = {}
    if bandwidth_bytes_per_s:
        ran = {row["schedule_ran"] for row in results if row.get("schedule_ran")}
        names = list(ROOFLINE_SCHEDULES) + sorted(ran - set(ROOFLINE_SCHEDULES))
        rooflines = {s: roofline(s, shape, bandwidth_bytes_per_s, llc_bytes).as_dict() for s in names}
        for row in results:
            ran = row.get("schedule_ran")
            if ran in rooflines and row["weight_dtype"] == FLOAT32:  # the rooflines count fp32 weight bytes
                bound = rooflines[ran]["roofline_ms_per_step"]
                row["roofline_ms_per_step"] = bound
                row["roofline_fraction"] = bound / row["ms_per_step"] if row["ms_per_step"] > 0 else None
    return {
        "shape": shape.as_dict(),
        "threads": settings.threads,
        "mode": "stream" if settings.stream else "sequence",
        "weight_dtype": settings.weight_dtype,
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
