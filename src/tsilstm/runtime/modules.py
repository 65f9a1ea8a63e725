"""``LSTM`` and ``GRU``: PyTorch-compatible modules whose recurrence runs in the native kernel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from tsilstm.cells.stack import run_model
from tsilstm.errors import InvalidParameterError
from tsilstm.hardware import cache_sizes_bytes, cpu_identity, last_level_cache_bytes, usable_cores
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel
from tsilstm.plan import make_program, make_tiling
from tsilstm.plan.ops import Program
from tsilstm.runtime.execution import available_isas, run_packed
from tsilstm.runtime.infinite_inputs import finite_stand_in, has_infinity, restore_nan
from tsilstm.runtime.kernel_abi import ISAS, MAX_TILE_UNITS, WEIGHT_BYTES, WEIGHT_DTYPES
from tsilstm.runtime.precision import arithmetic_note
from tsilstm.runtime.memory_budget import check_packing_fits, check_shapes_fit, stacked_layer_shapes, stored_weight_bytes
from tsilstm.runtime.packing import PackedDirection, pack_direction
from tsilstm.runtime.schedule_choice import (
    RUNTIME_SCHEDULES,
    ScheduleChoice,
    choose_schedule,
)
from tsilstm.runtime.decision_store import DecisionStore, default_store_path
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
    tuning_mode,
)
from tsilstm.runtime import worker_threads
from tsilstm.runtime.tensor_io import from_numpy_like, is_torch_tensor, to_float32_array, to_int_array
from tsilstm.validation import require_choice, require_int

DEFAULT_TILE_UNITS = 64
"""Default tile in hidden units for float weights (a 4 x 64 x 64 fp32 LSTM tile is 64 KiB); chosen
by measurement, see runtime/calibrate.py."""
DEFAULT_TILE_UNITS_BY_DTYPE = {"int8": 128}
"""Weight types whose default tile differs: int8 tiles of 128 units hold as many bytes as float32
ones of 64 and halve the share of the per-row scale and offset (8 bytes per row and tile); measured faster."""


STREAM_BUFFER_TILES = 4
"""The plans are generated for a buffer of this many tiles: on a CPU the cache is not managed by
the plan, so the runtime executes the streaming form of every schedule (loads are ignored)."""
MIN_WEIGHT_BYTES_PER_THREAD = 128 * 1024
"""A layer runs on at most (recurrent weight bytes / this) threads, and at least one: below it the
per-step hand-offs between threads cost more than the split saves. Measured 2026-12-02 on the
2-vCPU Intel Xeon (AVX-512, 2 MiB L2 per core; quiet, load 1.2-1.5) with the kernel's persistent
workers, threads=1 vs 2, best of 7 (`/tmp` script timing module calls side by side): LSTM 256
(W_h 1 MiB) T=150 15.2 vs 8.0 us/step, batch 4 37.4 vs 21.7; GRU 512 T=25 129 vs 35; LSTM 512
T=25 188 vs 61; GRU 256 T=50 11.6 vs 6.7; one-step calls LSTM 256 90 vs 38 us, GRU 512 310 vs
173, LSTM 128 (256 KiB) 24.8 vs 23.4. (On the 2-core EPYC of 2026-11-25, with threads created
per call, the crossover was near 2 MiB.)"""
HOSTS = ("torch", "onnxruntime")
"""Frameworks that call a module from inside their own graphs (``host``)."""
MAX_THREADS = 256
"""Upper bound accepted for ``threads`` (more threads than row-blocks are never started)."""
AUTO_CANDIDATES = ("tsi", "conventional")
"""The programs ``schedule="auto"`` packs and times (over the same packed weights)."""
RECHECK_SLOWDOWN = 1.5
"""A decision read from the store is measured again when its winner now runs this many times slower
than recorded."""
RECHECK_MARGIN = 0.05
"""A recorded decision for fewer threads than the layer's is measured again unless it still runs
this fraction faster than the best candidate on the layer's threads."""
RECHECK_RUNS = 3
"""Timed runs of each candidate when a recorded decision is checked (the fastest counts)."""
_PROCESS_DECISIONS: dict[tuple[str, str, str], Decision] = {}
"""Decisions this process has read or measured, by (store path, machine signature, configuration key)."""


def default_tile_units(weight_dtype: str) -> int:
    """The tile (hidden units) used when none is given, for weights of ``weight_dtype``."""
    return DEFAULT_TILE_UNITS_BY_DTYPE.get(weight_dtype, DEFAULT_TILE_UNITS)


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
    thread_options: tuple[int, ...] = ()
    """Thread counts the packed op lists serve (``threads`` first); ``auto`` measures each."""
    default_threads: int = 0
    """Threads without a measured decision (the size rule; 0: ``threads``)."""
    last_threads: int | None = None
    """Threads of the last call (None before the first)."""
    last_steps: int | None = None
    """Steps of the last call (None before the first)."""

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

    def _decided(self, batch: int, steps: int | None) -> ScheduleChoice | None:
        """``auto``'s measured (or recorded) choice for a call of ``batch`` over ``steps`` steps, if any."""
        return self.decided.get((batch_bucket(batch), steps == 1)) if self.requested == "auto" else None

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
        runs = _timed_runs(packed, self.programs, batch, steps, isa, not self.config.host if self.config else True)
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
        decision = measured_decision(_timed_runs(packed, self.programs, batch, steps, isa, not self.config.host), steps, batch,
                                     repeats)
        store = decision_store()
        store.put(config, decision)
        _PROCESS_DECISIONS[(str(store.path), store.signature, config.key)] = decision
        self._adopt((config.batch_bucket, config.single_step), decision, "measured now")
        return decision

    def _adopt(self, bucket: tuple[int, bool], decision: Decision, source: str) -> None:
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
        lines.append(
            f"  kernel: {self.thread_text()}, tile {self.tile} units, packed recurrent weights "
            f"{self.packed_bytes / 2**20:.2f} MiB per direction, {self.weight_dtype}"
            + arithmetic_note(self.weight_dtype, isa, self.tile, layer.variant)
        )
        return "\n".join(lines)


class RecurrentModule:
    """A stack of LSTM or GRU layers run by the native kernel (see ``LSTM`` and ``GRU``)."""

    cell = ""
    dropout = 0.0
    """torch's dropout between layers: accepted for torch's signature, no effect in inference."""

    def __init__(
        self,
        model: RecurrentModel,
        *,
        batch_first: bool = False,
        schedule: str = "auto",
        threads: int | None = None,
        tile: int | None = None,
        isa: str | None = None,
        weight_dtype: str = "float32",
        tuning: str | None = None,
        host: str | None = None,
    ) -> None:
        if not isinstance(model, RecurrentModel):
            raise InvalidParameterError("model", type(model).__name__, "must be a tsilstm.model.RecurrentModel")
        if any(layer.cell != self.cell for layer in model.layers):
            raise InvalidParameterError("model", model.cell, f"every layer must be a {self.cell.upper()}")
        if not isinstance(batch_first, bool):
            raise InvalidParameterError("batch_first", batch_first, "must be True or False")
        self._options = {"batch_first": batch_first, "schedule": schedule, "threads": threads, "tile": tile,
                         "isa": isa, "weight_dtype": weight_dtype, "tuning": tuning, "host": host}
        threads = usable_cores() if threads is None else require_int("threads", threads, maximum=MAX_THREADS)
        if isa is not None:
            require_choice("isa", isa, available_isas())
        self.weight_dtype = require_choice("weight_dtype", weight_dtype, WEIGHT_DTYPES)
        self.tuning = tuning_mode(tuning)
        self.host = None if host is None else require_choice("host", host, HOSTS)
        """The framework calling this module from inside its own graph (its threads need the cores
        between calls: the kernel's workers then sleep right after each call), or None."""
        worker_threads.apply_environment()
        self.model = model
        self.batch_first = batch_first
        self.requested_schedule = schedule
        self.threads = threads
        self.isa = isa
        self.llc_bytes = self.machine_llc_bytes()
        self._packed: dict[int, tuple[int, PackedDirection]] = {}
        self._executor: ThreadPoolExecutor | None = None  # runs reverse directions beside forward ones
        self._first_packed_of: dict[int, PackedDirection] | None = None
        self._last_batch: int | None = None
        self.layer_runs: list[LayerRun] = []
        tile_units = default_tile_units(self.weight_dtype) if tile is None else require_int("tile", tile, maximum=MAX_TILE_UNITS)
        check_packing_fits(model, WEIGHT_BYTES[self.weight_dtype], tile_units)
        for index, layer in enumerate(model.layers):
            self.layer_runs.append(self._prepare_layer(index, layer, schedule, threads, tile))

    def machine_llc_bytes(self) -> int | None:
        """The last-level cache ``schedule="auto"`` compares the recurrent weights with, in bytes:
        this machine's (``hardware.last_level_cache_bytes``), None when unknown. A subclass may
        answer for another machine."""
        return last_level_cache_bytes()

    @classmethod
    def from_model(cls, model: RecurrentModel, *, batch_first: bool = False, schedule: str = "auto",
                   threads: int | None = None, tile: int | None = None, isa: str | None = None,
                   weight_dtype: str = "float32", tuning: str | None = None,
                   host: str | None = None) -> "RecurrentModule":
        """A module of this class (LSTM or GRU) running the layers and weights of ``model`` (e.g.
        from an importer); every layer must be of this cell type. ``host``: the framework that
        calls it from inside its graph (one of HOSTS), None when called directly."""
        module = cls.__new__(cls)
        RecurrentModule.__init__(module, model, batch_first=batch_first, schedule=schedule, threads=threads, tile=tile,
                                 isa=isa, weight_dtype=weight_dtype, tuning=tuning, host=host)
        return module

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle or deep copy carries: the model (its weights) and the constructor options;
        the packed weights are not sent but rebuilt on arrival (``__setstate__``)."""
        return {"model": self.model, "options": dict(self._options), "dropout": self.dropout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the module from ``__getstate__``'s state: packs the weights again in this process."""
        RecurrentModule.__init__(self, state["model"], **state["options"])
        self.dropout = float(state.get("dropout", 0.0))

    def _prepare_layer(self, index: int, layer: RecurrentLayer, schedule: str, threads: int, tile: int | None) -> LayerRun:
        units = min(default_tile_units(self.weight_dtype), layer.hidden_size) if tile is None else require_int(
            "tile", tile, maximum=min(layer.hidden_size, MAX_TILE_UNITS)
        )
        recurrent_bytes = layer.shape.recurrent_weight_bytes(WEIGHT_BYTES[self.weight_dtype])
        require_choice("schedule", schedule, RUNTIME_SCHEDULES)
        candidates = AUTO_CANDIDATES if schedule == "auto" else (schedule,)
        tiling = make_tiling(
            layer.hidden_size, layer.input_size, tile=units, cell=layer.cell, proj_size=layer.proj_size
        )
        buffer_bytes = tiling.max_tile_bytes * STREAM_BUFFER_TILES
        programs = {name: make_program(name, tiling, buffer_bytes, variant=layer.variant) for name in candidates}
        first, *rest = programs.values()
        by_size = max(1, recurrent_bytes // MIN_WEIGHT_BYTES_PER_THREAD) if MIN_WEIGHT_BYTES_PER_THREAD else threads
        rule_threads = min(threads, tiling.row_blocks, by_size)
        # auto packs for every thread it may use and measures fewer too; an explicit schedule
        # runs the size rule's count
        layer_threads = min(threads, tiling.row_blocks) if schedule == "auto" else rule_threads
        fewer = tuple(sorted({rule_threads, 1} - {layer_threads}, reverse=True))
        packed_bytes = 0
        for weights in layer.directions:
            packed = pack_direction(first, layer, weights, layer_threads, tuple(rest), self.weight_dtype,
                                    self.isa or available_isas()[-1], fewer)
            self._packed[id(weights)] = (index, packed)
            packed_bytes = packed.weight_bytes
        config = LayerConfig(layer.cell, layer.variant, layer.hidden_size, layer.input_size, layer.proj_size, 0,
                             layer_threads, self.weight_dtype, host=self.host or "")
        return LayerRun(index, schedule, programs, layer_threads, units, packed_bytes, recurrent_bytes, self.llc_bytes,
                        self.weight_dtype, config=config, tuning=self.tuning, default_threads=rule_threads,
                        thread_options=(layer_threads, *fewer))

    def tune(self, batch: int = 1, *, steps: int = TUNING_STEPS, repeats: int = TUNING_REPEATS) -> list[Decision]:
        """Measure ``auto``'s candidates for every layer at ``batch`` now (``repeats`` interleaved
        runs of ``steps`` steps on the layer's packed weights), record and use the decisions; returns
        them, one per layer. ``tsilstm calibrate`` fills the store this way ahead of time."""
        batch = require_int("batch", batch)
        steps = require_int("steps", steps)
        repeats = require_int("repeats", repeats)
        decisions = []
        for run in self.layer_runs:
            packed = next(p for i, p in self._packed.values() if i == run.index)
            decisions.append(run.measure(batch, packed, self.isa, steps=steps, repeats=repeats))
        return decisions

    # ------------------------------------------------------------------ properties like torch's

    @property
    def input_size(self) -> int:
        """Features of the input."""
        return self.model.layers[0].input_size

    @property
    def hidden_size(self) -> int:
        """Hidden units per layer."""
        return self.model.layers[0].hidden_size

    @property
    def num_layers(self) -> int:
        """Number of stacked layers."""
        return len(self.model.layers)

    @property
    def bidirectional(self) -> bool:
        """True when every layer has a reverse direction."""
        return self.model.layers[0].bidirectional

    @property
    def schedule_info(self) -> list[dict[str, Any]]:
        """Per layer: requested and executed schedule (of the last call, or for batch 1 before any
        call), the reason, fallback notes, threads, tile and packed bytes."""
        info = []
        for run in self.layer_runs:
            batch = self._last_batch if self._last_batch is not None else 1
            choice, program = run.choose(batch, run.last_steps)
            info.append({
                "layer": run.index,
                "requested": run.requested,
                "schedule": program.schedule,
                "batch": batch,
                "reason": choice.reason,
                "fell_back": program.fell_back,
                "notes": list(program.notes),
                "threads": run.threads_for(batch, run.last_steps),
                "packed_threads": run.threads,
                "tile": run.tile,
                "packed_bytes": run.packed_bytes,
            })
        return info

    def plan_summary(self) -> str:
        """What runs, layer by layer: the schedule picked and why (fallbacks included), threads, tile,
        the last-level cache it was compared with and the tile product's instruction set."""
        isa = self.isa or available_isas()[-1]
        head = (
            f"tsilstm {self.cell.upper()}: {self.num_layers} layer(s), schedule={self.requested_schedule}, "
            f"threads={self.threads}, last-level cache "
            + ("unknown" if self.llc_bytes is None else f"{self.llc_bytes / 2**20:.0f} MiB") + f", tile product {isa}"
        )
        body = [run.describe(layer, self._last_batch, isa) for run, layer in zip(self.layer_runs, self.model.layers)]
        return "\n".join([head, *body])

    # ------------------------------------------------------------------ forward

    def _forward(self, input: Any, h0: Any, c0: Any, lengths: Any = None) -> tuple[Any, Any, Any]:
        like_torch = is_torch_tensor(input)
        x = to_float32_array(input, "input")
        if x.ndim not in (2, 3):
            raise InvalidParameterError("input", x.shape, "must have 2 (T, X) or 3 dimensions (T, N, X) / (N, T, X)")
        steps = x.shape[1] if (x.ndim == 3 and self.batch_first) else x.shape[0]
        if steps == 0:
            raise InvalidParameterError("input", x.shape, "the sequence length must be at least 1 (torch rejects empty sequences too)")
        if x.ndim == 3 and x.shape[0 if self.batch_first else 1] == 0:
            raise InvalidParameterError("input", x.shape, "the batch must hold at least one sequence")
        h0, c0 = (self._state_array(state, name) for state, name in ((h0, "h_0"), (c0, "c_0")))
        batch = x.shape[1] if x.ndim == 3 and not self.batch_first else (x.shape[0] if x.ndim == 3 else 1)
        for run in self.layer_runs:  # before any direction runs, so two concurrent directions never measure
            run.decide(batch, steps, self._first_packed(run.index), self.isa)
        single = self._single_direction(x, h0, c0) if lengths is None else None
        if lengths is not None:
            lengths = _checked_lengths(lengths, x, steps, batch)
            time_major = x.transpose(1, 0, 2) if self.batch_first else x
            out, h_n, c_n = run_model(self.model, time_major, h0, c0, self._run_direction,
                                      concurrent=self._direction_executor, lengths=lengths)
            if self.batch_first:
                out = np.ascontiguousarray(out.transpose(1, 0, 2))
        elif single is not None:
            out, h_n, c_n = single
        else:
            out, h_n, c_n = run_model(self.model, x, h0, c0, self._run_direction, batch_first=self.batch_first,
                                      concurrent=self._direction_executor)
        if like_torch:
            return from_numpy_like(out), _like_torch(h_n), _like_torch(c_n)
        return out, h_n, c_n

    def _single_direction(self, x: np.ndarray, h0: Any, c0: Any) -> tuple[np.ndarray, np.ndarray, Any] | None:
        """The short way for what streaming calls mostly are: one forward layer, time-major (T, N, X)
        input and states of exactly (1, N, P) / (1, N, H) or None. Returns what ``run_model`` would
        (it does the same with less bookkeeping), or None when the call is not of that kind."""
        layers = self.model.layers
        if len(layers) != 1 or layers[0].direction != "forward" or self.batch_first or x.ndim != 3:
            return None
        layer = layers[0]
        steps, batch, features = x.shape
        if features != layer.input_size:
            return None
        h_start = _one_slot_state(h0, batch, layer.recurrent_size)
        c_start = _one_slot_state(c0, batch, layer.hidden_size) if layer.cell == "lstm" else None
        if h_start is None or (layer.cell == "lstm" and c_start is None):
            return None
        y, h_last, c_last = self._run_direction(layer, layer.directions[0], x, h_start, c_start)
        return y, h_last[None], None if c_last is None else c_last[None]

    def _first_packed(self, index: int) -> PackedDirection:
        if self._first_packed_of is None:
            self._first_packed_of = {}
            for layer, packed in self._packed.values():
                self._first_packed_of.setdefault(layer, packed)
        return self._first_packed_of[index]

    def _direction_executor(self, index: int) -> ThreadPoolExecutor | None:
        """A worker for the reverse direction of layer ``index`` when the two directions' kernel
        threads together fit in the module's threads, else None (they run one after the other)."""
        if 2 * self.layer_runs[index].threads > self.threads:
            return None
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tsilstm-reverse")
        return self._executor

    def _state_array(self, state: Any, name: str) -> Any:
        """An initial state as float32: one array, or for a stack whose layers differ in size
        (``model.uniform_states`` False) a tuple of one array per layer direction."""
        if state is None:
            return None
        if not self.model.uniform_states and isinstance(state, (list, tuple)):
            return tuple(to_float32_array(part, f"{name}[{index}]") for index, part in enumerate(state))
        return to_float32_array(state, name)

    def _run_direction(self, layer: RecurrentLayer, weights: DirectionWeights, x: np.ndarray, h0: np.ndarray,  # type: ignore[no-untyped-def]
                       c0: np.ndarray | None, lengths: np.ndarray | None = None):
        index, packed = self._packed[id(weights)]
        run = self.layer_runs[index]
        _, program = run.choose(x.shape[1], x.shape[0])  # decided in _forward, before any direction ran
        threads = run.threads_for(x.shape[1], x.shape[0])
        run.last_batch = self._last_batch = x.shape[1]
        run.last_steps = x.shape[0]
        run.last_threads = threads
        if self.weight_dtype == "int8" and has_infinity(x):  # float32's meaning of +-inf, which the int8 path's per-block scales cannot hold
            y, h_last, c_last = self._run_packed(packed, program, threads, finite_stand_in(x), h0, c0, lengths)
            restore_nan(layer, weights, x, y, h_last, c_last, lengths)
            return y, h_last, c_last
        return self._run_packed(packed, program, threads, x, h0, c0, lengths)

    def _run_packed(self, packed: PackedDirection, program: Program, threads: int, x: np.ndarray, h0: np.ndarray,  # type: ignore[no-untyped-def]
                    c0: np.ndarray | None, lengths: np.ndarray | None):
        return run_packed(
            packed,
            np.ascontiguousarray(x, dtype=np.float32),
            np.ascontiguousarray(h0, dtype=np.float32),
            None if c0 is None else np.ascontiguousarray(c0, dtype=np.float32),
            isa=self.isa,
            schedule=program.schedule,
            threads=threads,
            linger=self.host is None,
            lengths=lengths,
        )


class LSTM(RecurrentModule):
    """A multi-layer LSTM like ``torch.nn.LSTM`` (same arguments, gate order i, f, g, o and call),
    whose recurrence runs in the native kernel with ``schedule`` on ``threads`` threads.

    ``lstm(x, (h_0, c_0))`` returns ``output, (h_n, c_n)``; numpy arrays in give numpy arrays out,
    torch tensors in give torch tensors out. Weights are random like torch (uniform in
    +-1/sqrt(hidden_size)) from ``seed``; use ``LSTM.from_model`` or ``tsilstm.from_torch`` for
    given weights.
    """

    cell = "lstm"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        *,
        schedule: str = "auto",
        threads: int | None = None,
        tile: int | None = None,
        seed: int | None = None,
        isa: str | None = None,
        weight_dtype: str = "float32",
        tuning: str | None = None,
    ) -> None:
        self.dropout = _inference_dropout(dropout)
        model = _random_model("lstm", input_size, hidden_size, num_layers, bias, bidirectional, proj_size, seed, tile,
                              weight_dtype)
        super().__init__(model, batch_first=batch_first, schedule=schedule, threads=threads, tile=tile, isa=isa,
                         weight_dtype=weight_dtype, tuning=tuning)

    @property
    def proj_size(self) -> int:
        """Projection size (0: none)."""
        return self.model.layers[0].proj_size

    def __call__(self, input: Any, hx: Any = None, *, lengths: Any = None) -> tuple[Any, tuple[Any, Any]]:
        """Run the LSTM over ``input`` from ``hx = (h_0, c_0)`` (zeros when None); returns
        ``output, (h_n, c_n)`` with torch's shapes. ``lengths`` (one whole number per sequence, in
        [0, T]): sequences of mixed lengths in one kernel call; the output is zero beyond each length
        and the final states are each sequence's own last step's (a reverse direction starts there)."""
        if hx is None:
            h0 = c0 = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h0, c0 = hx
        else:
            raise InvalidParameterError("hx", type(hx).__name__, "must be None or a tuple (h_0, c_0)")
        out, h_n, c_n = self._forward(input, h0, c0, lengths)
        return out, (h_n, c_n)

    def __repr__(self) -> str:
        return (
            f"tsilstm.LSTM({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"batch_first={self.batch_first}, bidirectional={self.bidirectional}, proj_size={self.proj_size}, "
            f"schedule={self.requested_schedule!r}, threads={self.threads})"
        )


class GRU(RecurrentModule):
    """A multi-layer GRU like ``torch.nn.GRU`` (gate order r, z, n, reset applied after the
    recurrent product) whose recurrence runs in the native kernel; ``gru(x, h_0)`` returns
    ``output, h_n``. See ``LSTM`` for the other arguments."""

    cell = "gru"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        schedule: str = "auto",
        threads: int | None = None,
        tile: int | None = None,
        seed: int | None = None,
        isa: str | None = None,
        weight_dtype: str = "float32",
        tuning: str | None = None,
    ) -> None:
        self.dropout = _inference_dropout(dropout)
        model = _random_model("gru", input_size, hidden_size, num_layers, bias, bidirectional, 0, seed, tile, weight_dtype)
        super().__init__(model, batch_first=batch_first, schedule=schedule, threads=threads, tile=tile, isa=isa,
                         weight_dtype=weight_dtype, tuning=tuning)

    def __call__(self, input: Any, hx: Any = None, *, lengths: Any = None) -> tuple[Any, Any]:
        """Run the GRU over ``input`` from ``hx`` = h_0 (zeros when None); returns ``output, h_n``.
        ``lengths``: as for ``LSTM``."""
        if isinstance(hx, (tuple, list)) and self.model.uniform_states:
            raise InvalidParameterError("hx", type(hx).__name__, "must be None or one array h_0 for a GRU")
        out, h_n, _ = self._forward(input, hx, None, lengths)
        return out, h_n

    def __repr__(self) -> str:
        return (
            f"tsilstm.GRU({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"batch_first={self.batch_first}, bidirectional={self.bidirectional}, "
            f"schedule={self.requested_schedule!r}, threads={self.threads})"
        )


def _inference_dropout(dropout: Any) -> float:
    """``dropout`` checked as torch checks it (a number in [0, 1]); these modules run inference only,
    where dropout does nothing (as in torch's eval mode)."""
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= float(dropout) <= 1.0:
        raise InvalidParameterError("dropout", dropout, "must be a number in [0, 1] (inference: it has no effect)")
    return float(dropout)


def _checked_lengths(lengths: Any, x: np.ndarray, steps: int, batch: int) -> np.ndarray:
    """``lengths`` as (batch,) int32 in [0, steps], for batched input ``x``; raises naming ``lengths``."""
    if x.ndim != 3:
        raise InvalidParameterError("lengths", "given", "needs batched input (T, N, X) or (N, T, X)")
    values = to_int_array(lengths, "lengths")
    if values.shape != (batch,) or values.min(initial=0) < 0 or values.max(initial=0) > steps:
        raise InvalidParameterError("lengths", values.tolist() if values.size <= 16 else values.shape,
                                    f"must be {batch} whole numbers in [0, {steps}] (one per sequence)")
    return np.ascontiguousarray(values, dtype=np.int32)


def _like_torch(states: Any) -> Any:
    """Output states as torch tensors: one tensor, a tuple of them, or None."""
    if states is None:
        return None
    if isinstance(states, tuple):
        return tuple(from_numpy_like(part) for part in states)
    return from_numpy_like(states)


def _one_slot_state(state: Any, batch: int, width: int) -> np.ndarray | None:
    """The (batch, width) start state of a one-direction layer: zeros for None, ``state[0]`` for an
    array of exactly (1, batch, width), else None (the general path checks and reports it)."""
    if state is None:
        return np.zeros((batch, width), dtype=np.float32)
    if isinstance(state, np.ndarray) and state.shape == (1, batch, width):
        return state[0]
    return None


def _timed_runs(packed: PackedDirection, programs: dict[str, Program], batch: int, steps: int,
                isa: str | None, linger: bool) -> dict[str, Any]:
    """One closure per candidate (every program on every thread count ``packed`` has op lists for,
    named by ``candidate_name``) running ``steps`` steps of random input at ``batch`` (at most one
    kernel call's batch) on ``packed``, with the kernel's workers lingering after each run or not
    (as the module's real calls do)."""
    from tsilstm.runtime.kernel_abi import MAX_KERNEL_BATCH

    batch = min(batch, MAX_KERNEL_BATCH)
    x = np.random.default_rng(0).standard_normal((steps, batch, packed.input_size)).astype(np.float32)
    h0 = np.zeros((batch, packed.recurrent), dtype=np.float32)
    c0 = np.zeros((batch, packed.hidden), dtype=np.float32) if packed.cell == "lstm" else None
    return {
        candidate_name(program.schedule, threads, packed.threads):
            (lambda schedule=program.schedule, threads=threads: run_packed(packed, x, h0, c0, isa=isa, schedule=schedule,
                                                                            threads=threads, linger=linger))
        for program in programs.values() for threads in packed.thread_options
    }


def _random_model(cell: str, input_size: int, hidden_size: int, num_layers: int, bias: bool,
                  bidirectional: bool, proj_size: int, seed: int | None, tile: int | None,
                  weight_dtype: str) -> RecurrentModel:
    """Random float32 weights like torch's default init (uniform +-1/sqrt(hidden)); zero biases
    without ``bias``. The memory the weights and their packing need is checked before any is drawn."""
    for name, value in (("bias", bias), ("bidirectional", bidirectional)):
        if not isinstance(value, bool):
            raise InvalidParameterError(name, value, "must be True or False")
    input_size = require_int("input_size", input_size)
    hidden_size = require_int("hidden_size", hidden_size)
    num_layers = require_int("num_layers", num_layers)
    proj_size = require_int("proj_size", proj_size, minimum=0)
    if proj_size >= hidden_size:
        raise InvalidParameterError("proj_size", proj_size, f"must be 0 or smaller than hidden_size={hidden_size}")
    weight_dtype = require_choice("weight_dtype", weight_dtype, WEIGHT_DTYPES)
    tile_units = default_tile_units(weight_dtype) if tile is None else require_int("tile", tile, maximum=MAX_TILE_UNITS)
    shapes = stacked_layer_shapes(cell, input_size, hidden_size, num_layers, proj_size, bidirectional)
    float32_bytes = np.dtype(np.float32).itemsize
    check_shapes_fit(shapes, WEIGHT_BYTES[weight_dtype], tile_units,
                     also_allocating_bytes=sum(stored_weight_bytes(shape, float32_bytes) for shape in shapes))
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])
    seed = require_int("seed", seed, minimum=0)
    bound = 1.0 / np.sqrt(hidden_size)
    layers = []
    for index, shape in enumerate(shapes):
        rng = np.random.default_rng(seed + index)
        rows = shape.gates * hidden_size
        directions = []
        for _ in range(shape.directions):
            w_ih, w_hh = _uniform_float32(rng, (rows, shape.input_size), bound), _uniform_float32(rng, (rows, shape.recurrent_size), bound)
            b_ih, b_hh = (_uniform_float32(rng, (rows,), bound) for _ in range(2))
            if not bias:
                b_ih, b_hh = np.zeros(rows, np.float32), np.zeros(rows, np.float32)
            w_hr = _uniform_float32(rng, (proj_size, hidden_size), bound) if proj_size else None
            directions.append(DirectionWeights(w_ih, w_hh, b_ih, b_hh, w_hr))
        layers.append(RecurrentLayer(cell, shape.input_size, hidden_size, tuple(directions), proj_size, name=f"layer{index}"))
    return RecurrentModel(tuple(layers), name=f"random-{cell}")


def _uniform_float32(rng: np.random.Generator, shape: tuple[int, ...], bound: float) -> np.ndarray:
    """Uniform float32 values in [-bound, bound), drawn as float32 (no float64 temporary)."""
    values = rng.random(shape, dtype=np.float32)
    values *= np.float32(2 * bound)
    values -= np.float32(bound)
    return values


__all__ = ["LSTM", "GRU", "RecurrentModule", "LayerRun", "ISAS"]
