"""A model whose packing would not fit in memory is refused before anything is allocated."""

import numpy as np
import pytest

import tsilstm
from tsilstm.errors import ResourceError, TsilstmError
from tsilstm.model import random_model
from tsilstm.runtime import memory_budget


@pytest.mark.parametrize(
    "cell, variant, proj, tile",
    [("lstm", "standard", 30, 16), ("lstm", "standard", 0, 7), ("gru", "reset_after", 0, 16), ("gru", "reset_before", 0, 16),
     ("gru", "reset_before", 0, 7)],
)
def test_estimate_bounds_the_real_packing(cell, variant, proj, tile):
    model = random_model(cell, 40, 100, 2, bidirectional=True, proj_size=proj, variant=variant, dtype=np.float32)
    module = (tsilstm.LSTM if cell == "lstm" else tsilstm.GRU).from_model(model, tile=tile)
    for index, packed in module._packed.values():  # packed W_h (and W_hr) and W_x of one direction
        used = packed.weights.nbytes + packed.wx.nbytes
        assert 0 < used <= memory_budget.packed_direction_bytes(model, index, 4, tile)


@pytest.mark.parametrize("weight_dtype, weight_bytes", [("int8", 1), ("bfloat16", 2)])
@pytest.mark.parametrize("input_size, proj", [(4, 0), (4, 24), (200, 0)])
def test_estimate_bounds_low_precision_packing(weight_dtype, weight_bytes, input_size, proj):
    """int8 tiles add a scale and an offset per row of each tile; a narrow input leaves W_x's
    float32 allowance no room to hide them, so the estimate must count them."""
    model = random_model("lstm", input_size, 128, 1, proj_size=proj, dtype=np.float32)
    module = tsilstm.LSTM.from_model(model, tile=16, weight_dtype=weight_dtype)
    for index, packed in module._packed.values():
        used = packed.weights.nbytes + packed.wx.nbytes
        assert 0 < used <= memory_budget.packed_direction_bytes(model, index, weight_bytes, 16)


def test_refused_with_the_bytes_needed():
    model = random_model("lstm", 16, 1024, dtype=np.float32)  # 16 MiB of W_h alone
    with pytest.raises(ResourceError, match=r"needs about \d+ bytes .* only 10000000 bytes") as info:
        memory_budget.check_packing_fits(model, 4, 64, memory_limits=(lambda: 10_000_000,))
    assert isinstance(info.value, TsilstmError)


def test_no_figure_from_the_system_refuses_nothing():
    model = random_model("lstm", 16, 1024, dtype=np.float32)
    needed = memory_budget.check_packing_fits(model, 4, 64, memory_limits=(lambda: None,))
    assert needed > 16 * 2**20
