"""Interleaved timing of several implementations, and the statistics reported for each.

The implementations are timed in rounds: every round runs each of them once, in an order rotated
from round to round (ABC, BCA, CAB, ...), so that a drift in machine load hits all of them alike.
A call shorter than ``min_sample_s`` is repeated inside one sample so the clock's resolution and
the loop's overhead stay small against the measured time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_int

DEFAULT_MIN_SAMPLE_S = 0.005  # shortest sample in seconds: >> perf_counter resolution (< 1 us)
MAX_CALLS_PER_SAMPLE = 10_000  # bound on inner repetitions of a very short call


@dataclass(frozen=True)
class TimingStats:
    """Statistics of the per-call times of one implementation, in seconds."""

    samples_s: tuple[float, ...]
    median_s: float
    min_s: float
    max_s: float
    q1_s: float
    q3_s: float
    calls_per_sample: int = 1

    @property
    def iqr_s(self) -> float:
        """Interquartile range of the per-call times, in seconds."""
        return self.q3_s - self.q1_s

    def per_step_ms(self, steps: int) -> dict[str, float]:
        """Median, min, max, q1, q3 and IQR per time step, in milliseconds."""
        scale = 1000.0 / require_int("steps", steps)
        return {
            "ms_per_step": self.median_s * scale,
            "ms_per_step_min": self.min_s * scale,
            "ms_per_step_max": self.max_s * scale,
            "ms_per_step_q1": self.q1_s * scale,
            "ms_per_step_q3": self.q3_s * scale,
            "ms_per_step_iqr": self.iqr_s * scale,
        }


def timing_stats(samples_s: list[float] | tuple[float, ...], calls_per_sample: int = 1) -> TimingStats:
    """The median, extremes and quartiles (linear interpolation) of per-call times in seconds."""
    if len(samples_s) == 0:
        raise InvalidParameterError("samples_s", samples_s, "needs at least one timing sample")
    values = np.asarray(samples_s, dtype=np.float64)
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise InvalidParameterError("samples_s", list(samples_s), "timings must be finite and >= 0 seconds")
    q1, median, q3 = np.percentile(values, [25.0, 50.0, 75.0])
    return TimingStats(
        tuple(float(v) for v in values), float(median), float(values.min()), float(values.max()),
        float(q1), float(q3), calls_per_sample,
    )


def rotated_order(names: list[str], round_index: int) -> list[str]:
    """``names`` rotated left by ``round_index`` (the order of one interleaved round)."""
    if not names:
        return []
    shift = round_index % len(names)
    return names[shift:] + names[:shift]


def calls_per_sample(call_s: float, min_sample_s: float = DEFAULT_MIN_SAMPLE_S, min_calls: int = 1) -> int:
    """How many calls of ``call_s`` seconds one sample needs to last at least ``min_sample_s``
    (and hold at least ``min_calls``)."""
    if call_s <= 0:
        return MAX_CALLS_PER_SAMPLE
    return max(min_calls, min(MAX_CALLS_PER_SAMPLE, math.ceil(min_sample_s / call_s)))


def repeats_within_budget(call_s: float, max_repeats: int, budget_s: float, min_repeats: int = 3) -> int:
    """Repeats of a ``call_s``-second call that fit ``budget_s`` seconds, within [min_repeats, max_repeats]
    (big shapes get fewer repeats; never fewer than ``min_repeats``)."""
    max_repeats = require_int("repeats", max_repeats)
    if call_s <= 0:
        return max_repeats
    fitting = int(budget_s // call_s)
    return max(min(min_repeats, max_repeats), min(max_repeats, fitting))


def measure_interleaved(
    calls: Mapping[str, Callable[[], object]],
    repeats: int,
    *,
    warmup: int = 1,
    min_sample_s: float = DEFAULT_MIN_SAMPLE_S,
    min_calls: int = 1,
    clock: Callable[[], float] = time.perf_counter,
    on_round: Callable[[int, int], None] | None = None,
    prime: bool = False,
    settle: Callable[[], object] | None = None,
) -> dict[str, TimingStats]:
    """Time every call of ``calls`` ``repeats`` times in interleaved, rotated rounds after ``warmup``
    untimed calls each; return per-call statistics in seconds by name. A sample is a block of calls
    lasting at least ``min_sample_s`` and holding at least ``min_calls``. With ``prime`` each sample
    is preceded by one untimed call of the same implementation, so its own threads are awake.
    ``settle()``, when given, runs before each sample (and before its priming call):
    e.g. ``quiescence.wait_until_quiet``, so no implementation's sample runs beside the previous
    one's spinning threads. ``on_round(done, total)`` is called after each round (for progress display)."""
    repeats = require_int("repeats", repeats)
    warmup = require_int("warmup", warmup, minimum=0)
    names = list(calls)
    if not names:
        raise InvalidParameterError("calls", {}, "needs at least one implementation to time")
    warm_s = {name: 0.0 for name in names}
    for _ in range(warmup):
        for name in names:
            start = clock()
            calls[name]()
            warm_s[name] = clock() - start
    inner = {name: calls_per_sample(warm_s[name], min_sample_s, min_calls) if warmup else min_calls for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(repeats):
        for name in rotated_order(names, round_index):
            call, count = calls[name], inner[name]
            if settle is not None:
                settle()
            if prime:
                call()
            start = clock()
            for _ in range(count):
                call()
            samples[name].append((clock() - start) / count)
        if on_round is not None:
            on_round(round_index + 1, repeats)
    return {name: timing_stats(samples[name], inner[name]) for name in names}
