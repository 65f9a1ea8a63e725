"""``verify_model_file``: an imported model's outputs from the reference cell and from every
schedule's replay (and the native runtime when present), compared with the original framework
on the same input: onnxruntime for ONNX, torch for PyTorch, the reference cell for Keras."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from tsilstm.cells.stack import DirectionRunner, run_model, run_reference
from tsilstm.errors import TsilstmError
from tsilstm.model import RecurrentLayer, RecurrentModel
from tsilstm.plan import SCHEDULES
from tsilstm.plan.verification import checked_plan_maker
from tsilstm.plan.ops import Plan
from tsilstm.plan.replay import replay_runner
from tsilstm.validation import require_choice, require_int

TOLERANCE_VS_FRAMEWORK = 1e-4
"""Max abs difference allowed between tsilstm (float32 replay, float64 reference) and a float32
framework on unit-scale inputs: the acceptance figure of the model-file check."""
LOW_PRECISION_TOLERANCE = {"bfloat16": 5e-2, "int8": 0.5}
"""Max abs difference accepted from the runtime with low-precision weights (``weight_dtype``) on
unit-scale inputs over DEFAULT_STEPS steps: the rounding of the weights (and, for int8 on CPUs with
integer dot products, of x and h) grows through the recurrence; docs/design.md lists the errors
measured on the trained fixture models."""
DEFAULT_STEPS = 9
DEFAULT_BATCH = 2
Outputs = tuple[np.ndarray, np.ndarray, "np.ndarray | None"]


@dataclass(frozen=True)
class FileCheck:
    """One comparison: ``engine`` (reference, replay or runtime) running ``schedule`` on ``model``
    against ``against`` (onnxruntime, torch or reference); the error is the largest absolute
    difference over output, h_n and c_n."""

    model: str
    cell: str
    variant: str
    engine: str
    schedule: str
    executed_schedule: str
    against: str
    max_abs_error: float
    tolerance: float
    notes: tuple[str, ...] = ()
    skipped: str = ""

    @property
    def ok(self) -> bool:
        """True when the error is finite and within tolerance (or the check was skipped, see ``skipped``)."""
        if self.skipped:
            return True
        return bool(np.isfinite(self.max_abs_error)) and self.max_abs_error <= self.tolerance

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (those of ``tsilstm verify --json`` plus model, engine and against)."""
        return {
            "model": self.model, "cell": self.cell, "variant": self.variant, "engine": self.engine,
            "schedule": self.schedule, "executed_schedule": self.executed_schedule, "against": self.against,
            "max_abs_error": None if self.skipped else self.max_abs_error, "tolerance": self.tolerance, "ok": self.ok,
            "skipped": self.skipped, "notes": list(self.notes),
        }


def verify_model_file(path: str | Path, **options: object) -> list[FileCheck]:
    """Import every recurrent model of the file at ``path`` and ``verify_model`` each."""
    from tsilstm.importers import load_models

    results: list[FileCheck] = []
    for model in load_models(path):
        results += verify_model(model, **options)  # type: ignore[arg-type]
    return results


def verify_model(
    model: RecurrentModel,
    *,
    steps: int = DEFAULT_STEPS,
    batch: int = DEFAULT_BATCH,
    seed: int = 0,
    schedules: tuple[str, ...] = SCHEDULES,
    tile: int | None = None,
    buffer_bytes: int | None = None,
    tolerance: float = TOLERANCE_VS_FRAMEWORK,
    runtime: bool = True,
    weight_dtype: str = "float32",
) -> list[FileCheck]:
    """Compare ``model`` run by tsilstm with its framework on a random unit-scale input of ``steps``
    x ``batch`` and random initial states (seeded by ``seed``).

    Engines: the float64 reference (not for Keras, whose framework stand-in is the reference
    itself), the float32 replay of each of ``schedules`` with ``tile`` units per tile (default
    min(64, ceil(H/4))) and a weight buffer of ``buffer_bytes`` (default a third of W_h), every plan
    checked first; and, with ``runtime``, the native kernel on each schedule it runs with
    ``weight_dtype`` weights. With low-precision weights the runtime is held to
    LOW_PRECISION_TOLERANCE and each layer is also checked alone (engine ``runtime``, model
    ``NAME layer i``): fed the float64 reference's input to that layer, against the reference
    layer, so the error a layer adds is seen apart from what it inherits.
    """
    steps = require_int("steps", steps)
    batch = require_int("batch", batch)
    for name in schedules:
        require_choice("schedule", name, SCHEDULES)
    rng = np.random.default_rng(seed)
    first = model.layers[0]
    states = len(model.layers) * len(first.directions)
    x = rng.standard_normal((steps, batch, first.input_size)).astype(np.float32)
    h0 = (0.5 * rng.standard_normal((states, batch, first.recurrent_size))).astype(np.float32)
    c0 = (0.5 * rng.standard_normal((states, batch, first.hidden_size))).astype(np.float32) if first.spec.has_cell_state else None
    against, expected = framework_outputs(model, x, h0, c0)
    base = {"model": model.name, "cell": first.cell, "variant": first.variant, "against": against, "tolerance": tolerance}
    results = []
    if against != "reference":
        got = _run(model, x.astype(np.float64), h0, c0, None)
        results.append(FileCheck(engine="reference", schedule="", executed_schedule="", max_abs_error=_error(got, expected), **base))
    for schedule in schedules:
        executed: list[str] = []
        notes: list[str] = []
        try:
            got = _run(model, x, h0, c0, replay_runner(_plan_maker(schedule, tile, buffer_bytes, executed, notes)))
            error = _error(got, expected)
        except TsilstmError as failure:
            error, notes = float("inf"), [f"not run: {failure}"]
        ran = "+".join(sorted(set(executed))) if executed else ""
        results.append(FileCheck(engine="replay", schedule=schedule, executed_schedule=ran, max_abs_error=error,
                                 notes=tuple(notes), **base))
    if runtime:
        low = {**base, "tolerance": LOW_PRECISION_TOLERANCE.get(weight_dtype, tolerance)}
        results += _runtime_checks(model, x, h0, c0, schedules, expected, low, weight_dtype)
        if weight_dtype != "float32" and results and results[-1].engine == "runtime" and not results[-1].skipped:
            results += _layer_checks(model, x, h0, c0, weight_dtype, low)
    return results


def _runtime_checks(
    model: RecurrentModel, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, schedules: tuple[str, ...],
    expected: Outputs, base: dict, weight_dtype: str = "float32",
) -> list[FileCheck]:
    """The native runtime (``tsilstm.LSTM`` / ``GRU.from_model``) on each schedule it runs; one
    skipped check saying why when the runtime is not built or rejects the model."""
    try:
        from tsilstm.runtime.lstm_gru import module_class
        from tsilstm.runtime.schedule_choice import RUNTIME_SCHEDULES
    except ImportError as missing:
        return [FileCheck(engine="runtime", schedule="", executed_schedule="", max_abs_error=float("nan"),
                          skipped=f"runtime not available: {missing}", **base)]
    kind = module_class(model.cell)
    results = []
    for schedule in (s for s in schedules if s in RUNTIME_SCHEDULES):
        try:
            module = kind.from_model(model, schedule=schedule, weight_dtype=weight_dtype)
        except TsilstmError as rejected:
            results.append(FileCheck(engine="runtime", schedule=schedule, executed_schedule="", max_abs_error=float("nan"),
                                     skipped=f"runtime rejects this model: {rejected}", **base))
            break
        got = _call(module, x, h0, c0)
        ran = "+".join(sorted({run.program.schedule for run in module.layer_runs}))
        notes = tuple(dict.fromkeys(n for run in module.layer_runs for n in run.program.notes))
        results.append(FileCheck(engine="runtime", schedule=schedule, executed_schedule=ran,
                                 max_abs_error=_error(got, expected), notes=notes, **base))
    return results


def _layer_checks(model: RecurrentModel, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, weight_dtype: str,
                  base: dict) -> list[FileCheck]:
    """Each layer of ``model`` alone in the runtime (tsi) with ``weight_dtype`` weights, fed what
    the float64 reference feeds it, against the reference layer (output, h_n, c_n)."""
    from tsilstm.runtime.lstm_gru import module_class

    kind = module_class(model.cell)
    results = []
    features = x.astype(np.float64)
    state = 0
    for index, layer in enumerate(model.layers):
        single = RecurrentModel((layer,), name=f"{model.name} layer {index}")
        width = len(layer.directions)
        h_part = h0[state : state + width]
        c_part = None if c0 is None else c0[state : state + width]
        want = _run(single, features, h_part, c_part, None)
        module = kind.from_model(single, schedule="tsi", weight_dtype=weight_dtype)
        got = _call(module, features.astype(np.float32), h_part, c_part)
        ran = module.layer_runs[0].program.schedule
        results.append(FileCheck(**{**base, "model": single.name, "against": "reference"}, engine="runtime", schedule="tsi",
                                 executed_schedule=ran,
                                 max_abs_error=_error(got, want)))
        features = want[0]
        state += width
    return results


def _call(module, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> Outputs:  # type: ignore[no-untyped-def]
    """(output, h_n, c_n or None) of a runtime LSTM (``c0`` given) or GRU module called on ``x``."""
    if c0 is not None:
        out, (h_n, c_n) = module(x, (h0, c0))
        return out, h_n, c_n
    out, h_n = module(x, h0)
    return out, h_n, None


def framework_outputs(model: RecurrentModel, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> tuple[str, Outputs]:
    """(framework name, its outputs) for ``model`` on ``x`` (T, N, X) from ``h0`` / ``c0``:
    onnxruntime on the ONNX node alone, torch on the PyTorch file's tensors, or the float64
    reference for Keras and models without a file."""
    fmt = model.metadata.get("format")
    if fmt == "onnx":
        from tsilstm.importers.onnx_graph import find_recurrent_nodes, load_onnx_proto
        from tsilstm.verification.onnx_node_run import run_onnx_node

        path = model.metadata["path"]
        nodes = [n for n in find_recurrent_nodes(load_onnx_proto(path), path) if n.locator == model.metadata["locator"]]
        return "onnxruntime", run_onnx_node(nodes[0], x, h0, c0, with_sequence_lens=bool(model.metadata.get("sequence_lens")))
    if fmt == "torch" and model.metadata.get("path") and Path(model.metadata["path"]).is_file():
        from tsilstm.verification.torch_module_run import run_torch_file

        return "torch", run_torch_file(model, x, h0, c0)
    return "reference", _run(model, x.astype(np.float64), h0, c0, None)


def _run(model: RecurrentModel, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None, runner: DirectionRunner | None) -> Outputs:
    """Run ``model`` (reference when ``runner`` is None), each layer in its own direction."""
    h0 = h0.astype(x.dtype)
    c0 = None if c0 is None else c0.astype(x.dtype)
    return run_reference(model, x, h0, c0) if runner is None else run_model(model, x, h0, c0, runner)


def _plan_maker(
    schedule: str, tile: int | None, buffer_bytes: int | None, executed: list[str], notes: list[str]
) -> Callable[[RecurrentLayer, int, int], Plan]:
    return checked_plan_maker(
        schedule, "float32",
        lambda layer: min(64, -(-layer.hidden_size // 4)) if tile is None else min(tile, layer.hidden_size),
        lambda tiling: max(tiling.matrix_bytes("h") // 3 if buffer_bytes is None else buffer_bytes,
                           2 * tiling.max_tile_bytes),
        executed, notes,
    )


def _error(got: Outputs, want: Outputs) -> float:
    errors = []
    for a, b in zip(got, want):
        if (a is None) != (b is None):
            return float("inf")
        if a is not None:
            if a.shape != b.shape:
                return float("inf")
            errors.append(float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)))))
    error = max(errors)
    return error if np.isfinite(error) else float("inf")
