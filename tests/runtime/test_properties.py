"""Property tests: for random small shapes, every schedule the kernel runs equals the reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.model import random_model


@settings(deadline=None)  # examples per the profile in tests/conftest.py (default 40)
@given(
    cell=st.sampled_from(["lstm", "gru"]),
    schedule=st.sampled_from(["tsi", "conventional", "snake", "pinned", "tsi-pinned"]),
    input_size=st.integers(1, 9),
    hidden=st.integers(1, 48),
    tile_fraction=st.floats(0.05, 1.0),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    use_proj=st.booleans(),
    batch=st.integers(1, 5),
    steps=st.integers(1, 17),
    threads=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_kernel_equals_reference(cell, schedule, input_size, hidden, tile_fraction, layers, bidirectional,
                                 use_proj, batch, steps, threads, seed) -> None:  # type: ignore[no-untyped-def]
    proj = max(1, hidden // 3) if (use_proj and cell == "lstm" and hidden > 1) else 0
    model = random_model(cell, input_size, hidden, layers, proj_size=proj, bidirectional=bidirectional,
                         seed=seed, dtype=np.float32)
    tile = max(1, int(hidden * tile_fraction))
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    module = cls.from_model(model, schedule=schedule, threads=threads, tile=tile)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, input_size)).astype(np.float32)
    dirs = 2 if bidirectional else 1
    h0 = rng.standard_normal((layers * dirs, batch, proj or hidden)).astype(np.float32)
    c0 = rng.standard_normal((layers * dirs, batch, hidden)).astype(np.float32)
    expected, h_ref, c_ref = run_reference(model, x.astype(np.float64), h0.astype(np.float64),
                                           c0.astype(np.float64) if cell == "lstm" else None)
    if cell == "lstm":
        out, (h_n, c_n) = module(x, (h0, c0))
        assert np.abs(c_n - c_ref).max() <= 1e-4
    else:
        out, h_n = module(x, h0)
    assert out.shape == expected.shape
    assert np.abs(out - expected).max() <= 1e-4
    assert np.abs(h_n - h_ref).max() <= 1e-4
