"""``InferenceSession``: ``onnxruntime.InferenceSession`` with the LSTM/GRU nodes in tsilstm
(docs/design.md section 10). Switching is one line::

    session = tsilstm.onnx.InferenceSession("model.onnx")     # was onnxruntime.InferenceSession
    outputs = session.run(None, {"input": x})
"""

from __future__ import annotations

import hashlib
import operator
import uuid
import weakref
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.optional_packages import import_optional
from tsilstm.integrations.onnxruntime import custom_ops
from tsilstm.integrations.onnxruntime.graph_rewrite import (
    NodeDecision,
    inline_external_data,
    load_model_proto,
    original_model,
    plan_rewrite,
    runtime_model,
)
from tsilstm.integrations.onnxruntime.node_runner import NodeRunner
from tsilstm.integrations.onnxruntime.session_options import intra_op_threads, options_for_tsilstm
from tsilstm.runtime.inplace_choice import HOST, InplaceDecision
from tsilstm.runtime.inplace_records import forget_owner, record_new_decision, trial_for_call, trials_of
from tsilstm.runtime.kernel_options import KernelOptions
from tsilstm.runtime.schedule_tuning import tuning_mode

class InferenceSession:
    """An ONNX model run by ONNX Runtime, with every LSTM/GRU node tsilstm can run executed by
    tsilstm's kernel as an ``ai.tsilstm`` custom operator (weights packed once, here).

    ``path_or_bytes``: an ONNX file (also one written by ``tsilstm convert-onnx``) or its bytes.
    ``schedule``, ``threads``, ``weight_dtype`` (None: float32): as for ``tsilstm.LSTM``; ``tuning``
    as the modules' (None: ``TSILSTM_TUNING`` or on). ``sess_options`` and ``providers`` go to
    ONNX Runtime: the session that runs tsilstm's nodes gets a copy of ``sess_options`` with ONNX
    Runtime's spinning off (``session_options``), the user's object is never changed. Unset
    ``threads`` are the options' ``intra_op_num_threads`` (ONNX Runtime's budget), else one per
    usable core. ``run``, ``get_inputs``, ``get_outputs`` and the rest behave as
    ``onnxruntime.InferenceSession``'s; errors in a tsilstm node raise ``InvalidParameterError``
    naming the node and the input.

    With ``schedule="auto"`` ONNX Runtime's own session of the unchanged model is a candidate too:
    for each input shape the first calls run on both in alternating blocks, timed in place
    (``runtime.inplace_choice``), and the faster one runs from then on (ONNX Runtime on a tie); the
    decision is recorded like the kernel's schedule decisions and shown by ``summary()`` and
    ``inplace_decisions``. This keeps ONNX Runtime's copy of the recurrent weights in memory beside
    tsilstm's packed one.
    """

    def __init__(self, path_or_bytes: str | Path | bytes, *, schedule: str = "auto", weight_dtype: str | None = None,
                 threads: int | None = None, sess_options: Any = None, providers: Sequence[Any] | None = None,
                 tuning: str | None = None) -> None:
        onnxruntime = import_optional("onnxruntime", "run ONNX models")
        options = KernelOptions(schedule, threads, weight_dtype, tuning=tuning)
        self._tuning = tuning_mode(tuning)
        source = path_or_bytes if isinstance(path_or_bytes, (str, Path)) else "<bytes>"
        proto = load_model_proto(path_or_bytes)
        plan = plan_rewrite(proto, source)
        self._id = uuid.uuid4().hex
        if threads is None:
            options = options.with_threads(intra_op_threads(sess_options))
        keys: dict[int, str] = {}
        runners: dict[str, NodeRunner] = {}
        for position, decision in enumerate(plan.decisions):
            if decision.taken and decision.model is not None:
                key = f"{self._id}/{position}"
                keys[position] = key
                runners[key] = NodeRunner.pack(f"{decision.op_type} node {decision.locator!r}", decision.model,
                                               decision.layout, options=options, host="onnxruntime")
        self.decisions: list[NodeDecision] = plan.decisions
        """Every LSTM/GRU node of the model: run by tsilstm or kept by ONNX Runtime, and why."""
        self.runners: dict[str, NodeRunner] = runners
        provider_list = list(providers) if providers else None
        original = _original_model(path_or_bytes, plan)
        self._host_session: Any = None
        self._trials_by_signature: dict[tuple[Any, ...], tuple[str, Any]] = {}
        """(configuration key, trial) by the feed's names and shapes: a decided call costs one lookup."""
        self._model_digest = ""
        self._options = options
        self.handed_to_onnxruntime = False
        """True once ``run`` is ONNX Runtime's own session's (see ``_hand_over_to_host``)."""
        if not runners:  # nothing for tsilstm: ONNX Runtime's session as the user asked for it
            self._session = onnxruntime.InferenceSession(original, sess_options, providers=provider_list)
            self._finalizer = None
            self.run = self._session.run  # type: ignore[method-assign]  # (nothing of ours in between)
            return
        options = options_for_tsilstm(onnxruntime, sess_options)
        _register_library(options, custom_ops.extensions_library_path())
        custom_ops.register_runners(runners)
        self._finalizer = weakref.finalize(self, _release, list(runners), self._id)
        runtime_form = runtime_model(plan, keys)
        if isinstance(path_or_bytes, (str, Path)):  # ONNX Runtime gets bytes: the external data goes inside
            inline_external_data(runtime_form, Path(path_or_bytes))
        serialized = runtime_form.SerializeToString()
        self._session = onnxruntime.InferenceSession(serialized, options, providers=provider_list)
        if schedule == "auto" and self._tuning != "off":
            self._host_session = onnxruntime.InferenceSession(original, sess_options, providers=provider_list)
            self._model_digest = hashlib.sha256(plan.proto.SerializeToString()).hexdigest()[:16]

    # --------------------------------------------------------- onnxruntime.InferenceSession's contract

    def run(self, output_names: Sequence[str] | None, input_feed: dict[str, Any], run_options: Any = None) -> list[Any]:
        """The outputs ``output_names`` (None: all) for ``input_feed``, like
        ``onnxruntime.InferenceSession.run``."""
        session = self._session
        if self._host_session is not None:
            try:
                signature: tuple[Any, ...] = (*input_feed, *map(_SHAPE, input_feed.values()))
            except AttributeError:  # a feed given as a list: its shape the slow way
                signature = tuple((name, np.shape(value)) for name, value in input_feed.items())
            found = self._trials_by_signature.get(signature)
            if found is None:
                found = trial_for_call(self._id, signature, lambda: self._call_key(input_feed), self._tuning)
                self._trials_by_signature[signature] = found
            trial = found[1]
            if trial is not None:
                if trial.next_candidate() == HOST:
                    session = self._host_session
                    if trial.confirmed and len(self._trials_by_signature) == 1:
                        self._hand_over_to_host()
                if trial.new_decision:
                    record_new_decision(trial, found[0], self._tuning)
        if session is not self._session:
            return session.run(output_names, input_feed, run_options)
        custom_ops.take_errors(self._id)
        try:
            outputs = session.run(output_names, input_feed, run_options)
        except Exception as ort_error:
            errors = custom_ops.take_errors(self._id)
            if errors:
                raise errors[0] from ort_error
            raise
        errors = custom_ops.take_errors(self._id)
        if errors:
            raise errors[0]
        return outputs

    def _hand_over_to_host(self) -> None:
        """From now on ``run`` is ONNX Runtime's own session's, with nothing of tsilstm's in between:
        every call so far had one input signature, ONNX Runtime's session won it in place and a watch
        of its later calls confirmed that. Our wrapper cost ~9 us a call there (a model of
        two LSTM(128) taking 125 us a call in ONNX Runtime, 2-vCPU AMD EPYC, 2026-12-06), more than
        the 3 % a tie allows. Calls of other shapes then run in ONNX Runtime unmeasured."""
        self.run = self._host_session.run  # type: ignore[method-assign]
        self.handed_to_onnxruntime = True

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

    @property
    def inplace_decisions(self) -> dict[str, InplaceDecision]:
        """By input shapes: whether ONNX Runtime's own session (``host``) or the one with tsilstm's
        nodes runs the calls, with the median time per call of each, measured in place."""
        return {key: trial.decision for key, trial in trials_of(self._id).items() if trial.decision is not None}

    def summary(self) -> str:
        """One line per LSTM/GRU node: where it runs and why; then, per input shape, which session
        runs the calls (``auto``: measured in place) and why."""
        if not self.decisions:
            return "no LSTM or GRU node: the whole model runs in onnxruntime"
        lines = [d.describe() for d in self.decisions]
        for key, trial in trials_of(self._id).items():
            shapes = key.split("/", 2)[2]
            lines.append(f"calls of {shapes}: " + (trial.decision.describe() if trial.decision is not None
                                                    else "being measured in place (tsilstm vs onnxruntime)"))
        if self._host_session is None and self.runners:
            lines.append("tsilstm's nodes run every call (schedule given, or tuning off)")
        if self.handed_to_onnxruntime:
            lines.append("run is ONNX Runtime's own session's from now on: every call had one input signature and "
                         "ONNX Runtime won it, confirmed by a watch of later calls (other shapes run there too)")
        return "\n".join(lines)

    def _call_key(self, input_feed: dict[str, Any]) -> str:
        """What an in-place decision is recorded under: the model, the feed's shapes, threads and
        weight type."""
        shapes = ",".join(f"{name}{list(np.shape(value))}" for name, value in sorted(input_feed.items()))
        return f"onnxruntime/{self._model_digest}/{shapes}/t{self._options.threads or 0}/{self._options.dtype}"


_SHAPE = operator.attrgetter("shape")


def _release(keys: list[str], session_id: str) -> None:
    """What a session leaves behind when it is gone: its runners and its in-place trials."""
    custom_ops.unregister_runners(keys)
    forget_owner(session_id)


def _original_model(path_or_bytes: str | Path | bytes, plan: Any) -> Any:
    """What ONNX Runtime's own session loads: the user's path (external data resolved as ONNX Runtime
    does) or bytes, or for a file written by ``convert-onnx`` the model with its nodes back in the
    standard domain."""
    if plan.had_tsilstm_nodes:
        return original_model(plan).SerializeToString()
    return str(path_or_bytes) if isinstance(path_or_bytes, Path) else path_or_bytes


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
