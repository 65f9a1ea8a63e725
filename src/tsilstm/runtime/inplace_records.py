"""The in-place trials of this process and their record in the decision store.

Each caller (a torch module, an ONNX session) owns its trials, one per call shape (``owner`` and
``key``): periods of two layers must never mix. The decisions are shared by configuration key
through the decision store (section ``SECTION``), so a later process adopts them; a decision
recorded from noisy samples is not adopted (the new process measures again), and every adopted
decision is watched (``InplaceTrial``) and measured again when its candidate runs much slower than
recorded.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Hashable

from tsilstm.runtime.inplace_choice import InplaceDecision, InplaceTrial
from tsilstm.runtime.layer_run import decision_store

SECTION = "inplace"
"""Section of the decision store holding in-place decisions, by configuration key."""

_TRIALS: dict[tuple[str, str], InplaceTrial] = {}
_BY_SIGNATURE: dict[tuple[str, Hashable], tuple[str, InplaceTrial | None]] = {}
_LOCK = threading.Lock()
_GONE: deque[str] = deque()
"""Owners that are gone, to drop at the next locked access: ``forget_owner`` runs from garbage
collection (``weakref.finalize``), possibly while this thread holds ``_LOCK``, so it never takes it."""


def _sweep() -> None:
    """Drop the trials of the owners that are gone (the caller holds ``_LOCK``)."""
    while _GONE:
        owner = _GONE.popleft()
        for pair in [pair for pair in _TRIALS if pair[0] == owner]:
            del _TRIALS[pair]
        for signed in [signed for signed in _BY_SIGNATURE if signed[0] == owner]:
            del _BY_SIGNATURE[signed]


def trial_for(owner: str, key: str, tuning: str) -> InplaceTrial | None:
    """The trial of ``owner`` for calls of configuration ``key`` under the tuning mode ``tuning``
    (schedule_tuning.TUNING_MODES); None when there is none to run (tuning off, or read-only with
    nothing on record): the caller then runs tsilstm's kernel."""
    if tuning == "off":
        return None
    with _LOCK:
        _sweep()
        trial = _TRIALS.get((owner, key))
    if trial is not None:
        return trial
    recorded = InplaceDecision.from_record(decision_store().get_record(SECTION, key))
    if recorded is None and tuning == "read-only":
        return None
    trial = InplaceTrial()
    if recorded is not None and (not recorded.noisy or tuning == "read-only"):
        trial.adopt(recorded)
    with _LOCK:
        return _TRIALS.setdefault((owner, key), trial)


def trial_for_call(owner: str, signature: Hashable, make_key: Callable[[], str],
                   tuning: str) -> tuple[str, InplaceTrial | None]:
    """(configuration key, trial) of ``owner`` for a call of ``signature`` (cheap to build, e.g. the
    input shapes): the configuration key's text is made by ``make_key`` once per signature, so a
    call costs one dict lookup."""
    found = _BY_SIGNATURE.get((owner, signature))
    if found is None:
        key = make_key()
        found = (key, trial_for(owner, key, tuning))
        with _LOCK:
            found = _BY_SIGNATURE.setdefault((owner, signature), found)
    return found


def known_trial(owner: str, signature: Hashable) -> InplaceTrial | None:
    """The trial ``trial_for_call`` made for ``owner`` and ``signature``, if it made one (never
    creates one: for a caller that only short-cuts calls already decided)."""
    found = _BY_SIGNATURE.get((owner, signature))
    return None if found is None else found[1]


def record_new_decision(trial: InplaceTrial, key: str, tuning: str) -> None:
    """Record the decision ``trial`` just reached under ``key`` (tuning ``on`` only)."""
    if not trial.new_decision or trial.decision is None:
        return
    trial.new_decision = False
    if tuning == "on":
        decision_store().put_record(SECTION, key, trial.decision.to_record())


def trials_of(owner: str) -> dict[str, InplaceTrial]:
    """The trials of ``owner`` by configuration key."""
    with _LOCK:
        _sweep()
        return {key: trial for (who, key), trial in list(_TRIALS.items()) if who == owner}


def forget_owner(owner: str) -> None:
    """Drop the trials of ``owner`` (a module or session that is gone); safe to call from garbage
    collection: the trials go at the next locked access."""
    _GONE.append(owner)
