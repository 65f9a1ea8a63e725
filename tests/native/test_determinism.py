"""Determinism: the same input, schedule and thread count give bitwise identical results across
runs and across processes; the thread count itself does not change the result (each row-block's
sums are accumulated by one thread in body order). What does change the result (schedule, tile,
instruction set) is measured by tests/native/result_spread.py and written up in docs/ROBUSTNESS.md.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tsilstm

from tests.fuzz.api_cases import thread_policy

ROOT = Path(__file__).resolve().parents[2]

CONFIGS = [  # (cell, schedule, threads, batch)
    ("lstm", "tsi", 1, 1),
    ("lstm", "tsi", 3, 4),
    ("lstm", "conventional", 2, 1),
    ("gru", "tsi", 2, 3),
    ("gru", "snake", 5, 1),
    ("lstm", "tsi-pinned", 4, 2),
]


def output_digest(cell: str, schedule: str, threads: int, batch: int) -> str:
    """sha256 of (output, final states) of a fixed 2-layer bidirectional model on fixed data."""
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    with thread_policy(exact=True):  # run the requested thread count on this small layer
        module = cls(11, 93, num_layers=2, bidirectional=True, schedule=schedule, threads=threads, tile=32, seed=7)
    x = np.random.default_rng(3).standard_normal((41, batch, 11)).astype(np.float32)
    out, state = module(x)
    digest = hashlib.sha256(out.tobytes())
    for part in state if isinstance(state, tuple) else (state,):
        digest.update(part.tobytes())
    return digest.hexdigest()


def digests_in_subprocess() -> dict[str, str]:
    """The digests of CONFIGS computed in a fresh Python process."""
    code = (
        "import json, sys; sys.path.insert(0, %r)\n"
        "from tests.native.test_determinism import CONFIGS, output_digest\n"
        "print(json.dumps({'|'.join(map(str, c)): output_digest(*c) for c in CONFIGS}))\n" % str(ROOT)
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bitwise_identical_across_runs_and_processes() -> None:
    here = {"|".join(map(str, c)): output_digest(*c) for c in CONFIGS}
    again = {"|".join(map(str, c)): output_digest(*c) for c in CONFIGS}
    assert here == again
    first, second = digests_in_subprocess(), digests_in_subprocess()
    assert first == here and second == here


@pytest.mark.parametrize("cell, schedule", [("lstm", "tsi"), ("lstm", "conventional"), ("gru", "pinned")])
def test_thread_count_gives_bitwise_identical_results(cell: str, schedule: str) -> None:
    digests = {threads: output_digest(cell, schedule, threads, 2) for threads in (1, 2, 3, 4, 5)}
    assert len(set(digests.values())) == 1, digests


def test_sequence_result_does_not_depend_on_its_batch_neighbours() -> None:
    """Sequence n of a batch gives the same bits alone, in any batch position, with any companions."""
    with thread_policy(exact=True):
        module = tsilstm.LSTM(6, 70, schedule="tsi", threads=2, tile=16, seed=4)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((23, 7, 6)).astype(np.float32)
    batched = module(x)[0]
    for n in (0, 3, 6):
        alone = module(x[:, n : n + 1])[0]
        assert np.array_equal(alone[:, 0], batched[:, n])
