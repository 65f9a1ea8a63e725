"""The native kernel's persistent worker threads: whether each binds itself to one CPU.

The kernel keeps its worker threads between calls. By default a worker binds itself, at the start
of a job, to a CPU other than the one the calling thread runs on (worker i to the i-th of the
others); the caller's thread is never bound. On a 2-vCPU KVM guest this turned a one-step call of
a 512-unit GRU from 570 us (worker woken onto the caller's CPU, the two lockstep threads sharing
it) into 190 us. ``TSILSTM_PIN_THREADS=off`` (read when the first module is built) or
``set_worker_pinning(False)`` (which wins over the environment) lets the workers float, for
deployments that set affinities themselves."""

from __future__ import annotations

import os
import threading

from tsilstm.runtime import _kernel as kernel
from tsilstm.validation import require_choice

PIN_THREADS_ENV = "TSILSTM_PIN_THREADS"
"""Environment variable: ``on`` (default) or ``off``."""
PIN_THREADS_CHOICES = ("on", "off")

_settled = False  # the environment was applied, or set_worker_pinning was called
_lock = threading.Lock()


def set_worker_pinning(enabled: bool) -> bool:
    """Bind each kernel worker thread to a CPU away from the caller's (True) or let the workers
    float (False); each worker applies it at its next job; later modules do not read
    TSILSTM_PIN_THREADS any more. Returns the previous setting."""
    global _settled
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled: expected True or False, got {enabled!r}")
    with _lock:
        _settled = True
        return bool(kernel.set_worker_pinning(enabled))


def pinning_from_environment() -> bool:
    """The pinning setting ``TSILSTM_PIN_THREADS`` asks for (``on`` when unset or empty); an other
    value raises ``InvalidParameterError`` naming the variable."""
    return _switch_on(PIN_THREADS_ENV)


def _switch_on(name: str) -> bool:
    """Whether environment variable ``name`` (``on`` when unset or empty, or ``off``) is on; an other
    value raises ``InvalidParameterError`` naming the variable."""
    value = os.environ.get(name, "").strip().lower() or "on"
    return require_choice(name, value, PIN_THREADS_CHOICES) == "on"


def apply_environment() -> None:
    """Apply TSILSTM_PIN_THREADS once (modules call this when built), unless set_worker_pinning
    decided already."""
    global _settled
    if _settled:
        return
    enabled = pinning_from_environment()  # raises on a bad value, before anything is set
    with _lock:
        if not _settled:
            kernel.set_worker_pinning(enabled)
            _settled = True


def worker_thread_ids() -> tuple[int, ...]:
    """Kernel thread ids (as ``threading.get_native_id`` gives) of the workers started so far."""
    return tuple(int(tid) for tid in kernel.worker_thread_ids())


SHARE_THREADS_ENV = "TSILSTM_SHARE_FRAMEWORK_THREADS"
"""Environment variable: ``on`` (default) or ``off``: whether calls from inside torch run their
threads on torch's own OpenMP team (``share_framework_threads``)."""
OPENMP_ENTRY_POINTS = ("GOMP_parallel", "omp_get_num_threads", "omp_get_thread_num")
"""What an OpenMP runtime must export to lend its team: libgomp's entry point for a parallel region
(which LLVM's and Intel's runtimes export too) and the two queries of a team thread."""


def share_framework_threads(library_path: str | None) -> bool:
    """Run the threads of calls made from inside torch (``team=True``) on the team of the OpenMP
    runtime loaded from ``library_path`` (the one torch runs its own operators on; None: stop).
    Returns whether a team is registered. After an operator of torch's its OpenMP threads spin for
    some milliseconds, waiting for the next parallel region: the kernel's own workers woken beside
    them fought them for the cores (2-vCPU AMD EPYC, 2026-12-06: a 0.28 ms Conv1d then LSTM(256) x 2
    over 100 steps at 2 threads took 10.4 ms where the LSTM alone took 4.5), while the team's
    threads are exactly the ones awake. ``TSILSTM_SHARE_FRAMEWORK_THREADS=off`` keeps the kernel's
    workers (checked here; an other value raises ``InvalidParameterError`` naming it)."""
    import ctypes

    if library_path is None or not _switch_on(SHARE_THREADS_ENV):
        kernel.set_framework_team(0, 0, 0)
        return False
    try:
        library = ctypes.CDLL(library_path)  # (already loaded by the framework: the same handle)
        addresses = [ctypes.cast(getattr(library, name), ctypes.c_void_p).value for name in OPENMP_ENTRY_POINTS]
    except (OSError, AttributeError):
        kernel.set_framework_team(0, 0, 0)
        return False
    with _lock:
        _libraries.append(library)  # kept for the life of the process (the kernel calls into it)
        kernel.set_framework_team(*addresses)
    return True


_libraries: list[object] = []
