"""Measures what changes the runtime's results and by how much: the same model and input run with
every schedule, thread count 1..5, tile sizes and instruction sets; prints, per factor, the largest
difference to a fixed baseline (bitwise equal -> 0) and the largest difference to the float64
reference. Used for docs/ROBUSTNESS.md.

usage: python -m tests.native.result_spread
"""

from __future__ import annotations

import numpy as np

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.model import random_model
from tsilstm.runtime import RUNTIME_SCHEDULES
from tsilstm.runtime.execution import available_isas

from tests.fuzz.api_cases import thread_policy

MODELS = (("lstm", 64, 512, 2), ("gru", 64, 600, 1), ("lstm", 32, 300, 1))
"""(cell, input, hidden, layers)."""
STEPS, BATCH = 200, 2


def main() -> int:
    """Print the spread table."""
    print(f"{'model':<18} {'factor':<10} {'variants':>8} {'max |diff| to baseline':>23} {'max |err| to float64':>21}")
    for cell, input_size, hidden, layers in MODELS:
        model = random_model(cell, input_size, hidden, layers, seed=1, dtype=np.float32)
        x = np.random.default_rng(2).standard_normal((STEPS, BATCH, input_size)).astype(np.float32)
        reference = run_reference(model, x.astype(np.float64))[0]
        cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU

        def run(**options):  # type: ignore[no-untyped-def]
            with thread_policy(exact=True):
                module = cls.from_model(model, **{"schedule": "tsi", "threads": 2, "tile": 64, **options})
            return module(x)[0]

        baseline = run()
        factors = {
            "schedule": [dict(schedule=s) for s in RUNTIME_SCHEDULES if s != "auto"],
            "threads": [dict(threads=t) for t in (1, 2, 3, 4, 5)],
            "tile": [dict(tile=t) for t in (16, 32, 48, 64, 100, 128)],
            "isa": [dict(isa=i) for i in available_isas()],
            "repeat": [{} for _ in range(5)],
        }
        for factor, variants in factors.items():
            outs = [run(**v) for v in variants]
            diff = max(float(np.abs(o - baseline).max()) for o in outs)
            err = max(float(np.abs(o - reference).max()) for o in outs)
            label = f"{cell} {input_size}x{hidden}x{layers}"
            print(f"{label:<18} {factor:<10} {len(outs):>8} {diff:>23.3g} {err:>21.3g}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
