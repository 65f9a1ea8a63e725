"""Time per step of a forward call from 10 to 10000 steps: a flat curve means no Python-side cost
that grows faster than the sequence (a limit of the runtime). A small layer (hidden 32, where the kernel's
own work per step is smallest, so any per-step Python cost would dominate) and a mid-size one.
The time spent outside the native kernel (the Python side: argument checks, conversions, layer and
direction loop, output assembly) is measured separately by timing each kernel call.

usage: python benchmarks/step_overhead.py [--repeats 7] [--threads 2]
Prints one row per (shape, schedule, steps): median and min microseconds per step of the whole
call, and of the Python side in the fastest call.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import tsilstm

STEPS = (10, 30, 100, 300, 1000, 3000, 10000)
SHAPES = ((32, 1), (256, 1), (256, 4))  # (hidden, batch); input = 16


class TimedKernel:
    """The native kernel module with ``run_direction`` timed (seconds summed in ``native_s``)."""

    def __init__(self, kernel) -> None:  # type: ignore[no-untyped-def]
        self.kernel = kernel
        self.native_s = 0.0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.kernel, name)

    def run_direction(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        self.kernel.run_direction(*args, **kwargs)
        self.native_s += time.perf_counter() - start


def time_call(module, x: np.ndarray, repeats: int, timed: TimedKernel) -> list[tuple[float, float]]:  # type: ignore[no-untyped-def]
    """(seconds of the call, seconds outside the kernel) of ``repeats`` calls of ``module(x)``
    after one warm-up call."""
    module(x)
    out = []
    for _ in range(repeats):
        timed.native_s = 0.0
        start = time.perf_counter()
        module(x)
        total = time.perf_counter() - start
        out.append((total, total - timed.native_s))
    return out


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, threads {args.threads}, repeats {args.repeats}")
    from tsilstm.runtime import execution

    timed = TimedKernel(execution.kernel_module())
    execution.kernel_module = lambda: timed  # measurement only: the same kernel, timed
    print(f"{'hidden':>6} {'batch':>5} {'schedule':>12} {'steps':>6} {'us/step median':>15} {'us/step min':>12} "
          f"{'python us/step':>15}")
    for hidden, batch in SHAPES:
        for schedule in ("tsi", "conventional"):
            module = tsilstm.LSTM(16, hidden, schedule=schedule, threads=args.threads, seed=0)
            for steps in STEPS:
                x = np.random.default_rng(0).standard_normal((steps, batch, 16)).astype(np.float32)
                times = time_call(module, x, args.repeats, timed)
                per_step = [t / steps * 1e6 for t, _ in times]
                python_us = min(times)[1] / steps * 1e6
                print(f"{hidden:>6} {batch:>5} {schedule:>12} {steps:>6} {np.median(per_step):>15.2f} "
                      f"{min(per_step):>12.2f} {python_us:>15.3f}", flush=True)


if __name__ == "__main__":
    main()
