"""The harness's statistics and its interleaved, rotated timing rounds (with a fake clock: no
timing assertions on the real machine)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsilstm.bench.harness import (
    MAX_CALLS_PER_SAMPLE,
    calls_per_sample,
    measure_interleaved,
    repeats_within_budget,
    rotated_order,
    timing_stats,
)
from tsilstm.errors import InvalidParameterError


def test_timing_stats_of_known_samples():
    stats = timing_stats([4.0, 1.0, 3.0, 2.0, 5.0])
    assert (stats.median_s, stats.min_s, stats.max_s) == (3.0, 1.0, 5.0)
    assert (stats.q1_s, stats.q3_s, stats.iqr_s) == (2.0, 4.0, 2.0)
    per_step = stats.per_step_ms(steps=4)
    assert per_step["ms_per_step"] == 750.0
    assert per_step["ms_per_step_min"] == 250.0
    assert per_step["ms_per_step_iqr"] == 500.0


@given(st.lists(st.floats(min_value=0, max_value=1e3, allow_nan=False), min_size=1, max_size=30))
def test_timing_stats_are_ordered(samples):
    stats = timing_stats(samples)
    assert stats.min_s <= stats.q1_s <= stats.median_s <= stats.q3_s <= stats.max_s
    assert len(stats.samples_s) == len(samples)


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [-1.0]])
def test_timing_stats_reject_bad_samples(bad):
    with pytest.raises(InvalidParameterError, match="samples_s"):
        timing_stats(bad)


def test_rotated_order():
    names = ["a", "b", "c"]
    assert [rotated_order(names, r) for r in range(4)] == [
        ["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"], ["a", "b", "c"]
    ]
    assert rotated_order([], 3) == []


def test_calls_per_sample_and_repeat_budget():
    assert calls_per_sample(0.010, min_sample_s=0.005) == 1
    assert calls_per_sample(0.001, min_sample_s=0.005) == 5
    assert calls_per_sample(0.0, min_sample_s=0.005) == MAX_CALLS_PER_SAMPLE
    assert repeats_within_budget(0.1, max_repeats=7, budget_s=4.0) == 7
    assert repeats_within_budget(1.0, max_repeats=7, budget_s=4.0) == 4
    assert repeats_within_budget(10.0, max_repeats=7, budget_s=4.0) == 3
    assert repeats_within_budget(10.0, max_repeats=2, budget_s=4.0) == 2


class FakeClock:
    """A clock that each fake implementation advances by its own duration."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_measure_interleaved_rotates_rounds_and_measures_each_call():
    clock = FakeClock()
    log: list[str] = []
    durations = {"a": 0.010, "b": 0.020, "c": 0.040}

    def make(name):
        def call():
            log.append(name)
            clock.now += durations[name]
        return call

    rounds = []
    stats = measure_interleaved(
        {name: make(name) for name in durations}, repeats=3, warmup=1, clock=clock,
        min_sample_s=0.001, on_round=lambda done, total: rounds.append((done, total)),
    )
    assert log[:3] == ["a", "b", "c"]  # warm-up
    assert log[3:] == ["a", "b", "c", "b", "c", "a", "c", "a", "b"]  # rotated rounds
    assert rounds == [(1, 3), (2, 3), (3, 3)]
    for name, seconds in durations.items():
        assert stats[name].median_s == pytest.approx(seconds)
        assert len(stats[name].samples_s) == 3


def test_short_calls_are_repeated_inside_a_sample():
    clock = FakeClock()
    count = {"n": 0}

    def call():
        count["n"] += 1
        clock.now += 0.001

    stats = measure_interleaved({"fast": call}, repeats=2, warmup=1, clock=clock, min_sample_s=0.004)
    assert stats["fast"].calls_per_sample == 4
    assert count["n"] == 1 + 2 * 4
    assert stats["fast"].median_s == pytest.approx(0.001)


def test_measure_interleaved_rejects_bad_arguments():
    with pytest.raises(InvalidParameterError, match="repeats"):
        measure_interleaved({"a": lambda: None}, repeats=0)
    with pytest.raises(InvalidParameterError, match="calls"):
        measure_interleaved({}, repeats=1)


def test_priming_calls_each_implementation_untimed_before_its_sample():
    clock = FakeClock()
    log: list[str] = []

    def make(name, seconds):
        def call():
            log.append(name)
            clock.now += seconds
        return call

    stats = measure_interleaved(
        {"a": make("a", 0.01), "b": make("b", 0.02)}, repeats=2, warmup=0, clock=clock, prime=True
    )
    assert log == ["a", "a", "b", "b", "b", "b", "a", "a"]
    assert stats["a"].median_s == pytest.approx(0.01) and stats["b"].median_s == pytest.approx(0.02)


def test_settle_runs_before_each_sample_and_before_its_priming_call():
    clock = FakeClock()
    log: list[str] = []

    def make(name):
        def call():
            log.append(name)
            clock.now += 0.01
        return call

    measure_interleaved(
        {"a": make("a"), "b": make("b")}, repeats=2, warmup=0, clock=clock, prime=True,
        settle=lambda: log.append("settle"),
    )
    assert log == ["settle", "a", "a", "settle", "b", "b", "settle", "b", "b", "settle", "a", "a"]
