"""The fixed-point arithmetic and the reference's error against the float cells."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsilstm.errors import InvalidParameterError
from tsilstm.model import random_layer
from tsilstm.rtl.fixed_point import FixedFormats, pwl, pwl_max_error, pwl_table, quantize, round_shift, saturate, wrap
from tsilstm.rtl.reference import fixed_point_error

EDGE = FixedFormats(16, 16, 32)


@given(st.integers(-(2**40), 2**40), st.integers(1, 20))
def test_round_shift_rounds_half_up(x: int, shift: int) -> None:
    assert int(round_shift(np.array([x]), shift)[0]) == int(np.floor(x / 2**shift + 0.5))


@given(st.integers(-(2**50), 2**50), st.sampled_from([8, 16, 32]))
def test_wrap_keeps_the_low_bits_as_signed(x: int, bits: int) -> None:
    wrapped = int(wrap(np.array([x]), bits)[0])
    assert -(2 ** (bits - 1)) <= wrapped < 2 ** (bits - 1)
    assert (wrapped - x) % 2**bits == 0


def test_saturate_and_quantize_clamp_to_the_range() -> None:
    assert saturate(np.array([40000, -40000, 5]), 16).tolist() == [32767, -32768, 5]
    assert quantize(np.array([100.0, -100.0, 0.5]), EDGE.act_frac, 16).tolist() == [32767, -32768, 2048]


def test_edge_formats() -> None:
    assert (EDGE.weight_frac, EDGE.act_frac, EDGE.acc_frac, EDGE.product_shift) == (13, 12, 23, 2)


@pytest.mark.parametrize("function, bound", [("sigmoid", 4e-4), ("tanh", 1.6e-3)])
def test_pwl_error_is_the_documented_one(function: str, bound: float) -> None:
    assert pwl_max_error(EDGE, function) < bound


def test_pwl_hits_the_breakpoints() -> None:
    table = pwl_table(EDGE, "tanh")
    step = 1 << EDGE.pwl_offset_bits
    x = np.arange(-(1 << 15), 1 << 15, step)
    assert np.array_equal(pwl(EDGE, table, x), table[:-1])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_fixed_point_error_against_float_is_small(cell: str) -> None:
    weights = random_layer(cell, 64, 128, seed=3).directions[0]
    x = np.random.default_rng(4).uniform(-1, 1, (16, 2, 64))
    assert fixed_point_error(EDGE, cell, weights, x) < 5e-3


def test_formats_name_the_bad_width() -> None:
    with pytest.raises(InvalidParameterError, match="accumulator_bits"):
        FixedFormats(16, 16, 16)
    with pytest.raises(InvalidParameterError, match="weight_bits"):
        FixedFormats(12, 16, 32)
