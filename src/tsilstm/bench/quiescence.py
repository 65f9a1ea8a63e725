"""Waiting until the other threads of this process are idle, so one implementation's timed sample
does not run beside another's leftover busy-waiting.

Thread pools spin for a while after a job, to hand off the next one fast: ONNX Runtime's intra-op
workers spin about 30 ms of CPU after each run (measured on a 2-vCPU Xeon, 2026-12-02, one call or
a hundred alike), tsilstm's kernel workers about a millisecond. On a machine with as many cores as
threads, a sample taken in that window shares its cores with the spinner, and a lockstep kernel
then loses several times its time. The benchmark harness therefore waits, before every sample,
until no other thread of the process is running (``wait_until_quiet``)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

TASKS_DIR = Path("/proc/self/task")
POLL_S = 0.001
QUIET_POLLS = 2
"""The other threads count as idle when none of them was running (Linux state R) at this many polls in a row.
(A thread's state is exact at once; its CPU time is only brought up to date at scheduler ticks.)"""
MAX_WAIT_S = 0.25
"""Longest wait: a thread that never stops (a user's own busy thread) does not stall the benchmark."""
FALLBACK_WAIT_S = 0.05
"""Where thread states cannot be read (not Linux): a fixed pause, longer than the spins seen."""


def _others_running(me: int) -> bool | None:
    """Whether a thread of this process other than ``me`` is running or runnable (None: unreadable)."""
    try:
        names = os.listdir(TASKS_DIR)
    except OSError:
        return None
    for name in names:
        if name == str(me):
            continue
        try:
            stat = (TASKS_DIR / name / "stat").read_text()
        except OSError:
            continue  # the thread ended meanwhile
        if stat.rpartition(")")[2].split()[:1] == ["R"]:
            return True
    return False


def wait_until_quiet(max_wait_s: float = MAX_WAIT_S) -> float:
    """Sleep until no other thread of the process has been running for QUIET_POLLS polls in a row
    (or ``max_wait_s`` passed); return the seconds waited."""
    me = threading.get_native_id()
    start = time.perf_counter()
    quiet = 0
    while quiet < QUIET_POLLS:
        running = _others_running(me)
        if running is None:
            time.sleep(FALLBACK_WAIT_S)
            break
        quiet = 0 if running else quiet + 1
        if time.perf_counter() - start >= max_wait_s:
            break
        if quiet < QUIET_POLLS:
            time.sleep(POLL_S)
    return time.perf_counter() - start
