"""Concurrency: several Python threads calling one module at once (shared packed weights, separate
states) give what sequential calls give; a KeyboardInterrupt during a call leaves the module usable.

The kernel releases the GIL and cannot be interrupted: Python delivers a KeyboardInterrupt only when
the running kernel call (one layer direction over one time chunk) returns to Python, which then
abandons the rest of the forward pass. Nothing of the module changes during a call except the
batch recorded for plan_summary(), so the next call is unaffected.
"""

from __future__ import annotations

import _thread
import threading
import time

import numpy as np
import pytest

import tsilstm

from tests.fuzz.api_cases import hang_guard, thread_policy


@pytest.mark.parametrize("cell, schedule, kernel_threads", [("lstm", "tsi", 2), ("gru", "conventional", 3),
                                                            ("lstm", "auto", 1)])
def test_threads_sharing_one_module_equal_sequential_calls(cell: str, schedule: str, kernel_threads: int) -> None:
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    with thread_policy(exact=True):
        module = cls(9, 120, num_layers=2, bidirectional=True, schedule=schedule, threads=kernel_threads,
                     tile=32, seed=2)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((15 + 3 * i, 1 + i % 4, 9)).astype(np.float32) for i in range(6)]
    states = []
    for i, x in enumerate(inputs):  # separate, caller-owned initial states
        h0 = rng.standard_normal((4, x.shape[1], 120)).astype(np.float32)
        states.append((h0, rng.standard_normal((4, x.shape[1], 120)).astype(np.float32)) if cell == "lstm" else h0)
    sequential = [module(x, s) for x, s in zip(inputs, states)]
    results: dict[tuple[int, int], object] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(inputs))

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for round_ in range(3):
                results[(i, round_)] = module(inputs[i], states[i])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with hang_guard():
        workers = [threading.Thread(target=worker, args=(i,)) for i in range(len(inputs))]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert not errors, errors
    for (i, _), (out, state) in results.items():
        want_out, want_state = sequential[i]
        assert np.array_equal(out, want_out)
        for got, want in zip(state if cell == "lstm" else (state,), want_state if cell == "lstm" else (want_state,)):
            assert np.array_equal(got, want)
    # the caller's states were not written
    for s, x in zip(states, inputs):
        h0 = s[0] if cell == "lstm" else s
        assert h0.shape == (4, x.shape[1], 120)


def test_keyboard_interrupt_during_a_call_leaves_the_module_usable() -> None:
    """interrupt_main() while the kernel runs: the KeyboardInterrupt surfaces from the call (once
    the current kernel call returns), and the next calls give the undisturbed result."""
    with thread_policy(exact=True):
        module = tsilstm.LSTM(16, 160, num_layers=3, schedule="tsi", threads=2, tile=32, seed=1)
    x = np.random.default_rng(1).standard_normal((400, 2, 16)).astype(np.float32)
    expected, (h_expected, c_expected) = module(x)
    start = time.perf_counter()
    module(x)
    call_s = time.perf_counter() - start
    interrupted = 0
    with hang_guard():
        for attempt in range(5):
            timer = threading.Timer(call_s * (0.2 + 0.1 * attempt), _thread.interrupt_main)
            try:
                timer.start()
                module(x)
                timer.join()  # the interrupt may land just after the call: absorb it here
                time.sleep(0.01)
            except KeyboardInterrupt:
                interrupted += 1
            finally:
                timer.cancel()
            out, (h_n, c_n) = module(x)
            assert np.array_equal(out, expected) and np.array_equal(h_n, h_expected) and np.array_equal(c_n, c_expected)
    assert interrupted == 5

