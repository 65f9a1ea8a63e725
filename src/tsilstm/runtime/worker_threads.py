"""The native kernel's persistent worker threads: whether each binds itself to one CPU.

The kernel keeps its worker threads between calls. By default a worker binds itself, at the start
of a job, to a CPU other than the one the calling thread runs on (worker i to the i-th of the
others); the caller's thread is never bound. On a 2-vCPU KVM guest this turned a one-step call of
a 512-unit GRU from 570 us (worker woken onto the caller's CPU, the two lockstep threads sharing
it) into 190 us. ``TSILSTM_PIN_THREADS=off`` (or ``set_worker_pinning(False)``) lets the workers
float, for deployments that set affinities themselves."""

from __future__ import annotations

import os

from tsilstm.runtime import _kernel as kernel
from tsilstm.validation import require_choice

PIN_THREADS_ENV = "TSILSTM_PIN_THREADS"
"""Environment variable: ``on`` (default) or ``off``, read when the runtime is imported."""
PIN_THREADS_CHOICES = ("on", "off")


def set_worker_pinning(enabled: bool) -> bool:
    """Bind each kernel worker thread to a CPU away from the caller's (True) or let the workers
    float (False); each worker applies it at its next job. Returns the previous setting."""
    if not isinstance(enabled, bool):
        raise TypeError(f"enabled: expected True or False, got {enabled!r}")
    return bool(kernel.set_worker_pinning(enabled))


def worker_thread_ids() -> tuple[int, ...]:
    """Kernel thread ids (as ``threading.get_native_id`` gives) of the workers started so far."""
    return tuple(int(tid) for tid in kernel.worker_thread_ids())


def pinning_from_environment() -> bool:
    """The pinning setting ``TSILSTM_PIN_THREADS`` asks for (``on`` when unset or empty)."""
    value = os.environ.get(PIN_THREADS_ENV, "").strip().lower() or "on"
    return require_choice(PIN_THREADS_ENV, value, PIN_THREADS_CHOICES) == "on"


set_worker_pinning(pinning_from_environment())
