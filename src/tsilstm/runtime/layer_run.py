"""``schedule="auto"`` for one layer: the programs it may run, the measured (or recorded) decision
per batch bucket and call kind, where decisions are stored, and how a recorded decision is checked
before it is trusted (``LayerRun``; the measuring itself is ``schedule_tuning``, the store
``decision_store``)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.hardware import cache_sizes_bytes, cpu_identity, usable_cores
from tsilstm.model import RecurrentLayer
from tsilstm.plan.ops import Program
from tsilstm.runtime.decision_store import DecisionStore, default_store_path
from tsilstm.runtime.execution import TEAM_HOST, run_packed
from tsilstm.runtime.kernel_abi import MAX_KERNEL_BATCH
from tsilstm.runtime.packing import PackedDirection
from tsilstm.runtime.precision import arithmetic_note
from tsilstm.runtime.schedule_choice import ScheduleChoice, choose_schedule
from tsilstm.runtime.schedule_tuning import (
    TUNING_REPEATS,
    TUNING_STEPS,
    Decision,
    LayerConfig,
    batch_bucket,
    candidate_name,
    machine_signature,
    measure,
    measured_decision,
    parse_candidate,
)

AUTO_CANDIDATES = ("tsi", "conventional")
"""The programs ``schedule="auto"`` packs and times (over the same packed weights)."""
RECHECK_SLOWDOWN = 1.5
"""A decision read from the store is measured again when its winner now runs this many times slower
than recorded."""
RECHECK_MARGIN = 0.05
"""A recorded decision for fewer threads than the layer's is measured again unless it still runs
this fraction faster than the best candidate on the layer's threads."""
CONCURRENT_GAIN = 0.2
"""The two directions of a bidirectional layer run at once, each on half the layer's threads, when
that is estimated this fraction faster than one after the other on all of them. The estimate comes
from the layer's measured decision: the best candidate on at most half the threads (both directions
take its time side by side) against twice the winner's time; the margin covers what those separate
timings do not see (the two directions share the caches and the memory bus)."""
RECHECK_RUNS = 3
"""Timed runs of each candidate when a recorded decision is checked (the fastest counts)."""
_PROCESS_DECISIONS: dict[tuple[str, str, str], Decision] = {}
"""Decisions this process has read or measured, by (store path, machine signature, configuration key)."""


@lru_cache(maxsize=1)
def machine_identity() -> dict[str, object]:
    """What a schedule decision's validity depends on: CPU model and flags, cache sizes, usable cores."""
    cpu = cpu_identity()
    return {"cpu": cpu.model, "flags": " ".join(sorted(cpu.flags)), "caches": cache_sizes_bytes(),
            "cores": usable_cores()}


def decision_store() -> DecisionStore:
    """The decision store of this machine at ``default_store_path()`` (TSILSTM_CACHE_DIR or the
    user cache directory, read when called)."""
    return _store_at(default_store_path())


@lru_cache(maxsize=8)
def _store_at(path: Path) -> DecisionStore:
    identity = machine_identity()
    return DecisionStore(path, machine_signature(identity), identity)


@dataclass
class LayerRun:
    """How one layer runs: the requested schedule, the programs the kernel may execute (one, or for
    ``auto`` tsi and conventional over the same packed weights), threads, tile."""

    index: int
    requested: str
    programs: dict[str, Program]
    threads: int
    tile: int
    packed_bytes: int
    recurrent_bytes: int
    llc_bytes: int | None
    weight_dtype: str = "float32"
    last_batch: int | None = None
    """Batch of the last call (None before the first): ``program`` and ``choice`` describe it."""
    config: LayerConfig | None = None
    """The layer configuration a measured decision is recorded under (batch bucket 0: set per call)."""
    tuning: str = "on"
    """How ``auto`` decides (schedule_tuning.TUNING_MODES)."""
    decided: dict[tuple[int, bool], ScheduleChoice] = field(default_factory=dict)
    """Measured (or recorded) choices of ``auto``, by (batch bucket, one-step call)."""
    measured: dict[tuple[int, bool], Decision] = field(default_factory=dict)
    """The decisions behind ``decided`` (every candidate's ms per step), by the same keys."""
    thread_options: tuple[int, ...] = ()
    """Thread counts the packed op lists serve (``threads`` first); ``auto`` measures each."""
    default_threads: int = 0
    """Threads without a measured decision (the size rule; 0: ``threads``)."""
    last_threads: int | None = None
    """Threads of the last call (None before the first)."""
    last_steps: int | None = None
    """Steps of the last call (None before the first)."""
    generation: int = 0
    """Counts the changes of ``auto``'s decisions (a plan of the kernel calls holds while it stands)."""

    @property
    def program(self) -> Program:
        """The program of the last call (for batch 1 before any call)."""
        return self.choose(self.last_batch or 1, self.last_steps)[1]

    @property
    def choice(self) -> ScheduleChoice:
        """The schedule choice of the last call (for batch 1 before any call)."""
        return self.choose(self.last_batch or 1, self.last_steps)[0]

    def choose(self, batch: int, steps: int | None = None) -> tuple[ScheduleChoice, Program]:
        """The schedule for a call of ``batch`` sequences over ``steps`` steps (None: many), and the
        program that runs it: for ``auto`` the measured decision of its batch bucket (one-step calls
        apart), else (no measurement) the cache-size rule."""
        choice = self._decided(batch, steps)
        if choice is None:
            choice = choose_schedule(self.requested, self.recurrent_bytes, self.llc_bytes, batch)
            if self.requested == "auto":
                why = {"off": "tuning is off", "read-only": "tuning is read-only and no decision is on record",
                       "on": "not measured yet: the first call measures"}[self.tuning]
                choice = replace(choice, reason=f"untuned ({why}); {choice.reason}")
        schedule = parse_candidate(choice.schedule)[0]
        key = schedule if schedule in self.programs else next(iter(self.programs))
        return choice, self.programs[key]

    def settled(self, batch: int, steps: int) -> bool:
        """Whether the schedule and threads of a call of ``batch`` over ``steps`` steps are fixed
        until ``generation`` changes: an explicit schedule, tuning off, or ``auto`` decided."""
        return (self.requested != "auto" or self.tuning == "off"
                or (batch_bucket(batch), steps == 1) in self.decided)

    def _decided(self, batch: int, steps: int | None) -> ScheduleChoice | None:
        """``auto``'s measured (or recorded) choice for a call of ``batch`` over ``steps`` steps, if any."""
        return self.decided.get((batch_bucket(batch), steps == 1)) if self.requested == "auto" else None

    def concurrent_directions(self, batch: int, steps: int | None = None) -> tuple[Program, int] | None:
        """(program, threads) each direction of a bidirectional layer runs on when, for a call of
        ``batch`` over ``steps`` steps, both run at once on half the threads (CONCURRENT_GAIN),
        else None (one after the other on the layer's threads, or no measured decision)."""
        decision = self.measured.get((batch_bucket(batch), steps == 1)) if self.requested == "auto" else None
        if decision is None or self.threads < 2:
            return None
        half = [(ms, name) for name, ms in decision.ms_per_step.items()
                if (parse_candidate(name)[1] or self.threads) <= self.threads // 2]
        if not half:
            return None
        ms, name = min(half)
        if ms >= (1 - CONCURRENT_GAIN) * 2 * decision.ms_per_step[decision.schedule]:
            return None
        schedule, threads = parse_candidate(name)
        program = next((p for p in self.programs.values() if p.schedule == schedule), None)
        return None if program is None else (program, threads or self.threads)

    def candidates(self) -> set[str]:
        """Names of what ``auto`` times: every program on every thread option (``candidate_name``)."""
        return {candidate_name(schedule, threads, self.threads) for schedule in self.programs
                for threads in self.thread_options or (self.threads,)}

    def thread_text(self) -> str:
        """``N thread(s)``: of the last call, or what a call of batch 1 would use, with the packed count
        when ``auto`` packed for more."""
        used = self.last_threads or self.threads_for(self.last_batch or 1, self.last_steps)
        return f"{used} thread(s)" + (f" (packed for {self.threads})" if used != self.threads else "")

    def threads_for(self, batch: int, steps: int | None = None) -> int:
        """The threads a call of ``batch`` sequences over ``steps`` steps runs on: those of the
        measured candidate of ``auto`` (``tsi@1``: one; a bare name: the layer's threads), else
        the layer's default (the size rule)."""
        decided = self._decided(batch, steps)
        if decided is None:
            return self.default_threads or self.threads
        return parse_candidate(decided.schedule)[1] or self.threads

    def decide(self, batch: int, steps: int, packed: PackedDirection, isa: str | None) -> None:
        """Make sure ``auto`` has a measured decision for ``batch``'s bucket and a call of ``steps``
        steps (one-step calls are decided apart): from this process, from the decision store, or
        (tuning ``on``) by timing every packed program on ``packed`` now and recording the result."""
        bucket = (batch_bucket(batch), steps == 1)
        if self.requested != "auto" or self.tuning == "off" or bucket in self.decided or self.config is None:
            return
        config = replace(self.config, batch_bucket=bucket[0], single_step=bucket[1])
        store = decision_store()
        memo = (str(store.path), store.signature, config.key)
        decision = _PROCESS_DECISIONS.get(memo)
        if decision is None:
            decision = store.get(config)
            if decision is not None and set(decision.ms_per_step) != self.candidates():
                decision = None  # recorded by a version with other candidates: measure again
            if decision is not None and self.tuning == "on" and not self._still_holds(decision, batch, steps, packed, isa):
                decision = None  # recorded under other conditions (a busy machine): measure again
        if decision is not None:
            _PROCESS_DECISIONS[memo] = decision
            self._adopt(bucket, decision, "on record")
        elif self.tuning == "on":
            self.measure(batch, packed, isa, steps=1 if steps == 1 else TUNING_STEPS)

    def _still_holds(self, decision: Decision, batch: int, steps: int, packed: PackedDirection, isa: str | None) -> bool:
        """Whether a decision read from the store holds here and now: not recorded as noisy; its
        winner (best of RECHECK_RUNS timed runs) within RECHECK_SLOWDOWN of its recorded time; and
        when it cut threads, still RECHECK_MARGIN faster than the best candidate on the layer's
        threads (a one-thread choice made beside a busy process must not stick)."""
        if decision.noisy:
            return False
        steps = 1 if steps == 1 else decision.steps
        runs = _timed_runs(packed, self.programs, batch, steps, isa, self.config.host if self.config else "")
        names = [decision.schedule]
        if parse_candidate(decision.schedule)[1] is not None:
            full = [name for name in decision.ms_per_step if parse_candidate(name)[1] is None]
            names += [min(full, key=lambda name: decision.ms_per_step[name])] if full else []
        if any(name not in runs for name in names):
            return False
        now = {name: min(times) for name, times in measure({n: runs[n] for n in names}, steps, RECHECK_RUNS).items()}
        winner_ms = now[decision.schedule]
        if winner_ms > RECHECK_SLOWDOWN * decision.ms_per_step[decision.schedule]:
            return False
        return all(winner_ms < (1 - RECHECK_MARGIN) * now[name] for name in names[1:])

    def measure(self, batch: int, packed: PackedDirection, isa: str | None, *, steps: int = TUNING_STEPS,
                repeats: int = TUNING_REPEATS) -> Decision:
        """Time every packed program of ``auto`` on ``packed`` at ``batch`` (``repeats`` interleaved
        runs of ``steps`` steps), record the decision in the store and adopt it; returns it."""
        if self.config is None or self.requested != "auto":
            raise InvalidParameterError("schedule", self.requested, "only schedule='auto' measures its candidates")
        config = replace(self.config, batch_bucket=batch_bucket(batch), single_step=steps == 1)
        decision = measured_decision(_timed_runs(packed, self.programs, batch, steps, isa, self.config.host), steps, batch,
                                     repeats)
        store = decision_store()
        store.put(config, decision)
        _PROCESS_DECISIONS[(str(store.path), store.signature, config.key)] = decision
        self._adopt((config.batch_bucket, config.single_step), decision, "measured now")
        return decision

    def _adopt(self, bucket: tuple[int, bool], decision: Decision, source: str) -> None:
        self.generation += 1
        self.measured[bucket] = decision
        self.decided[bucket] = ScheduleChoice(
            "auto", decision.schedule,
            f"{decision.explain()}: measured on this machine at batch {decision.batch} ({source}, "
            f"{decision.measured_at}): {decision.describe()}",
        )

    def describe(self, layer: RecurrentLayer, last_batch: int | None, isa: str) -> str:
        """One paragraph on this layer: sizes, schedule and why, fallbacks, threads, tile, and the
        arithmetic of its weight type on ``isa``."""
        sizes = f"input {layer.input_size}, hidden {layer.hidden_size}"
        if layer.proj_size:
            sizes += f", proj {layer.proj_size}"
        dirs = "bidirectional" if layer.bidirectional else "unidirectional"
        lines = [f"layer {self.index}: {layer.cell.upper()} {sizes}, {dirs}"]
        batches = (last_batch,) if last_batch is not None else (1, 4)
        for batch in batches:
            choice, program = self.choose(batch, self.last_steps if last_batch is not None else None)
            when = f"last call, batch {batch}" if last_batch is not None else f"batch {batch}"
            lines.append(f"  schedule ({when}): {program.schedule} (requested {self.requested}; {choice.reason})")
        for program in self.programs.values():
            if program.fell_back:
                lines.append(f"  fallback: {program.requested_schedule} -> {program.schedule}")
            lines += [f"  note ({program.schedule}): {note}" for note in program.notes]
        together = self.concurrent_directions(last_batch or 1, self.last_steps) if layer.bidirectional else None
        if together is not None:
            lines.append(f"  directions: both at once, {together[0].schedule} on {together[1]} thread(s) each (estimated "
                         f"{CONCURRENT_GAIN:.0%}+ faster than one after the other from the measured ms/step)")
        lines.append(
            f"  kernel: {self.thread_text()}, tile {self.tile} units, packed recurrent weights "
            f"{self.packed_bytes / 2**20:.2f} MiB per direction, {self.weight_dtype}"
            + arithmetic_note(self.weight_dtype, isa, self.tile, layer.variant)
        )
        return "\n".join(lines)


def _timed_runs(packed: PackedDirection, programs: dict[str, Program], batch: int, steps: int,
                isa: str | None, host: str) -> dict[str, Any]:
    """One closure per candidate (every program on every thread count ``packed`` has op lists for,
    named by ``candidate_name``) running ``steps`` steps of random input at ``batch`` (at most one
    kernel call's batch) on ``packed``, called as ``host`` calls it ('' for no framework: the
    workers linger after each run; else they do not, and torch's own threads run them when
    registered), as the module's real calls are."""
    batch = min(batch, MAX_KERNEL_BATCH)
    x = np.random.default_rng(0).standard_normal((steps, batch, packed.input_size)).astype(np.float32)
    h0 = np.zeros((batch, packed.recurrent), dtype=np.float32)
    c0 = np.zeros((batch, packed.hidden), dtype=np.float32) if packed.spec.has_cell_state else None
    return {
        candidate_name(program.schedule, threads, packed.threads):
            (lambda schedule=program.schedule, threads=threads: run_packed(packed, x, h0, c0, isa=isa, schedule=schedule,
                                                                            threads=threads, linger=not host,
                                                                            team=host == TEAM_HOST))
        for program in programs.values() for threads in packed.thread_options
    }
