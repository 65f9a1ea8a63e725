"""Schedule choice by measurement: ``schedule="auto"`` times its candidate programs on the layer's
real packed weights the first time a layer configuration runs on a machine, keeps the fastest,
and records the decision with its timings in a per-user cache, so later calls and later
processes reuse it.

A reported cache size is no basis for the choice: cloud CPUs report last-level caches shared with
other tenants (this project has seen 32 MiB and 480 MiB on the same kind of machine), so
the kernels are timed instead.

The store (``decision_store``) is one small versioned JSON file in the user cache directory, keyed
by a machine signature (CPU model and flags, cache sizes, usable cores) and then by the layer
configuration (cell, variant, hidden, input, projection, batch bucket, threads, weight dtype).
``TSILSTM_TUNING`` (or the modules'
``tuning`` argument) is ``on`` (measure when no decision is on record), ``read-only`` (use
recorded decisions, never measure or write) or ``off`` (ignore the store); without a measured
decision ``auto`` falls back to the cache-size rule of ``schedule_choice`` and says so.

The candidates are tsi and conventional, each on the layer's threads and on fewer (one thread,
and the count the size rule of ``modules.MIN_WEIGHT_BYTES_PER_THREAD`` gives), all over the same
packed weights; a candidate on fewer threads is named ``schedule@threads``.

Cost of one measurement: every candidate runs once untimed and TUNING_REPEATS times timed,
interleaved, over TUNING_STEPS steps of random input at the call's batch; for four candidates that
is 16 runs of 16 steps (about 0.2 s for an LSTM of 2048 units at batch 1 on a 2-core machine, a
few times one call of 50 steps), once per layer configuration and machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from tsilstm.validation import require_choice

TUNING_MODES = ("on", "read-only", "off")
"""``on``: measure and record when no decision is on record; ``read-only``: use recorded decisions
only; ``off``: never read, measure or write."""
TUNING_ENV = "TSILSTM_TUNING"
"""Environment variable giving the default tuning mode (one of TUNING_MODES)."""
TUNING_STEPS = 16
"""Time steps of one timed run (even, so tsi's step pairs are whole)."""
TUNING_REPEATS = 3
"""Timed runs per candidate (the fastest counts), after one untimed run."""
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
"""Batch sizes are recorded by bucket: the smallest entry >= the batch (larger batches: the last)."""


THREADS_MARK = "@"
"""Separates a candidate's schedule from a thread count below the layer's (``tsi@1``)."""


def candidate_name(schedule: str, threads: int, layer_threads: int) -> str:
    """The name a candidate is timed and recorded under: ``schedule`` on the layer's full
    ``layer_threads``, else ``schedule@threads``."""
    return schedule if threads == layer_threads else f"{schedule}{THREADS_MARK}{threads}"


def parse_candidate(name: str) -> tuple[str, int | None]:
    """(schedule, threads or None for the layer's full count) of a candidate name."""
    schedule, mark, count = name.partition(THREADS_MARK)
    return schedule, (int(count) if mark and count.isdigit() and int(count) > 0 else None)


def batch_bucket(batch: int) -> int:
    """The bucket of ``batch`` sequences (see BATCH_BUCKETS)."""
    return min(1 << (batch - 1).bit_length(), BATCH_BUCKETS[-1]) if batch > 0 else BATCH_BUCKETS[0]


def tuning_mode(requested: str | None = None) -> str:
    """``requested`` if given, else TSILSTM_TUNING, else ``on``; validated against TUNING_MODES."""
    if requested is not None:
        return require_choice("tuning", requested, TUNING_MODES)
    value = os.environ.get(TUNING_ENV, "on").strip().lower() or "on"
    return require_choice(TUNING_ENV, value, TUNING_MODES)


@dataclass(frozen=True)
class LayerConfig:
    """What a schedule decision depends on, besides the machine."""

    cell: str
    variant: str
    hidden: int
    input: int
    proj: int
    batch_bucket: int
    threads: int
    weight_dtype: str
    single_step: bool = False
    """Calls of one time step (streaming) are decided apart: tsi's sweeps then serve one step only."""
    host: str = ""
    """The framework calling the layer from inside its graph ('' : called directly): its workers then
    sleep between calls, so hand-offs cost more and the decision is recorded apart."""

    @property
    def key(self) -> str:
        """The record key, e.g. ``lstm/standard/h2048/x2048/p0/b1/t2/float32``."""
        return (f"{self.cell}/{self.variant}/h{self.hidden}/x{self.input}/p{self.proj}/b{self.batch_bucket}/"
                f"t{self.threads}/{self.weight_dtype}" + ("/s1" if self.single_step else "")
                + (f"/in-{self.host}" if self.host else ""))


@dataclass(frozen=True)
class Decision:
    """A measured choice: the winner and the measured ms per step of every candidate (the fastest
    round of each); ``noisy`` when other processes took more than NOISY_OTHER_CPU_SHARE of a core
    while it was measured (such a decision is measured again by a later process, not trusted)."""

    schedule: str
    ms_per_step: dict[str, float]
    measured_at: str
    steps: int
    batch: int
    noisy: bool = False

    def describe(self) -> str:
        """The timings, fastest first, e.g. ``tsi 1.02, conventional 2.01 ms/step``."""
        ranked = sorted(self.ms_per_step.items(), key=lambda item: item[1])
        return ", ".join(f"{name} {ms:.4g}" for name, ms in ranked) + " ms/step"

    def explain(self) -> str:
        """Plain words: what won, by how much over the runner-up, and on how many threads."""
        ranked = sorted(self.ms_per_step.items(), key=lambda item: item[1])
        winner_ms = self.ms_per_step[self.schedule]
        others = [(name, ms) for name, ms in ranked if name != self.schedule]
        schedule, threads = parse_candidate(self.schedule)
        on = "on the layer's threads" if threads is None else f"on {threads} thread(s)"
        text = f"{schedule} {on}"
        faster = [name for name, ms in others if ms < winner_ms]
        if faster:
            text += (f" ({faster[0]} had a faster round, but not faster in every round by "
                     f"{FEWER_THREADS_MARGIN:.0%}: threads are not cut on one sample)")
        elif others and winner_ms > 0:
            name, ms = others[0]
            text += f", {ms / winner_ms:.2f}x the next best ({name})"
        return text + ("; measured while the machine was busy" if self.noisy else "")


def machine_signature(identity: dict[str, object]) -> str:
    """A short stable digest of ``identity`` (CPU model and flags, cache sizes, usable cores)."""
    text = json.dumps(identity, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def measure(candidates: dict[str, Callable[[], None]], steps: int, repeats: int = TUNING_REPEATS) -> dict[str, list[float]]:
    """ms per step of each candidate (a call running ``steps`` steps) in each of ``repeats`` timed
    rounds, interleaved across candidates, after one untimed run each."""
    for run in candidates.values():
        run()
    rounds: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, run in candidates.items():
            start = time.perf_counter()
            run()
            rounds[name].append((time.perf_counter() - start) * 1e3 / steps)
    return rounds


NOISY_OTHER_CPU_SHARE = 0.3
"""Other processes running more than this share of one core while candidates are timed make the
measurement noisy (recorded as such: a later process measures again)."""
FEWER_THREADS_MARGIN = 0.05
"""A candidate on fewer threads than the layer's is chosen only when it is faster than the best
full-thread candidate by this fraction and in every timed round (never on one sample)."""


def choose_winner(rounds: dict[str, list[float]]) -> str:
    """The candidate to keep from per-round ms/step: the fastest round wins, but a candidate on
    fewer threads (``schedule@threads``) displaces the best full-thread one only when it is
    FEWER_THREADS_MARGIN faster and faster in every round."""
    best = {name: min(times) for name, times in rounds.items()}
    winner = min(best, key=lambda name: best[name])
    full = [name for name in best if parse_candidate(name)[1] is None]
    if not full or parse_candidate(winner)[1] is None:
        return winner
    best_full = min(full, key=lambda name: best[name])
    consistent = all(a < b for a, b in zip(rounds[winner], rounds[best_full]))
    return winner if consistent and best[winner] < (1 - FEWER_THREADS_MARGIN) * best[best_full] else best_full


def other_processes_cpu_s() -> Callable[[], float]:
    """A stopwatch of the CPU time (seconds) other processes used since it was made, from
    /proc/stat and this process's own times; it reads 0.0 where /proc/stat is missing."""

    def busy_s() -> float | None:
        try:
            with open("/proc/stat") as stat:
                fields = stat.readline().split()[1:]
        except OSError:
            return None
        ticks = [int(value) for value in fields[:8]]
        busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)  # all but idle and iowait
        return busy / os.sysconf("SC_CLK_TCK")

    def own_s() -> float:
        times = os.times()
        return times.user + times.system

    start_busy, start_own = busy_s(), own_s()

    def elapsed() -> float:
        end_busy = busy_s()
        if start_busy is None or end_busy is None:
            return 0.0
        return max(0.0, (end_busy - start_busy) - (own_s() - start_own))

    return elapsed


def measured_decision(candidates: dict[str, Callable[[], None]], steps: int, batch: int,
                      repeats: int = TUNING_REPEATS) -> Decision:
    """Time ``candidates`` (see ``measure``) and return the decision for the winner of
    ``choose_winner``, flagged noisy when other processes were busy meanwhile."""
    others = other_processes_cpu_s()
    start = time.perf_counter()
    rounds = measure(candidates, steps, repeats)
    wall_s = time.perf_counter() - start
    noisy = others() > NOISY_OTHER_CPU_SHARE * max(wall_s, 0.05)
    timings = {name: min(times) for name, times in rounds.items()}
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return Decision(choose_winner(rounds), timings, stamp, steps, batch, noisy)

