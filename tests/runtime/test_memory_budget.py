"""A model whose packing would not fit in memory is refused before anything is allocated."""

import numpy as np
import pytest

import tsilstm
from tsilstm.errors import ResourceError, TsilstmError
from tsilstm.model import random_model
from tsilstm.runtime import memory_budget


def test_estimate_bounds_the_real_packing():
    model = random_model("lstm", 40, 100, 2, bidirectional=True, proj_size=30, dtype=np.float32)
    lstm = tsilstm.LSTM.from_model(model, tile=16)
    for run in lstm.layer_runs:  # packed_bytes: one direction's packed W_h and W_hr
        assert 0 < run.packed_bytes <= memory_budget.packed_direction_bytes(model, run.index, 4, 16)


def test_refused_with_the_bytes_needed():
    model = random_model("lstm", 16, 1024, dtype=np.float32)  # 16 MiB of W_h alone
    with pytest.raises(ResourceError, match=r"needs about \d+ bytes .* only 10000000 bytes") as info:
        memory_budget.check_packing_fits(model, 4, 64, memory_limits=(lambda: 10_000_000,))
    assert isinstance(info.value, TsilstmError)


def test_no_figure_from_the_system_refuses_nothing():
    model = random_model("lstm", 16, 1024, dtype=np.float32)
    needed = memory_budget.check_packing_fits(model, 4, 64, memory_limits=(lambda: None,))
    assert needed > 16 * 2**20
