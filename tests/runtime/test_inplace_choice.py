"""The in-place trial (runtime/inplace_choice.py) on a synthetic clock: blocks alternate, the first
period of a block is dropped, the host wins ties, noise extends the trial, a slowed decision is
measured again, and stored records are validated."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tsilstm.runtime.inplace_choice import (
    HOST,
    KERNEL,
    MAX_ROUNDS,
    MIN_GAIN,
    RETRIAL_SLOWDOWN,
    TURN_IDLE_SECONDS,
    WATCH_CALLS,
    WATCH_STRIDE,
    InplaceDecision,
    InplaceTrial,
)


def drive(trial: InplaceTrial, period_of, calls: int, start: float = 0.0) -> tuple[list[str], float]:
    """Make ``calls`` calls, each lasting ``period_of(candidate, index)`` seconds; returns the
    candidates run and the clock at the end."""
    now, ran = start, []
    for index in range(calls):
        candidate = trial.next_candidate(now)
        ran.append(candidate)
        now += period_of(candidate, index)
    return ran, now


def test_blocks_alternate_and_the_faster_kernel_wins():
    trial = InplaceTrial()
    ran, _ = drive(trial, lambda c, i: 0.002 if c == KERNEL else 0.004, 200)
    assert ran[0] == KERNEL and HOST in ran[:20]
    assert trial.decision is not None and trial.decision.winner == KERNEL
    assert trial.new_decision and trial.trials == 1
    assert abs(trial.decision.ms_per_call[KERNEL] - 2.0) < 1e-9 and abs(trial.decision.ms_per_call[HOST] - 4.0) < 1e-9
    assert ran[-50:] == [KERNEL] * 50
    assert "2.00x faster" in trial.decision.describe()


@given(st.floats(min_value=1.0, max_value=1.0 / (1 - MIN_GAIN) - 1e-6))
def test_the_host_wins_ties(host_over_kernel):
    trial = InplaceTrial()
    drive(trial, lambda c, i: 0.001 if c == KERNEL else 0.001 * host_over_kernel, 400)
    assert trial.decision is not None and trial.decision.winner == HOST


def test_a_faster_host_keeps_the_layer():
    trial = InplaceTrial()
    ran, _ = drive(trial, lambda c, i: 0.010 if c == KERNEL else 0.001, 400)
    assert trial.decision is not None and trial.decision.winner == HOST and ran[-10:] == [HOST] * 10


def test_pauses_between_calls_are_not_counted():
    trial = InplaceTrial()
    drive(trial, lambda c, i: (5.0 if i % 7 == 3 else 0.002) if c == KERNEL else 0.003, 300)
    assert trial.decision is not None and trial.decision.winner == KERNEL
    assert trial.decision.ms_per_call[KERNEL] < 2.5


def test_noisy_samples_extend_the_trial_and_are_flagged():
    trial = InplaceTrial()
    # both alternate between the same two periods: the medians cannot be told apart
    ran, _ = drive(trial, lambda c, i: 0.001 if i % 2 else 0.003, 2000)
    assert trial.decision is not None and trial.decision.noisy
    assert trial.decision.winner == HOST
    assert trial.decision.calls > 3 * 2 * 3  # more than the first three rounds' worth


def test_a_decision_that_slows_down_is_measured_again():
    trial = InplaceTrial()
    trial.adopt(InplaceDecision(KERNEL, {KERNEL: 1.0, HOST: 2.0}, 10, False, "then"))
    slow = RETRIAL_SLOWDOWN * 1.2e-3
    ran, now = drive(trial, lambda c, i: slow if c == KERNEL else 1.5e-3, WATCH_STRIDE * WATCH_CALLS + 2)
    assert trial.decision is None  # the watch saw the slowdown: a new trial runs
    ran, _ = drive(trial, lambda c, i: slow if c == KERNEL else 1.5e-3, 400, start=now)
    assert trial.decision is not None and trial.decision.winner == HOST


def test_an_adopted_decision_that_holds_is_kept():
    trial = InplaceTrial()
    trial.adopt(InplaceDecision(KERNEL, {KERNEL: 1.0, HOST: 2.0}, 10, False, "then"))
    ran, _ = drive(trial, lambda c, i: 1.1e-3, 5 * WATCH_STRIDE * WATCH_CALLS)
    assert set(ran) == {KERNEL} and trial.decision is not None and not trial.new_decision


def test_records_round_trip_and_malformed_ones_are_refused():
    decision = InplaceDecision(HOST, {KERNEL: 1.5, HOST: 1.0}, 24, True, "2026-12-05T08:00:00+00:00")
    assert InplaceDecision.from_record(decision.to_record()) == decision
    for bad in (None, [], {"winner": "x"}, {**decision.to_record(), "winner": "nobody"},
                {**decision.to_record(), "ms_per_call": {KERNEL: 1.0}}, {**decision.to_record(), "calls": "many"},
                {**decision.to_record(), "ms_per_call": {KERNEL: "fast", HOST: 1.0}}):
        assert InplaceDecision.from_record(bad) is None


def test_trials_end_within_the_round_limit():
    trial = InplaceTrial()
    drive(trial, lambda c, i: 0.001 * (1 + (i * 7919 % 13) / 13), 20 * MAX_ROUNDS * 2 * 8)
    assert trial.decision is not None


def test_a_decision_much_faster_than_recorded_is_measured_again():
    trial = InplaceTrial()
    trial.adopt(InplaceDecision(KERNEL, {KERNEL: 10.0, HOST: 20.0}, 10, False, "under load"))
    drive(trial, lambda c, i: 1e-3, WATCH_STRIDE * WATCH_CALLS + 2)
    assert trial.decision is None


def test_a_trial_beside_busy_processes_is_flagged_noisy():
    shares = iter([0.9])
    trial = InplaceTrial(busy_share=lambda: (lambda: next(shares)))
    drive(trial, lambda c, i: 0.002 if c == KERNEL else 0.004, 200)
    assert trial.decision is not None and trial.decision.noisy and trial.decision.winner == KERNEL


def test_one_trial_at_a_time_the_others_run_the_host_meanwhile():
    """Two layers of one pipeline: the second waits (host) until the first has decided, then its
    own trial begins with the kernel's block."""
    first, second = InplaceTrial(), InplaceTrial()
    now, ran_second = 0.0, []
    while first.decision is None:
        assert first.next_candidate(now) in (KERNEL, HOST)
        ran_second.append(second.next_candidate(now))
        now += 0.002
    assert set(ran_second[:-1]) == {HOST} and second.decision is None
    assert ran_second[-1] == KERNEL  # the call right after the first decided: its trial begins
    drive(second, lambda c, i: 0.001 if c == HOST else 0.003, 400, start=now)
    assert second.decision is not None and second.decision.winner == HOST


def test_a_trial_whose_layer_is_no_longer_called_gives_the_turn_up(monkeypatch):
    import tsilstm.runtime.inplace_choice as inplace_choice

    clock = [1000.0]
    monkeypatch.setattr(inplace_choice.time, "monotonic", lambda: clock[0])
    abandoned, waiting = InplaceTrial(), InplaceTrial()
    assert abandoned.next_candidate(0.0) == KERNEL
    assert waiting.next_candidate(0.001) == HOST
    clock[0] += TURN_IDLE_SECONDS + 0.1
    assert waiting.next_candidate(0.002) == KERNEL  # its trial begins
    assert abandoned.next_candidate(0.003) == HOST  # (and the first one waits now)
