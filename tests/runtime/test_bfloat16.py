"""bfloat16 recurrent weights: the kernel equals the reference run with the same rounded weights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import tsilstm
import tsilstm.errors
from tsilstm.cells import run_reference
from tsilstm.model import random_model
from tsilstm.runtime.execution import available_isas
from tsilstm.runtime.packing import from_bfloat16_bits, to_bfloat16_bits


def _rounded(model, input_too=False):  # type: ignore[no-untyped-def]
    """``model`` with W_hh and W_hr (and W_ih when ``input_too``: on AMX) rounded to bfloat16 (what
    the kernel streams)."""
    def rnd(a):  # type: ignore[no-untyped-def]
        return None if a is None else from_bfloat16_bits(to_bfloat16_bits(a)).reshape(a.shape)

    layers = tuple(
        replace(layer, directions=tuple(replace(d, w_ih=rnd(d.w_ih) if input_too else d.w_ih, w_hh=rnd(d.w_hh),
                                                w_hr=rnd(d.w_hr)) for d in layer.directions))
        for layer in model.layers
    )
    return replace(model, layers=layers)


def test_rounding_is_nearest_even() -> None:
    values = np.array([1.0, 1.00390625, 1.0078125 + 2**-9, 1.0078125 + 2**-8 + 2**-12, -3.5, 2**-130],
                      dtype=np.float32)
    back = from_bfloat16_bits(to_bfloat16_bits(values))
    assert back[0] == 1.0 and back[1] == 1.0  # 1 + 2^-8 is a tie: rounds to the even 1.0
    assert back[2] == np.float32(1.0078125) and back[3] == np.float32(1.015625) and back[4] == -3.5
    assert np.all(np.abs(back - values) <= np.abs(values) * 2**-8)


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512", "amx"])
@pytest.mark.parametrize("cell, proj", [("lstm", 0), ("lstm", 9), ("gru", 0)])
@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
def test_bfloat16_equals_reference_with_rounded_weights(cell, proj, schedule, isa) -> None:  # type: ignore[no-untyped-def]
    if isa not in available_isas():
        pytest.skip(f"this CPU does not run {isa}")
    model = random_model(cell, 7, 70, 2, proj_size=proj, bidirectional=True, seed=3, dtype=np.float32)
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    module = cls.from_model(model, schedule=schedule, threads=2, tile=16, isa=isa, weight_dtype="bfloat16")
    x = np.random.default_rng(4).standard_normal((60, 3, 7)).astype(np.float32)
    out = module(x)[0]
    expected = run_reference(_rounded(model, input_too=isa == "amx"), x.astype(np.float64))[0]
    assert np.abs(out - expected).max() <= 1e-4  # on AMX x is split into two bfloat16: exact to ~2^-16
    exact = run_reference(model, x.astype(np.float64))[0]
    assert np.abs(out - exact).max() <= 5e-2  # the rounding of the weights, not a bug
    assert "bfloat16" in module.plan_summary()
    float32_bytes = cls.from_model(model, schedule=schedule, threads=2, tile=16).schedule_info[0]["packed_bytes"]
    # half, but for the zero weight that ends an odd column count's last pair
    assert float32_bytes <= module.schedule_info[0]["packed_bytes"] * 2 <= float32_bytes * 1.1


def test_bad_weight_dtype() -> None:
    with pytest.raises(tsilstm.errors.InvalidParameterError, match="weight_dtype"):
        tsilstm.LSTM(4, 16, weight_dtype="int4")
