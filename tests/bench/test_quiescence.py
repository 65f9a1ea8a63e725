"""wait_until_quiet: the harness waits for the other threads' spinning to end before a sample."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from tsilstm.bench.quiescence import MAX_WAIT_S, wait_until_quiet

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux thread states")


def test_returns_at_once_when_no_other_thread_runs() -> None:
    assert wait_until_quiet(max_wait_s=1.0) < 0.5


def test_waits_for_a_busy_thread_to_stop() -> None:
    stop_at = time.perf_counter() + 0.06
    spinner = threading.Thread(target=lambda: [None for _ in iter(lambda: time.perf_counter() < stop_at, False)])
    spinner.start()
    try:
        waited = wait_until_quiet()
    finally:
        spinner.join()
    assert 0.03 <= waited < MAX_WAIT_S


def test_a_thread_that_never_stops_is_waited_for_at_most_max_wait() -> None:
    done = threading.Event()
    spinner = threading.Thread(target=lambda: [None for _ in iter(lambda: not done.is_set(), False)])
    spinner.start()
    try:
        waited = wait_until_quiet(max_wait_s=0.05)
    finally:
        done.set()
        spinner.join()
    assert 0.05 <= waited < 5.0  # bounded, not hung (the spinner holds the GIL: 0.84 s seen on a 2-vCPU EPYC)
