"""A model whose packing would not fit in memory is refused before anything is allocated."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tsilstm
from tsilstm.errors import ResourceError, TsilstmError
from tsilstm.model import random_model
from tsilstm.runtime import memory_budget
from tsilstm.runtime.execution import available_isas
from tsilstm.runtime.kernel_abi import WEIGHT_DTYPES, input_tail_bytes


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
        assert 0 < used <= memory_budget.packed_direction_bytes(model, index, "float32", tile)


@pytest.mark.parametrize("weight_dtype", ["int8", "bfloat16"])
@pytest.mark.parametrize("input_size, proj", [(4, 0), (4, 24), (200, 0)])
def test_estimate_bounds_low_precision_packing(weight_dtype, input_size, proj):
    """int8 tiles add a scale and an offset per row of each tile; a narrow input leaves W_x's
    float32 allowance no room to hide them, so the estimate must count them."""
    model = random_model("lstm", input_size, 128, 1, proj_size=proj, dtype=np.float32)
    module = tsilstm.LSTM.from_model(model, tile=16, weight_dtype=weight_dtype)
    for index, packed in module._packed.values():
        used = packed.weights.nbytes + packed.wx.nbytes
        assert 0 < used <= memory_budget.packed_direction_bytes(model, index, weight_dtype, 16)


def test_refused_with_the_bytes_needed():
    model = random_model("lstm", 16, 1024, dtype=np.float32)  # 16 MiB of W_h alone
    with pytest.raises(ResourceError, match=r"needs about \d+ bytes .* only 10000000 bytes") as info:
        memory_budget.check_packing_fits(model, "float32", 64, memory_limits=(lambda: 10_000_000,))
    assert isinstance(info.value, TsilstmError)


def test_no_figure_from_the_system_refuses_nothing():
    model = random_model("lstm", 16, 1024, dtype=np.float32)
    needed = memory_budget.check_packing_fits(model, "float32", 64, memory_limits=(lambda: None,))
    assert needed > 16 * 2**20


def test_int8_estimate_counts_the_padded_k() -> None:
    """int8 tiles store K rounded up to four (and bfloat16 ones to two): LSTM(3, 50) in int8 packs
    19,072 bytes, which the estimate once put at 18,656."""
    module = tsilstm.LSTM(3, 50, weight_dtype="int8", schedule="tsi")
    (index, packed), = module._packed.values()
    assert packed.weights.nbytes + packed.wx.nbytes == 19_072
    assert memory_budget.packed_direction_bytes(module.model, index, "int8", 50) == 19_072


@settings(deadline=None)  # examples per the profile in tests/conftest.py
@given(
    cell_variant=st.sampled_from([("lstm", "standard"), ("gru", "reset_after"), ("gru", "reset_before")]),
    input_size=st.integers(1, 40), hidden=st.integers(1, 72), proj=st.integers(0, 40), layers=st.integers(1, 2),
    bidirectional=st.booleans(), tile=st.integers(1, 80), weight_dtype=st.sampled_from(WEIGHT_DTYPES),
    isa=st.sampled_from(available_isas()),
)
def test_estimate_is_an_upper_bound_for_every_dtype_and_shape(cell_variant, input_size, hidden, proj, layers,
                                                              bidirectional, tile, weight_dtype, isa):
    cell, variant = cell_variant
    proj = proj if cell == "lstm" and proj < hidden else 0
    model = random_model(cell, input_size, hidden, layers, bidirectional=bidirectional, proj_size=proj,
                         variant=variant, dtype=np.float32)
    tile_units = min(tile, hidden)  # a tile is at most the layer
    module = (tsilstm.LSTM if cell == "lstm" else tsilstm.GRU).from_model(
        model, tile=tile_units, weight_dtype=weight_dtype, isa=isa, schedule="tsi")
    for index, packed in module._packed.values():
        used = packed.weights.nbytes + packed.wx.nbytes
        estimate = memory_budget.packed_direction_bytes(model, index, weight_dtype, tile_units)
        assert 0 < used <= estimate
        # the bound is the packing itself, up to a float32 W_ih (of this layer's input, which above
        # the first layer is the hidden size) and the tail of a bfloat16 one (on AMX)
        layer_input = model.layers[index].shape.input_size
        assert estimate - used <= 2 * packed.bias_x.size * (layer_input + 1) + input_tail_bytes("bfloat16")
