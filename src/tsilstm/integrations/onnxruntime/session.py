"""``InferenceSession``: ``onnxruntime.InferenceSession`` with the LSTM/GRU nodes in tsilstm
(docs/design.md section 10). Switching is one line::

    session = tsilstm.onnx.InferenceSession("model.onnx")     # was onnxruntime.InferenceSession
    outputs = session.run(None, {"input": x})
"""

from __future__ import annotations

import uuid
import weakref
from pathlib import Path
from typing import Any, Sequence

from tsilstm.errors import InvalidParameterError
from tsilstm.optional_packages import import_optional
from tsilstm.integrations.onnxruntime import custom_ops
from tsilstm.integrations.onnxruntime.graph_rewrite import (
    NodeDecision,
    load_model_proto,
    plan_rewrite,
    runtime_model,
)
from tsilstm.integrations.onnxruntime.node_runner import NodeRunner
from tsilstm.runtime.schedule_choice import RUNTIME_SCHEDULES
from tsilstm.validation import require_choice

NO_SPINNING = ("session.intra_op.allow_spinning", "0")
"""Set on the session options tsilstm creates: ONNX Runtime's idle pool threads otherwise spin
while tsilstm's kernel threads run the recurrence, taking cores from them."""


class InferenceSession:
    """An ONNX model run by ONNX Runtime, with every LSTM/GRU node tsilstm can run executed by
    tsilstm's kernel as an ``ai.tsilstm`` custom operator (weights packed once, here).

    ``path_or_bytes``: an ONNX file (also one written by ``tsilstm convert-onnx``) or its bytes.
    ``schedule``, ``threads``, ``weight_dtype`` (None: float32): as for ``tsilstm.LSTM``; ``tuning``
    as the modules' (None: ``TSILSTM_TUNING`` or on). ``sess_options`` and ``providers`` go to
    ONNX Runtime (the tsilstm nodes run on the CPU whatever the providers). ``run``, ``get_inputs``,
    ``get_outputs`` and the rest behave as ``onnxruntime.InferenceSession``'s; errors in a tsilstm
    node raise ``InvalidParameterError`` naming the node and the input.
    """

    def __init__(self, path_or_bytes: str | Path | bytes, *, schedule: str = "auto", weight_dtype: str | None = None,
                 threads: int | None = None, sess_options: Any = None, providers: Sequence[Any] | None = None,
                 tuning: str | None = None) -> None:
        onnxruntime = import_optional("onnxruntime", "run ONNX models")
        require_choice("schedule", schedule, RUNTIME_SCHEDULES)
        source = path_or_bytes if isinstance(path_or_bytes, (str, Path)) else "<bytes>"
        proto = load_model_proto(path_or_bytes)
        plan = plan_rewrite(proto, source)
        self._id = uuid.uuid4().hex
        keys: dict[int, str] = {}
        runners: dict[str, NodeRunner] = {}
        for position, decision in enumerate(plan.decisions):
            if decision.taken and decision.model is not None:
                key = f"{self._id}/{position}"
                keys[position] = key
                runners[key] = NodeRunner.pack(f"{decision.op_type} node {decision.locator!r}", decision.model,
                                               decision.layout, schedule=schedule, threads=threads,
                                               weight_dtype=weight_dtype, tuning=tuning)
        library = custom_ops.extensions_library_path()
        if sess_options is None:
            sess_options = onnxruntime.SessionOptions()
            sess_options.add_session_config_entry(*NO_SPINNING)
        _register_library(sess_options, library)
        custom_ops.register_runners(runners)
        self._finalizer = weakref.finalize(self, custom_ops.unregister_runners, list(runners))
        self.decisions: list[NodeDecision] = plan.decisions
        """Every LSTM/GRU node of the model: run by tsilstm or kept by ONNX Runtime, and why."""
        self.runners: dict[str, NodeRunner] = runners
        serialized = runtime_model(plan, keys).SerializeToString()
        self._session = onnxruntime.InferenceSession(serialized, sess_options, providers=list(providers) if providers else None)

    # --------------------------------------------------------- onnxruntime.InferenceSession's contract

    def run(self, output_names: Sequence[str] | None, input_feed: dict[str, Any], run_options: Any = None) -> list[Any]:
        """The outputs ``output_names`` (None: all) for ``input_feed``, like
        ``onnxruntime.InferenceSession.run``."""
        custom_ops.take_errors(self._id)
        try:
            outputs = self._session.run(output_names, input_feed, run_options)
        except Exception as ort_error:
            errors = custom_ops.take_errors(self._id)
            if errors:
                raise errors[0] from ort_error
            raise
        errors = custom_ops.take_errors(self._id)
        if errors:
            raise errors[0]
        return outputs

    def get_inputs(self) -> list[Any]:
        """The model's inputs (``onnxruntime.NodeArg``), as ONNX Runtime reports them."""
        return self._session.get_inputs()

    def get_outputs(self) -> list[Any]:
        """The model's outputs (``onnxruntime.NodeArg``), as ONNX Runtime reports them."""
        return self._session.get_outputs()

    def __getattr__(self, name: str) -> Any:
        """Every other attribute of ``onnxruntime.InferenceSession`` (get_modelmeta, get_providers,
        get_session_options, end_profiling, ...)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._session, name)

    # --------------------------------------------------------------------------------- tsilstm's

    @property
    def tsilstm_nodes(self) -> list[NodeDecision]:
        """The LSTM/GRU nodes run by tsilstm."""
        return [d for d in self.decisions if d.taken]

    @property
    def onnxruntime_nodes(self) -> list[NodeDecision]:
        """The LSTM/GRU nodes left to ONNX Runtime, each with the reason."""
        return [d for d in self.decisions if not d.taken]

    def summary(self) -> str:
        """One line per LSTM/GRU node: where it runs and why."""
        if not self.decisions:
            return "no LSTM or GRU node: the whole model runs in onnxruntime"
        return "\n".join(d.describe() for d in self.decisions)


REGISTERED_ENTRY = "tsilstm.extensions_library"
"""Session config entry marking options on which the extensions library is registered (registering
it twice on one options object makes ONNX Runtime refuse the session)."""


def _register_library(sess_options: Any, library: str) -> None:
    """Register the onnxruntime-extensions library on ``sess_options`` (once per options object)."""
    try:
        if sess_options.get_session_config_entry(REGISTERED_ENTRY) == library:
            return
    except Exception:  # noqa: BLE001 - onnxruntime raises when the entry is absent
        pass
    try:
        sess_options.register_custom_ops_library(library)
        sess_options.add_session_config_entry(REGISTERED_ENTRY, library)
    except Exception as error:  # noqa: BLE001 - onnxruntime raises its own Fail types
        raise InvalidParameterError("sess_options", type(sess_options).__name__,
                                    f"must be an onnxruntime.SessionOptions accepting the onnxruntime-extensions library ({error})") from error
