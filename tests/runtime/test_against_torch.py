"""The native kernel equals torch.nn.LSTM / nn.GRU (fp32, max abs error <= 1e-4 over 200 steps)
for the tsi and conventional schedules, many shapes and thread counts 1..4."""

from __future__ import annotations

import numpy as np
import pytest

import tsilstm

TOLERANCE = 1e-4
STEPS = 200


def _max_error(ours, ref) -> float:  # type: ignore[no-untyped-def]
    if isinstance(ours, tuple):
        return max(_max_error(a, b) for a, b in zip(ours, ref))
    return float((ours - ref).abs().max())


SHAPES = [
    # cell, input, hidden, layers, batch, bidirectional, proj, batch_first, tile
    ("lstm", 24, 100, 1, 1, False, 0, False, 32),  # hidden not a multiple of the tile
    ("lstm", 16, 64, 2, 3, False, 0, False, 16),  # multi-layer
    ("lstm", 16, 48, 1, 8, True, 0, True, 16),  # bidirectional, batch_first, batch 8
    ("lstm", 20, 70, 2, 2, True, 23, False, 16),  # projection (tsi falls back), bidirectional
    ("lstm", 12, 40, 1, 5, False, 0, False, 40),  # one row-block
    ("gru", 24, 100, 1, 1, False, 0, False, 32),
    ("gru", 16, 80, 2, 4, True, 0, True, 16),
    ("gru", 10, 33, 1, 7, False, 0, False, 8),
]


@pytest.mark.parametrize("threads", [1, 2, 3, 4])
@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "-".join(map(str, s)))
def test_equals_torch(torch, shape, schedule, threads) -> None:  # type: ignore[no-untyped-def]
    cell, input_size, hidden, layers, batch, bidi, proj, batch_first, tile = shape
    torch.manual_seed(hash(shape) % 1000)
    kwargs = dict(num_layers=layers, bidirectional=bidi, batch_first=batch_first)
    if cell == "lstm":
        module = torch.nn.LSTM(input_size, hidden, proj_size=proj, **kwargs)
    else:
        module = torch.nn.GRU(input_size, hidden, **kwargs)
    ours = tsilstm.from_torch(module, schedule=schedule, threads=threads, tile=tile)
    x = torch.randn((batch, STEPS, input_size) if batch_first else (STEPS, batch, input_size))
    dirs = 2 if bidi else 1
    h0 = torch.randn(layers * dirs, batch, proj or hidden)
    hx = (h0, torch.randn(layers * dirs, batch, hidden)) if cell == "lstm" else h0
    with torch.no_grad():
        expected = module(x, hx)
    got = ours(x, hx)
    assert isinstance(got[0], torch.Tensor)
    assert got[0].shape == expected[0].shape
    assert _max_error(got, expected) <= TOLERANCE


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_numpy_in_numpy_out_and_unbatched(torch, cell) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(3)
    module = torch.nn.LSTM(8, 40) if cell == "lstm" else torch.nn.GRU(8, 40)
    ours = tsilstm.from_torch(module, schedule="tsi", threads=2, tile=16)
    x = np.random.default_rng(0).standard_normal((STEPS, 8)).astype(np.float32)
    out, state = ours(x)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (STEPS, 40)
    with torch.no_grad():
        expected, expected_state = module(torch.from_numpy(x))
    assert np.abs(out - expected.numpy()).max() <= TOLERANCE
    if cell == "lstm":
        assert state[0].shape == (1, 40) and state[1].shape == (1, 40)
        assert np.abs(state[1] - expected_state[1].numpy()).max() <= TOLERANCE
    else:
        assert np.abs(state - expected_state.numpy()).max() <= TOLERANCE


def test_bias_false_and_float64_input(torch) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(5)
    module = torch.nn.LSTM(6, 30, bias=False)
    ours = tsilstm.from_torch(module, schedule="tsi", threads=2, tile=8)
    x = np.random.default_rng(1).standard_normal((50, 2, 6))  # float64: converted to float32
    out, _ = ours(x)
    with torch.no_grad():
        expected, _ = module(torch.from_numpy(x.astype(np.float32)))
    assert np.abs(out - expected.numpy()).max() <= TOLERANCE


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_every_instruction_set_equals_torch(torch, isa) -> None:  # type: ignore[no-untyped-def]
    from tsilstm.runtime.execution import available_isas

    if isa not in available_isas():
        pytest.skip(f"this CPU does not run {isa}")
    torch.manual_seed(7)
    module = torch.nn.LSTM(16, 90, num_layers=2)
    ours = tsilstm.from_torch(module, schedule="tsi", threads=2, tile=32, isa=isa)
    x = torch.randn(STEPS, 3, 16)
    with torch.no_grad():
        expected = module(x)
    assert _max_error(ours(x), expected) <= TOLERANCE


def test_large_batch_runs_in_slices(torch) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(9)
    module = torch.nn.GRU(4, 20)
    ours = tsilstm.from_torch(module, schedule="tsi", threads=2, tile=8)
    x = torch.randn(10, 70, 4)  # batch 70 > the kernel's 64 per call
    with torch.no_grad():
        expected = module(x)
    assert _max_error(ours(x), expected) <= TOLERANCE
