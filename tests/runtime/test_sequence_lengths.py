"""Sequences of mixed lengths in one kernel call (``lengths=``): each sequence equals the same
sequence run alone for its own length (output, final states; a reverse direction starting at its
own last step), the output is zero beyond each length, and bad lengths are refused by name."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tsilstm
from tsilstm.errors import InvalidParameterError


@settings(max_examples=25, deadline=None)
@given(
    cell=st.sampled_from(["lstm", "gru"]),
    proj=st.sampled_from([0, 3]),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    schedule=st.sampled_from(["tsi", "conventional", "snake", "pinned", "tsi-pinned"]),
    lengths=st.lists(st.integers(1, 9), min_size=1, max_size=6),
    threads=st.integers(1, 3),
    dtype=st.sampled_from(["float32", "bfloat16", "int8"]),
    batch_first=st.booleans(),
)
def test_each_sequence_equals_its_own_run(cell, proj, layers, bidirectional, schedule, lengths, threads, dtype,
                                          batch_first):  # type: ignore[no-untyped-def]
    extra = {"proj_size": proj} if cell == "lstm" else {}
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    module = cls(5, 7, num_layers=layers, bidirectional=bidirectional, schedule=schedule, tile=4, threads=threads,
                 weight_dtype=dtype, seed=1, batch_first=batch_first, **extra)
    steps, batch = max(lengths) + 1, len(lengths)
    rng = np.random.default_rng(len(lengths))
    x = rng.standard_normal((steps, batch, 5)).astype(np.float32)
    given_x = x.transpose(1, 0, 2).copy() if batch_first else x
    out, states = module(given_x, lengths=np.array(lengths))
    out = out.transpose(1, 0, 2) if batch_first else out
    for n, length in enumerate(lengths):
        alone = x[:length, n:n + 1]
        one, one_states = module(alone.transpose(1, 0, 2).copy() if batch_first else alone)
        one = one.transpose(1, 0, 2) if batch_first else one
        np.testing.assert_allclose(out[:length, n:n + 1], one, atol=1e-6)
        assert not out[length:, n].any()
        for mine, its in zip(states if cell == "lstm" else (states,), one_states if cell == "lstm" else (one_states,)):
            np.testing.assert_allclose(mine[:, n], its[:, 0], atol=1e-6)


def test_zero_length_keeps_the_initial_state():
    lstm = tsilstm.LSTM(3, 4, schedule="tsi", seed=0)
    h0 = np.full((1, 2, 4), 0.5, np.float32)
    c0 = np.full((1, 2, 4), -0.25, np.float32)
    out, (h, c) = lstm(np.ones((3, 2, 3), np.float32), (h0, c0), lengths=[0, 3])
    assert not out[:, 0].any()
    np.testing.assert_array_equal(h[0, 0], h0[0, 0])
    np.testing.assert_array_equal(c[0, 0], c0[0, 0])


@pytest.mark.parametrize("bad", [[1, 2], [1, 2, 9], [-1, 1, 1], [1.5, 1, 1], ["a", 1, 1], [[1], [1], [1]]])
def test_bad_lengths_are_named(bad):  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError) as error:
        tsilstm.GRU(3, 4)(np.ones((4, 3, 3), np.float32), lengths=bad)
    assert error.value.name == "lengths"


def test_lengths_need_batched_input():
    with pytest.raises(InvalidParameterError) as error:
        tsilstm.GRU(3, 4)(np.ones((4, 3), np.float32), lengths=[4])
    assert error.value.name == "lengths"
