"""The kernel's persistent workers bind themselves to a CPU away from the caller's (runtime.worker_threads)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from tsilstm.runtime import GRU, set_worker_pinning
from tsilstm.runtime.worker_threads import PIN_THREADS_ENV, worker_thread_ids

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs Linux CPU affinity and at least two usable CPUs",
)


def _workers_affinity() -> list[set[int]]:
    """The CPU sets of the kernel's workers."""
    found = []
    for task in worker_thread_ids():
        try:
            found.append(os.sched_getaffinity(task))
        except OSError:  # the thread ended meanwhile
            continue
    return found


_MODULE = GRU(96, 256, schedule="conventional", threads=2)


def _run_two_threads() -> np.ndarray:
    module = _MODULE
    x = np.random.default_rng(0).standard_normal((5, 2, 96)).astype(np.float32)
    output = module(x)[0]
    assert module.schedule_info[0]["threads"] == 2
    return output


@pytest.fixture
def restore_pinning():  # type: ignore[no-untyped-def]
    previous = set_worker_pinning(True)
    yield
    set_worker_pinning(previous)
    _run_two_threads()  # let the workers apply the restored setting


def test_a_worker_is_bound_to_one_cpu_that_is_not_the_callers(restore_pinning) -> None:  # type: ignore[no-untyped-def]
    _run_two_threads()
    workers = _workers_affinity()
    assert workers and threading.get_native_id() not in worker_thread_ids()
    assert all(len(cpus) == 1 and cpus <= os.sched_getaffinity(0) for cpus in workers)


def test_pinning_off_lets_the_workers_float_and_changes_no_result(restore_pinning) -> None:  # type: ignore[no-untyped-def]
    pinned = _run_two_threads()
    assert set_worker_pinning(False) is True
    floating = _run_two_threads()
    assert all(cpus == os.sched_getaffinity(0) for cpus in _workers_affinity())
    np.testing.assert_array_equal(pinned, floating)
    assert set_worker_pinning(True) is False


def test_set_worker_pinning_takes_a_bool() -> None:
    with pytest.raises(TypeError, match="enabled"):
        set_worker_pinning(1)  # type: ignore[arg-type]


def _run_python(code: str, pin_threads: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, PIN_THREADS_ENV: pin_threads},
        capture_output=True, text=True, timeout=120,
    )


def test_an_invalid_environment_value_is_named_when_a_module_is_built() -> None:
    result = _run_python("import tsilstm.runtime as r\nr.GRU(8, 16)", "sometimes")
    assert result.returncode != 0
    assert "InvalidParameterError" in result.stderr
    assert PIN_THREADS_ENV in result.stderr and "on, off" in result.stderr


def test_the_environment_turns_pinning_off() -> None:
    result = _run_python("import tsilstm.runtime as r\nr.GRU(8, 16)\nprint(r.set_worker_pinning(True))", "off")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_an_explicit_setting_wins_over_the_environment() -> None:
    code = "import tsilstm.runtime as r\nr.set_worker_pinning(True)\nr.GRU(8, 16)\nprint(r.set_worker_pinning(True))"
    result = _run_python(code, "off")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"
