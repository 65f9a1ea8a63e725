"""Measurement of ``schedule="auto"``'s candidates (tsi and conventional) over a range of hidden
sizes, side by side on the same packed weights and thread count; every measurement is recorded in
the decision store (``schedule_tuning``), so later runs of those shapes use it."""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.hardware import last_level_cache_bytes
from tsilstm.runtime.lstm_gru import module_class
from tsilstm.validation import require_int

DEFAULT_HIDDEN_SIZES = (256, 512, 768, 1024, 1280, 1536, 2048)
"""Hidden sizes of the default calibration sweep (LSTM W_h from 1 MiB to 64 MiB)."""


@dataclass(frozen=True)
class CrossoverRow:
    """One measured shape: recurrent weight bytes, their share of the LLC (None when the machine does
    not state its cache size), ms per step of each schedule."""

    cell: str
    hidden: int
    batch: int
    threads: int
    weight_bytes: int
    llc_fraction: float | None
    tsi_ms_per_step: float
    conventional_ms_per_step: float

    @property
    def speedup(self) -> float:
        """conventional time / tsi time (> 1: tsi is faster)."""
        return self.conventional_ms_per_step / self.tsi_ms_per_step


def measure_crossover(
    cell: str = "lstm",
    hidden_sizes: tuple[int, ...] = DEFAULT_HIDDEN_SIZES,
    *,
    batch: int = 1,
    steps: int = 50,
    threads: int = 2,
    repeats: int = 7,
    seed: int = 0,
) -> list[CrossoverRow]:
    """Time tsi and conventional (kernel call, hoisting included) for each hidden size, input size =
    hidden, interleaving the two ``repeats`` times; ms per step is the fastest run. Each result is
    recorded as ``auto``'s decision for that layer configuration on this machine."""
    cls = module_class(cell)
    batch = require_int("batch", batch)
    steps = require_int("steps", steps)
    repeats = require_int("repeats", repeats)
    llc = last_level_cache_bytes()
    rows = []
    for hidden in hidden_sizes:
        hidden = require_int("hidden", hidden)
        module = cls(hidden, hidden, schedule="auto", threads=threads, seed=seed, tuning="on")
        (decision,) = module.tune(batch, steps=steps, repeats=repeats)
        run = module.layer_runs[0]
        rows.append(
            CrossoverRow(cell, hidden, batch, run.threads, run.packed_bytes,
                         None if llc is None else run.packed_bytes / llc,
                         decision.ms_per_step["tsi"], decision.ms_per_step["conventional"])
        )
    return rows
