"""Measurement of the tsi / conventional crossover that ``schedule="auto"`` uses: both schedules
run side by side, interleaved, on the same data and thread count, over a range of hidden sizes."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from tsilstm.hardware import last_level_cache_bytes
from tsilstm.runtime.modules import GRU, LSTM
from tsilstm.validation import require_choice, require_int

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
    """Time tsi and conventional (whole forward call, hoisting included) for each hidden size,
    input size = hidden, interleaving the two ``repeats`` times; ms per step is the median."""
    require_choice("cell", cell, ("lstm", "gru"))
    batch = require_int("batch", batch)
    steps = require_int("steps", steps)
    repeats = require_int("repeats", repeats)
    llc = last_level_cache_bytes()
    cls = LSTM if cell == "lstm" else GRU
    rows = []
    for hidden in hidden_sizes:
        hidden = require_int("hidden", hidden)
        x = np.random.default_rng(seed).standard_normal((steps, batch, hidden)).astype(np.float32)
        modules = {s: cls(hidden, hidden, schedule=s, threads=threads, seed=seed) for s in ("tsi", "conventional")}
        times: dict[str, list[float]] = {s: [] for s in modules}
        for module in modules.values():
            module(x)  # warm-up
        for _ in range(repeats):
            for name, module in modules.items():
                start = time.perf_counter()
                module(x)
                times[name].append((time.perf_counter() - start) / steps * 1e3)
        weight_bytes = modules["tsi"].layer_runs[0].packed_bytes
        rows.append(
            CrossoverRow(cell, hidden, batch, threads, weight_bytes, None if llc is None else weight_bytes / llc,
                         float(np.median(times["tsi"])), float(np.median(times["conventional"])))
        )
    return rows
