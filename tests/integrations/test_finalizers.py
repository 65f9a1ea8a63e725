"""What finalizers call never takes a lock: garbage collection may run them inside any allocation,
also while the same thread holds that lock (a session collected inside ``trials_of`` deadlocked the
process once). Each is called here with its lock held and must return at once; what it drops goes at
the next locked access."""

from __future__ import annotations

import threading

import pytest


def _returns_with_lock_held(lock, call) -> bool:  # type: ignore[no-untyped-def]
    done = threading.Event()

    def body() -> None:
        with lock:
            call()
            done.set()

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    return done.wait(5.0)


def test_forgetting_trials_inside_their_lock():
    from tsilstm.runtime import inplace_records
    from tsilstm.runtime.inplace_choice import InplaceTrial

    with inplace_records._LOCK:
        inplace_records._TRIALS[("gone-owner", "k")] = InplaceTrial()
    assert _returns_with_lock_held(inplace_records._LOCK, lambda: inplace_records.forget_owner("gone-owner"))
    assert inplace_records.trials_of("gone-owner") == {}


def test_unregistering_runners_inside_their_lock():
    pytest.importorskip("onnxruntime_extensions")
    from tsilstm.integrations.onnxruntime import custom_ops

    custom_ops.register_runners({"gone-session/0": object()})  # type: ignore[dict-item]
    assert _returns_with_lock_held(custom_ops._LOCK, lambda: custom_ops.unregister_runners(["gone-session/0"]))
    custom_ops.take_errors("anything")
    assert "gone-session/0" not in custom_ops._RUNNERS


def test_forgetting_packed_weights_inside_their_lock():
    pytest.importorskip("torch")
    from tsilstm.integrations.torch import pack_cache

    assert _returns_with_lock_held(pack_cache._lock, lambda: pack_cache.forget_later("gone-module"))
    assert pack_cache.kept_runtime("gone-module") is None
