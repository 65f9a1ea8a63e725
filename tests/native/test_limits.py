"""Limits: hidden sizes up to 8192 run and equal the reference (opt-in, slow: about 1 GiB of
weights per layer; TSILSTM_LARGE_TESTS=1), and the Python side does not grow with the sequence
(a call's time outside the kernel is a per-call constant; benchmarks/step_overhead.py measures it).
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.model import random_model

large = pytest.mark.skipif(os.environ.get("TSILSTM_LARGE_TESTS") != "1",
                           reason="opt-in: TSILSTM_LARGE_TESTS=1 (hidden 8192: ~3 GiB of memory, about a minute)")


@large
@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_hidden_8192_equals_reference(cell: str) -> None:
    model = random_model(cell, 16, 8192, seed=0, dtype=np.float32)
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    start = time.perf_counter()
    module = cls.from_model(model, schedule="tsi", threads=2)
    pack_s = time.perf_counter() - start
    x = np.random.default_rng(0).standard_normal((4, 2, 16)).astype(np.float32)
    start = time.perf_counter()
    out = module(x)[0]
    call_s = time.perf_counter() - start
    expected = run_reference(model, x.astype(np.float64))[0]
    print(f"{cell} hidden 8192: packed {module.layer_runs[0].packed_bytes / 2**20:.0f} MiB in {pack_s:.1f} s, "
          f"4 steps x batch 2 in {call_s * 1e3:.0f} ms, max abs error {np.abs(out - expected).max():.2g}")
    assert np.abs(out - expected).max() <= 1e-4


def test_python_side_time_does_not_grow_with_steps() -> None:
    """The Python side loops over layers, directions and hoisting chunks, never over steps: one
    kernel call per layer direction for 40 and for 4000 steps (the time is measured, not asserted,
    by benchmarks/step_overhead.py)."""
    from tsilstm.runtime import execution

    calls = []
    kernel = execution.kernel_module()

    class Counting:
        def __getattr__(self, name):  # type: ignore[no-untyped-def]
            return getattr(kernel, name)

        def run_direction(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            calls.append(args[1] if len(args) > 1 else kwargs["steps"])  # batch, steps, ... by position
            kernel.run_direction(*args, **kwargs)

    module = tsilstm.LSTM(8, 32, num_layers=2, bidirectional=True, schedule="tsi", threads=1, seed=0)
    original = execution.kernel_module
    execution.kernel_module = lambda: Counting()
    try:
        for steps in (40, 4000):
            calls.clear()
            module(np.zeros((steps, 1, 8), np.float32))
            assert calls == [steps] * 4  # one kernel call per layer direction, whatever the length
    finally:
        execution.kernel_module = original
