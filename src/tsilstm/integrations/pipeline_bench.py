"""Whole pipelines timed per call: plain torch against ``tsilstm.convert`` of the same module, and ONNX
Runtime against ``tsilstm.onnx.InferenceSession`` on its ONNX export, each with a do-nothing control
(a second copy of the plain side), at a given thread count.

Fairness: both sides of a pair get the same thread setting (``torch.set_num_threads`` for the torch
pair, one ``SessionOptions`` with ``intra_op_num_threads`` for the ONNX pair; tsilstm takes the
host's budget), the same inputs and the same state carried between calls; each sample is a block of
calls (at least ``BLOCK_SECONDS`` and ``MIN_BLOCK_CALLS``) in rotated, interleaved rounds (the torch
trio and the ONNX trio each on their own), each sample preceded by a wait until the process's other
threads are idle and a priming call. ``auto``'s in-place choices are made before timing (untimed
calls, at most ``SETTLE_SECONDS``). The ratio of a control to its plain side shows what the harness
measures when nothing changes (1.00x within noise).
"""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from tsilstm.bench.harness import measure_interleaved
from tsilstm.bench.pipeline_models import Pipeline, build, export_onnx
from tsilstm.bench.quiescence import wait_until_quiet
from tsilstm.validation import require_int

BLOCK_SECONDS = 0.05
"""A timed block lasts at least this long."""
MIN_BLOCK_CALLS = 3
"""A timed block holds at least this many calls."""
SETTLE_SECONDS = 30.0
"""At most this long, untimed calls let ``auto``'s in-place choices finish before timing."""


def time_pipeline(name: str, *, threads: int, repeats: int = 9, workdir: Path | None = None) -> dict[str, Any]:
    """Time pipeline ``name`` (``pipeline_models.PIPELINES``) at ``threads`` threads: ms per call
    (median of blocks) of each implementation, the speedups of tsilstm and of the controls, the max
    abs difference of tsilstm's outputs from the plain side's, and what ``auto`` chose in place."""
    import torch

    from tsilstm.integrations.torch import convert

    threads = require_int("threads", threads)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        pipeline = build(name)
        original = pipeline.module
        control = copy.deepcopy(original)
        converted = convert(original)
        calls: dict[str, Callable[[], Any]] = {
            "torch": pipeline.caller(lambda inputs: _as_tuple(original(*inputs))),
            "torch (control)": pipeline.caller(lambda inputs: _as_tuple(control(*inputs))),
            "tsilstm.convert": pipeline.caller(lambda inputs: _as_tuple(converted(*inputs))),
        }
        with torch.inference_mode():
            errors = {"tsilstm.convert": _max_difference(calls["torch"](), calls["tsilstm.convert"]())}
            _settle(calls["tsilstm.convert"], lambda: _converted_decided(converted))
            onnx_sessions: list[Any] = []
            groups = [calls]  # each pair is timed on its own: ONNX Runtime's runs slowed the torch
            if pipeline.exportable:  # sample after them at 2 threads (control 1.15-1.32x, 2026-12-05)
                groups.append(_onnx_calls(pipeline, threads, workdir, errors, onnx_sessions))
            stats: dict[str, Any] = {}
            for group in groups:
                stats.update(measure_interleaved(group, require_int("repeats", repeats), warmup=2,
                                                 min_sample_s=BLOCK_SECONDS, min_calls=MIN_BLOCK_CALLS, prime=True,
                                                 settle=wait_until_quiet))
    finally:
        torch.set_num_threads(previous_threads)
    ms = {impl: s.median_s * 1e3 for impl, s in stats.items()}
    speedups = {"tsilstm.convert": ms["torch"] / ms["tsilstm.convert"], "torch (control)": ms["torch"] / ms["torch (control)"]}
    if "onnxruntime" in ms:
        speedups["tsilstm.onnx"] = ms["onnxruntime"] / ms["tsilstm.onnx"]
        speedups["onnxruntime (control)"] = ms["onnxruntime"] / ms["onnxruntime (control)"]
    return {
        "pipeline": name, "description": pipeline.description, "threads": threads, "repeats": repeats,
        "recurrent_hidden": pipeline.recurrent_hidden, "ms_per_call": ms,
        "ms_per_call_iqr": {impl: (s.q3_s - s.q1_s) * 1e3 for impl, s in stats.items()},
        "calls_per_block": {impl: s.calls_per_sample for impl, s in stats.items()},
        "speedup": speedups, "max_abs_error": errors,
        "in_place": {f"{module_name}: {key}": decision.describe()
                     for module_name, module in _kernel_modules(converted) for key, decision in module.decisions.items()},
        "in_place_onnx": {key: decision.describe() for session in onnx_sessions
                          for key, decision in session.inplace_decisions.items()},
    }


def _onnx_calls(pipeline: Pipeline, threads: int, workdir: Path | None, errors: dict[str, float],
                sessions: list[Any]) -> dict[str, Callable[[], Any]]:
    import onnxruntime

    from tsilstm.integrations.onnxruntime import InferenceSession

    folder = Path(workdir or tempfile.mkdtemp(prefix="tsilstm-pipelines-"))
    path = export_onnx(pipeline, folder / f"{pipeline.name}.onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    providers = ["CPUExecutionProvider"]
    plain = onnxruntime.InferenceSession(str(path), options, providers=providers)
    control = onnxruntime.InferenceSession(str(path), options, providers=providers)
    session = InferenceSession(str(path), sess_options=options, providers=providers)
    sessions.append(session)
    names = [arg.name for arg in plain.get_inputs()]
    feeds = tuple(value.numpy() for value in pipeline.inputs)
    positions = [pipeline.input_names.index(name) for name in names]

    def runner(target: Any) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
        return lambda inputs: tuple(target.run(None, {name: inputs[at] for name, at in zip(names, positions)}))

    calls = {"onnxruntime": pipeline.caller(runner(plain), feeds),
             "onnxruntime (control)": pipeline.caller(runner(control), feeds),
             "tsilstm.onnx": pipeline.caller(runner(session), feeds)}
    errors["tsilstm.onnx"] = _max_difference(calls["onnxruntime"](), calls["tsilstm.onnx"]())
    _settle(calls["tsilstm.onnx"], lambda: bool(session.inplace_decisions) or session._host_session is None)
    return calls


def _settle(call: Callable[[], Any], decided: Callable[[], bool]) -> None:
    until = time.monotonic() + SETTLE_SECONDS
    while not decided() and time.monotonic() < until:
        call()


def _kernel_modules(model: Any) -> list[tuple[str, Any]]:
    from tsilstm.integrations.torch.modules import KernelRecurrent

    return [(name or "(model)", module) for name, module in model.named_modules() if isinstance(module, KernelRecurrent)]


def _converted_decided(model: Any) -> bool:
    return all(module.decisions for _, module in _kernel_modules(model))


def _as_tuple(outputs: Any) -> tuple[Any, ...]:
    return outputs if isinstance(outputs, tuple) else (outputs,)


def _max_difference(expected: tuple[Any, ...], got: tuple[Any, ...]) -> float:
    return max(float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
               for a, b in zip(expected, got))
