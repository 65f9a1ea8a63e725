"""Which schedule the runtime runs for a layer: the requested one, or for ``"auto"`` tsi when the
recurrent weights do not fit in the last-level cache and the conventional kernel when they do (or
when the machine does not state its cache size: ``hardware.last_level_cache_bytes`` is None)."""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_choice

RUNTIME_SCHEDULES = ("auto", "tsi", "conventional", "snake", "pinned", "tsi-pinned")
"""Schedules the native kernel runs (naive does not hoist W_x and is left to the plan tools)."""

AUTO_TSI_MIN_LLC_FRACTION_BY_BATCH = ((1, 0.6), (2, 0.75), (None, 3.0))
"""``auto`` runs tsi for a call whose batch is at most the first entry's batch (None: any) when the
layer's recurrent weights (bytes, one direction) are at least that fraction of the last-level
cache, and the conventional kernel otherwise. The fractions sit between the measured points on
either side of the crossover (CALIBRATION); near them both kernels run at about the same speed."""

CALIBRATION = """\
Measured with `tsilstm calibrate --hidden 768,1024,1280,1536,2048 --batch N --threads 2 --steps 50
--repeats 7..9` (LSTM, input = hidden, whole forward call, tsi and conventional interleaved, median
ms per step) on an AMD EPYC (Zen 4, KVM guest), 2 cores, 32 MiB L3, 2026-11-25, in three runs
while other jobs shared the machine (load average 2.6-4.6); speedup = conventional / tsi:
  batch 1: W_h/LLC 0.28 -> 0.83, 0.85, 1.00;  0.38 -> 0.86;  0.50 -> 0.93, 0.95, 1.22;
           0.63 -> 1.10;  0.78 -> 0.87, 1.07;  1.12 -> 1.43, 1.61;  2.00 -> 1.40, 1.76
  batch 2: 0.28 -> 1.06;  0.50 -> 0.91, 1.09;  0.78 -> 1.32;  1.12 -> 1.10, 1.26;  2.00 -> 1.40, 1.46
  batch 4: 0.28 -> 0.81, 0.83;  0.50 -> 0.75, 0.79;  0.63 -> 0.87;  0.78 -> 0.87;  1.12 -> 0.91, 0.91;
           2.00 -> 0.86, 0.97;  3.12 -> 1.06
At batch 4 both kernels are compute-bound on this machine (8 product columns per tile), so tsi's
halved weight traffic pays only for the largest layers.
"""

MIN_AUTO_TSI_LLC_FRACTION = min(fraction for _, fraction in AUTO_TSI_MIN_LLC_FRACTION_BY_BATCH)
"""Below this share of the cache ``auto`` never runs tsi (only the conventional program is built)."""


def tsi_min_llc_fraction(batch: int) -> float:
    """The share of the last-level cache above which ``auto`` runs tsi for a call of ``batch`` sequences."""
    for max_batch, fraction in AUTO_TSI_MIN_LLC_FRACTION_BY_BATCH:
        if max_batch is None or batch <= max_batch:
            return fraction
    return AUTO_TSI_MIN_LLC_FRACTION_BY_BATCH[-1][1]


@dataclass(frozen=True)
class ScheduleChoice:
    """The schedule run for one layer, and why."""

    requested: str
    schedule: str
    reason: str

    def describe(self) -> str:
        """One line: what ran and why."""
        return f"{self.schedule} (requested {self.requested}): {self.reason}"


def choose_schedule(requested: str, recurrent_weight_bytes: int, llc_bytes: int | None, batch: int = 1) -> ScheduleChoice:
    """The schedule to run for a layer whose recurrent weights (W_h, plus W_hr with a projection,
    one direction) take ``recurrent_weight_bytes``, for a call of ``batch`` sequences, given a
    last-level cache of ``llc_bytes`` (None: unknown).

    Explicit schedules are kept (the plan generator may still fall back, e.g. tsi with a
    projection); ``auto`` compares the weights with ``tsi_min_llc_fraction(batch)`` of the cache,
    and runs the conventional kernel when the cache size is unknown.
    """
    require_choice("schedule", requested, RUNTIME_SCHEDULES)
    if llc_bytes is not None and (isinstance(llc_bytes, bool) or not isinstance(llc_bytes, int) or llc_bytes <= 0):
        raise InvalidParameterError("llc_bytes", llc_bytes, "must be a positive number of bytes, or None (unknown)")
    if requested != "auto":
        return ScheduleChoice(requested, requested, "requested explicitly")
    if llc_bytes is None:
        return ScheduleChoice("auto", "conventional", "the machine does not state its last-level cache size")
    fraction = tsi_min_llc_fraction(batch)
    mib = 1024 * 1024
    share = recurrent_weight_bytes / llc_bytes
    text = (f"recurrent weights {recurrent_weight_bytes / mib:.1f} MiB = {share:.2f} x last-level cache "
            f"{llc_bytes / mib:.0f} MiB")
    if share >= fraction:
        return ScheduleChoice("auto", "tsi", f"{text} >= {fraction:g} (measured crossover at batch {batch})")
    return ScheduleChoice("auto", "conventional", f"{text} < {fraction:g} (measured crossover at batch {batch})")
