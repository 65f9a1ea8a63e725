"""Inputs holding +-inf: int8 weights give NaN exactly where torch's float32 does (LSTM, GRU,
projection, bidirectional, every schedule), and finite outputs elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tsilstm  # noqa: E402


def _inputs(seed: int, steps: int, batch: int, features: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, features)).astype(np.float32)
    for _ in range(4):  # a few infinities of either sign at random places
        x[rng.integers(steps), rng.integers(batch), rng.integers(features)] = rng.choice([np.inf, -np.inf])
    return x


@pytest.mark.parametrize("schedule", ["tsi", "conventional", "snake", "pinned", "tsi-pinned"])
@pytest.mark.parametrize("cell,extra", [("lstm", {}), ("gru", {}), ("lstm", {"proj_size": 3}),
                                        ("gru", {"bidirectional": True, "num_layers": 2})])
def test_int8_nan_exactly_where_torch_float32_has_it(schedule, cell, extra):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    reference = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(6, 8, **extra)
    with torch.no_grad():  # some exact zeros: 0 * inf is NaN in float32
        reference.weight_ih_l0[::5, 1] = 0.0
    module = tsilstm.from_torch(reference, schedule=schedule, weight_dtype="int8", tile=4)
    for seed in range(6):
        x = _inputs(seed, 7, 3, 6)
        with torch.no_grad():
            expected = reference(torch.from_numpy(x))
        got = module(x)
        flat_expected = [expected[0], *(expected[1] if isinstance(expected[1], tuple) else (expected[1],))]
        flat_got = [got[0], *(got[1] if isinstance(got[1], tuple) else (got[1],))]
        for want, have in zip(flat_expected, flat_got):
            want, have = want.numpy(), np.asarray(have)
            np.testing.assert_array_equal(np.isnan(have), np.isnan(want))
            assert np.isfinite(have[~np.isnan(have)]).all()


def test_finite_input_skips_the_check_result_unchanged():
    module = tsilstm.GRU(4, 6, weight_dtype="int8", schedule="tsi", seed=2)
    x = np.random.default_rng(0).standard_normal((5, 2, 4)).astype(np.float32)
    first = module(x)[0]
    x_inf = x.copy()
    x_inf[4, 1, 0] = np.inf  # only the last step of sequence 1
    second = module(x_inf)[0]
    np.testing.assert_array_equal(first[:4], second[:4])
    np.testing.assert_array_equal(first[:, 0], second[:, 0])
