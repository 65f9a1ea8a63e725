"""The ``ai.tsilstm`` LSTM and GRU custom operators, as onnxruntime-extensions Python custom ops
(docs/design.md section 10).

The operators are declared once per process with onnxruntime-extensions (``Opdef.create``); a
session that registers the extensions library (``SessionOptions.register_custom_ops_library(
get_library_path())``) can run runtime-form nodes. Each node carries only the key of its
``NodeRunner`` (registered here by ``InferenceSession``); the operator looks it up and runs it.

Two things the extensions' Python bridge does are handled here:

* An exception escaping a Python custom op terminates the process. So the operator never raises:
  it records the error under the session's key prefix, returns zero-size outputs, and
  ``InferenceSession.run`` raises the recorded error once ONNX Runtime returns.
* Its default hook hands outputs back as Python lists (``tolist``), which costs about as much as a
  small LSTM layer. The bridge also accepts numpy arrays, so this module installs a hook that
  returns the arrays themselves for the tsilstm operators and passes every other operator on to
  the extensions' own hook unchanged.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

import numpy as np

from tsilstm.optional_packages import import_optional
from tsilstm.integrations.onnxruntime.graph_rewrite import DOMAIN, KEY_ATTRIBUTE, OUTPUT_NAMES, RUNTIME_INPUTS
from tsilstm.integrations.onnxruntime.node_runner import NodeRunner

_LOCK = threading.Lock()
_RUNNERS: dict[str, NodeRunner] = {}
_ERRORS: dict[str, list[BaseException]] = {}
_OPERATORS: dict[int, str] = {}
"""Extensions' operator id -> op type, for the operators declared here."""
_GONE: deque[str] = deque()
"""Runner keys of sessions that are gone (see ``unregister_runners``)."""


def extensions_library_path() -> str:
    """Declare the tsilstm operators (once per process) and return the path of the
    onnxruntime-extensions library to register in a ``SessionOptions``."""
    onnxruntime_extensions = import_optional("onnxruntime_extensions", "run ONNX models with tsilstm's LSTM/GRU operators")
    with _LOCK:
        if not _OPERATORS:
            _declare(onnxruntime_extensions)
    return onnxruntime_extensions.get_library_path()


def register_runners(runners: dict[str, NodeRunner]) -> None:
    """Make ``runners`` (key -> runner) available to the operators."""
    with _LOCK:
        _sweep()
        _RUNNERS.update(runners)


def unregister_runners(keys: list[str]) -> None:
    """Forget the runners of ``keys`` (and any error recorded under their session prefix) at the
    next locked access: a session's finalizer calls this from garbage collection, possibly while
    this thread holds ``_LOCK``, so it never takes it."""
    _GONE.extend(keys)


def _sweep() -> None:
    """Drop the runners of sessions that are gone (the caller holds ``_LOCK``)."""
    while _GONE:
        key = _GONE.popleft()
        _RUNNERS.pop(key, None)
        _ERRORS.pop(_session_of(key), None)


def take_errors(session_id: str) -> list[BaseException]:
    """The errors the operators recorded for the session ``session_id`` since the last call (cleared)."""
    with _LOCK:
        _sweep()
        return _ERRORS.pop(session_id, [])


def invoke(op_type: str, key: str, feed: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Run the runner of ``key`` on ``feed``; never raises: on an error, records it for the session
    and returns zero-size outputs."""
    runner = _RUNNERS.get(key)
    try:
        if runner is None:
            raise KeyError(f"no tsilstm weights are registered for {op_type} node key {key!r}: "
                           "run graphs with ai.tsilstm nodes through tsilstm.onnx.InferenceSession")
        return runner.run(*feed)
    except BaseException as error:  # noqa: BLE001 - an exception escaping the op would abort the process
        with _LOCK:
            if runner is not None:  # errors are kept only for a live session, which collects them
                _ERRORS.setdefault(_session_of(key), []).append(error)
        return tuple(np.zeros((0,), dtype=np.float32) for _ in OUTPUT_NAMES[op_type])


def _session_of(key: str) -> str:
    return key.split("/", 1)[0]


def _declare(extensions: Any) -> None:
    """Declare the LSTM and GRU operators of ``DOMAIN`` and install the array-returning hook."""
    from onnxruntime_extensions import Opdef, PyCustomOpDef

    for op_type in ("LSTM", "GRU"):
        inputs = [PyCustomOpDef.dt_int32 if name == "sequence_lens" else PyCustomOpDef.dt_float
                  for name in RUNTIME_INPUTS[op_type]]
        outputs = [PyCustomOpDef.dt_float] * len(OUTPUT_NAMES[op_type])
        body = _body(op_type)
        opdef = Opdef.create(body, op_type=f"{DOMAIN}::{op_type}", inputs=inputs, outputs=outputs,
                             attrs={KEY_ATTRIBUTE: PyCustomOpDef.dt_string})
        _OPERATORS[id(opdef)] = op_type
    _install_hook(extensions)


def _body(op_type: str):  # type: ignore[no-untyped-def]
    """The operator's function for the extensions' own hook (used if ours cannot be installed)."""

    def run(*feed: np.ndarray, **attributes: str) -> tuple[np.ndarray, ...]:
        return invoke(op_type, attributes.get(KEY_ATTRIBUTE, ""), list(feed))

    run.__name__ = f"tsilstm_{op_type.lower()}"
    return run


def _install_hook(extensions: Any) -> None:
    """Route calls of the tsilstm operators to ``invoke``, returning arrays; others go to the
    extensions' hook. Without the hook API the extensions' own path (slower) stays in place."""
    ocos = getattr(extensions, "_ocos", None)
    default_hook = getattr(ocos, "_on_pyop_invocation", None)
    install = getattr(getattr(ocos, "PyCustomOpDef", None), "install_hooker", None)
    if default_hook is None or install is None:
        return

    def hook(op_id: int, feed: list[np.ndarray], attributes: dict[str, str]) -> tuple[Any, ...]:
        op_type = _OPERATORS.get(op_id)
        if op_type is None:
            return default_hook(op_id, feed, attributes)
        outputs = invoke(op_type, attributes.get(KEY_ATTRIBUTE, ""), list(feed))
        result: list[Any] = [op_id]
        for out in outputs:
            result += [out.shape, out.reshape(-1)]
        return tuple(result)

    install(hook)
