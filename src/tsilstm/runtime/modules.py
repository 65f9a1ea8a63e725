"""``RecurrentModule``: a layer stack whose recurrence runs in the native kernel (packing, ``auto``'s
per-layer runs, the forward pass); ``LSTM`` and ``GRU`` (``lstm_gru``) give it torch's constructors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from tsilstm.cells.stack import run_model
from tsilstm.errors import InvalidParameterError
from tsilstm.hardware import last_level_cache_bytes, usable_cores
from tsilstm.model import DirectionWeights, RecurrentLayer, RecurrentModel
from tsilstm.plan import make_program, make_tiling
from tsilstm.plan.ops import Program
from tsilstm.runtime.call_plan import MAX_PLANS, CallPlan, fits_one_chunk, layer_call, plannable
from tsilstm.runtime.execution import TEAM_HOST, available_isas, run_packed
from tsilstm.runtime.infinite_inputs import finite_stand_in, has_infinity, restore_nan
from tsilstm.runtime.kernel_abi import ISAS, MAX_TILE_UNITS, WEIGHT_BYTES
from tsilstm.runtime.kernel_options import KernelOptions
from tsilstm.runtime.layer_run import AUTO_CANDIDATES, LayerRun
from tsilstm.runtime.memory_budget import check_packing_fits
from tsilstm.runtime.packing import PackedDirection, pack_direction
from tsilstm.runtime.schedule_tuning import TUNING_REPEATS, TUNING_STEPS, Decision, LayerConfig, tuning_mode
from tsilstm.runtime.tile_defaults import default_tile_units
from tsilstm.runtime import worker_threads
from tsilstm.runtime.tensor_io import from_numpy_like, is_torch_tensor, to_float32_array, to_int_array
from tsilstm.validation import require_choice, require_int

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


class RecurrentModule:
    """A stack of LSTM or GRU layers run by the native kernel (see ``LSTM`` and ``GRU``)."""

    cell = ""
    dropout = 0.0
    """torch's dropout between layers: accepted for torch's signature, no effect in inference."""

    def __init__(self, model: RecurrentModel, *, batch_first: bool = False, options: KernelOptions | None = None,
                 host: str | None = None, **settings: Any) -> None:
        """``model``'s layers run by the kernel with ``options`` (or the keyword ``settings`` that make
        them: schedule, threads, weight_dtype, tile, isa, tuning; see ``KernelOptions``). ``host``:
        the framework that calls it from inside its graph (one of HOSTS), None when called directly."""
        if options is not None and settings:
            raise InvalidParameterError("options", "given with " + ", ".join(sorted(settings)),
                                        "give KernelOptions or its fields as keywords, not both")
        options = options if options is not None else KernelOptions(**settings)
        if not isinstance(options, KernelOptions):
            raise InvalidParameterError("options", type(options).__name__, "must be a tsilstm.runtime.KernelOptions")
        if not isinstance(model, RecurrentModel):
            raise InvalidParameterError("model", type(model).__name__, "must be a tsilstm.model.RecurrentModel")
        if any(layer.cell != self.cell for layer in model.layers):
            raise InvalidParameterError("model", model.cell, f"every layer must be a {self.cell.upper()}")
        if not isinstance(batch_first, bool):
            raise InvalidParameterError("batch_first", batch_first, "must be True or False")
        self.options = options
        """How the kernel runs this module (validated once)."""
        threads = usable_cores() if options.threads is None else options.threads
        self.weight_dtype = options.dtype
        self.tuning = tuning_mode(options.tuning)
        self.host = None if host is None else require_choice("host", host, HOSTS)
        """The framework calling this module from inside its own graph (its threads need the cores
        between calls: the kernel's workers then sleep right after each call), or None."""
        worker_threads.apply_environment()
        self.model = model
        self.batch_first = batch_first
        self.requested_schedule = options.schedule
        self.threads = threads
        self.isa = options.isa
        self.llc_bytes = self.machine_llc_bytes()
        self._packed: dict[int, tuple[int, PackedDirection]] = {}
        self._executor: ThreadPoolExecutor | None = None  # runs reverse directions beside forward ones
        self._first_packed_of: dict[int, PackedDirection] | None = None
        self._last_batch: int | None = None
        self._plans: dict[tuple[int, ...], CallPlan] = {}  # by input shape (call_plan)
        self._last_plan: CallPlan | None = None
        self.layer_runs: list[LayerRun] = []
        check_packing_fits(model, self.weight_dtype, options.tile_units)
        for index, layer in enumerate(model.layers):
            self.layer_runs.append(self._prepare_layer(index, layer, options.schedule, threads, options.tile))

    def machine_llc_bytes(self) -> int | None:
        """The last-level cache ``schedule="auto"`` compares the recurrent weights with, in bytes:
        this machine's (``hardware.last_level_cache_bytes``), None when unknown. A subclass may
        answer for another machine."""
        return last_level_cache_bytes()

    @classmethod
    def from_model(cls, model: RecurrentModel, *, batch_first: bool = False, options: KernelOptions | None = None,
                   host: str | None = None, **settings: Any) -> "RecurrentModule":
        """A module of this class (LSTM or GRU) running the layers and weights of ``model`` (e.g.
        from an importer); every layer must be of this cell type. ``options`` or its fields as
        keywords (``KernelOptions``); ``host`` as for the constructor."""
        module = cls.__new__(cls)
        RecurrentModule.__init__(module, model, batch_first=batch_first, options=options, host=host, **settings)
        return module

    def __getstate__(self) -> dict[str, Any]:
        """What a pickle or deep copy carries: the model (its weights) and the constructor options;
        the packed weights are not sent but rebuilt on arrival (``__setstate__``)."""
        return {"model": self.model, "batch_first": self.batch_first, "options": self.options, "host": self.host,
                "dropout": self.dropout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild the module from ``__getstate__``'s state: packs the weights again in this process."""
        RecurrentModule.__init__(self, state["model"], batch_first=state["batch_first"], options=state["options"],
                                 host=state["host"])
        self.dropout = float(state.get("dropout", 0.0))

    def _prepare_layer(self, index: int, layer: RecurrentLayer, schedule: str, threads: int, tile: int | None) -> LayerRun:
        units = min(default_tile_units(self.weight_dtype), layer.hidden_size) if tile is None else require_int(
            "tile", tile, maximum=min(layer.hidden_size, MAX_TILE_UNITS)
        )
        recurrent_bytes = layer.shape.recurrent_weight_bytes(WEIGHT_BYTES[self.weight_dtype])
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
        if lengths is None and type(input) is np.ndarray:  # noqa: E721 - a repeated call: its plan
            plan = self._plans.get(input.shape)
            if plan is not None:
                result = self.run_plan(plan, input, h0, c0)
                if result is not None:
                    return result
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
        if lengths is None and not like_torch:
            self._remember_plan(x, batch, steps)
        if like_torch:
            return from_numpy_like(out), _like_torch(h_n), _like_torch(c_n)
        return out, h_n, c_n

    def plan_for(self, shape: tuple[int, ...]) -> CallPlan | None:
        """The plan of calls of input ``shape`` (made after such a call ran the general path), if any."""
        return self._plans.get(shape)

    def run_plan(self, plan: CallPlan, x: np.ndarray, h0: Any, c0: Any) -> tuple[Any, Any, Any] | None:
        """``plan`` run on ``x`` (of its shape, float32) from ``h0`` / ``c0`` (float32 arrays of the
        stack's state shapes, or None): (output, h_n, c_n), or None when this call must take the
        general path (a layer's choice changed, an argument is of another kind, see CallPlan.run)."""
        runs = self.layer_runs
        if any(run.generation != generation for run, generation in zip(runs, plan.generations)):
            self._plans.clear()
            return None
        steps, batch, _ = plan.shape
        if not (x.dtype == np.float32 and x.flags.c_contiguous and _plain_state(h0, (len(runs), batch, plan.layers[0].width))
                and _plain_state(c0, (len(runs), batch, plan.layers[0].hidden))):
            return None
        result = plan.run(x, h0, c0)
        if result is not None and self._last_plan is not plan:
            self._last_plan = plan
            self._last_batch = batch
            for run in runs:
                run.last_batch, run.last_steps = batch, steps
                run.last_threads = run.threads_for(batch, steps)
        return result

    def _remember_plan(self, x: np.ndarray, batch: int, steps: int) -> None:
        """Keep a plan for calls of ``x``'s shape when they can have one (call_plan.plannable, one time
        chunk, every layer's choice settled)."""
        layers = self.model.layers
        if x.shape in self._plans or not plannable(x, self.model.uniform_states,
                                                   all(not layer.bidirectional for layer in layers), self.batch_first):
            return
        calls = []
        for run in self.layer_runs:
            packed = self._first_packed(run.index)
            if not run.settled(batch, steps) or not fits_one_chunk(steps, batch, packed.bias_x.size):
                return
            _, program = run.choose(batch, steps)
            calls.append(layer_call(packed, program.schedule, self.isa, run.threads_for(batch, steps),
                                    self.host is None, self.host == TEAM_HOST, steps))
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        self._plans[x.shape] = CallPlan(x.shape, tuple(calls), tuple(run.generation for run in self.layer_runs),
                                        layers[0].spec.has_cell_state, self.weight_dtype == "int8")

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
        with_c = layer.spec.has_cell_state
        c_start = _one_slot_state(c0, batch, layer.hidden_size) if with_c else None
        if h_start is None or (with_c and c_start is None):
            return None
        y, h_last, c_last = self._run_direction(layer, layer.directions[0], x, h_start, c_start)
        return y, h_last[None], None if c_last is None else c_last[None]

    def _first_packed(self, index: int) -> PackedDirection:
        if self._first_packed_of is None:
            self._first_packed_of = {}
            for layer, packed in self._packed.values():
                self._first_packed_of.setdefault(layer, packed)
        return self._first_packed_of[index]

    def _direction_executor(self, index: int, batch: int, steps: int) -> ThreadPoolExecutor | None:
        """A worker for the reverse direction of bidirectional layer ``index`` in a call of ``batch``
        over ``steps`` steps when the two directions run at once: their kernel threads together fit
        in the module's threads, or ``auto`` measured half the threads each to be faster
        (``LayerRun.concurrent_directions``); else None (they run one after the other)."""
        run = self.layer_runs[index]
        if 2 * run.threads > self.threads and run.concurrent_directions(batch, steps) is None:
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
        together = run.concurrent_directions(x.shape[1], x.shape[0]) if layer.bidirectional else None
        if together is not None and 2 * run.threads > self.threads:  # (as _direction_executor decided)
            program, threads = together
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
            team=self.host == TEAM_HOST,
            lengths=lengths,
        )


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


def _plain_state(state: Any, shape: tuple[int, int, int]) -> bool:
    """Whether ``state`` is None or a C-contiguous float32 array of exactly ``shape``."""
    return state is None or (type(state) is np.ndarray and state.dtype == np.float32  # noqa: E721
                             and state.shape == shape and state.flags.c_contiguous)


def _one_slot_state(state: Any, batch: int, width: int) -> np.ndarray | None:
    """The (batch, width) start state of a one-direction layer: zeros for None, ``state[0]`` for an
    array of exactly (1, batch, width), else None (the general path checks and reports it)."""
    if state is None:
        return np.zeros((batch, width), dtype=np.float32)
    if isinstance(state, np.ndarray) and state.shape == (1, batch, width):
        return state[0]
    return None


__all__ = ["RecurrentModule", "LayerRun", "ISAS"]
