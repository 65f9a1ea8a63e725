"""The baselines every comparison shows: conventional, pinned, and the best non-interleaved
schedule on the same design (the lowest-energy of conventional, snake and pinned)."""

from __future__ import annotations

from dataclasses import replace

from tsilstm.accel.evaluate import ScheduleResult

NON_INTERLEAVED = ("conventional", "snake", "pinned")
"""The schedules that reuse a tile within one step only: the fair baselines of tsi."""
BEST_NON_INTERLEAVED = "best-non-interleaved"
"""Name of the row that repeats the best of ``NON_INTERLEAVED`` on the same design."""
BASELINE_SCHEDULES = ("conventional", "pinned", BEST_NON_INTERLEAVED)
"""The baselines every comparison (simulate, sweep, report) shows."""


def best_non_interleaved(results: list[ScheduleResult]) -> ScheduleResult | None:
    """The result of ``NON_INTERLEAVED`` with the least energy (ties: the fewest cycles), renamed
    ``best-non-interleaved`` with ``stands_for`` naming the schedule; None when none was evaluated."""
    candidates = [r for r in results if r.schedule in NON_INTERLEAVED]
    if not candidates:
        return None
    best = min(candidates, key=lambda r: (r.energy_pj, r.cycles, NON_INTERLEAVED.index(r.schedule)))
    return replace(best, schedule=BEST_NON_INTERLEAVED, stands_for=best.schedule)


def with_baselines(results: list[ScheduleResult]) -> list[ScheduleResult]:
    """``results`` followed by the ``best-non-interleaved`` row (when any non-interleaved schedule
    is among them)."""
    best = best_non_interleaved(results)
    return [*results, best] if best is not None else list(results)


def baseline_schedules_for(schedule: str) -> tuple[str, ...]:
    """The schedules to evaluate so that ``schedule`` can be set beside every baseline."""
    return tuple(dict.fromkeys((*NON_INTERLEAVED, schedule)))
