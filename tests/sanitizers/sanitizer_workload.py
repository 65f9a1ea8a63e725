"""The workload run under the sanitizer builds of the native kernel: a grid over cell, schedule,
thread count (1..5), batch (1 and > 1), projection, bidirectional layers, odd sizes and streaming,
plus several Python threads calling one module at once. Every result is checked against the
float64 numpy reference, so a sanitizer run also fails on a wrong answer.

Run as ``python -m tests.sanitizers.sanitizer_workload [--quick]`` (sanitized_run.py does it with
the sanitized build first on PYTHONPATH); prints one line per group and the case count.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading

import numpy as np

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.model import random_model

TOLERANCE = 1e-4
"""Max abs difference to the float64 reference (the runtime tests' bound)."""


def check_case(cell: str, schedule: str, threads: int, batch: int, hidden: int, input_size: int,
               layers: int, bidirectional: bool, proj: int, steps: int, tile: int, seed: int) -> None:
    """Run one configuration through the kernel and compare with the reference (AssertionError if not)."""
    model = random_model(cell, input_size, hidden, layers, proj_size=proj, bidirectional=bidirectional,
                         seed=seed, dtype=np.float32)
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    module = cls.from_model(model, schedule=schedule, threads=threads, tile=tile)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, input_size)).astype(np.float32)
    expected = run_reference(model, x.astype(np.float64))[0]
    got = module(x)[0]
    error = float(np.abs(got - expected).max())
    assert error <= TOLERANCE, (cell, schedule, threads, batch, hidden, proj, steps, tile, error)
    if bidirectional:  # the reverse direction of a chunk depends on the chunk's end: no streaming
        return
    # streaming: the same sequence in two uneven chunks
    split = max(1, steps // 3)
    first, state = module(x[:split])
    second, _ = module(x[split:], state) if steps > split else (first[:0], None)
    assert np.abs(np.concatenate([first, second]) - expected).max() <= TOLERANCE


def concurrent_calls(threads: int) -> None:
    """Four Python threads call one module at once; each result equals the sequential one."""
    module = tsilstm.LSTM(7, 70, num_layers=2, schedule="tsi", threads=threads, tile=16, seed=3)
    inputs = [np.random.default_rng(i).standard_normal((12, 1 + i, 7)).astype(np.float32) for i in range(4)]
    sequential = [module(x)[0] for x in inputs]
    results: list[np.ndarray | None] = [None] * len(inputs)

    def work(i: int) -> None:
        results[i] = module(inputs[i])[0]

    workers = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    for got, want in zip(results, sequential):
        assert got is not None and np.array_equal(got, want)


def main(argv: list[str] | None = None) -> int:
    """Run the grid (``--quick``: a smaller one); returns 0 when every case matched."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer shapes (for a slow sanitizer)")
    args = parser.parse_args(argv)
    from tsilstm.runtime import _kernel

    print(f"kernel: {_kernel.__file__}", flush=True)
    schedules = ("tsi", "conventional", "snake", "pinned", "tsi-pinned")
    thread_counts = (1, 2, 3, 5) if args.quick else (1, 2, 3, 4, 5)
    shapes = [  # (hidden, input, layers, bidirectional, proj, steps, tile)
        (37, 5, 1, False, 0, 9, 16),
        (50, 3, 2, True, 0, 7, 16),
        (70, 6, 1, False, 23, 8, 16),
    ]
    if not args.quick:
        shapes += [(131, 9, 1, True, 0, 5, 64), (1, 1, 1, False, 0, 3, 1), (66, 4, 1, True, 17, 6, 32)]
    cases = 0
    for cell, schedule in itertools.product(("lstm", "gru"), schedules):
        for threads, batch, shape in itertools.product(thread_counts, (1, 3), shapes):
            hidden, input_size, layers, bidir, proj, steps, tile = shape
            if cell == "gru" and proj:
                continue
            check_case(cell, schedule, threads, batch, hidden, input_size, layers, bidir, proj, steps, tile,
                       seed=cases)
            cases += 1
        print(f"{cell} {schedule}: ok ({cases} cases so far)", flush=True)
    # batches above the kernel's 64-column slice and a long sequence crossing the hoisting chunk
    check_case("lstm", "tsi", 2, 67, 20, 3, 1, False, 0, 4, 16, seed=1)
    check_case("gru", "conventional", 3, 9, 33, 2, 1, False, 0, 61, 16, seed=2)
    cases += 2
    for threads in (1, 2, 3):
        concurrent_calls(threads)
        cases += 1
    print(f"sanitizer workload: {cases} cases, all equal to the reference", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
