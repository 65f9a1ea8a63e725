"""The buffer simulation counts DRAM bytes from the op list alone."""

from dataclasses import replace

import pytest

from tsilstm.errors import PlanError
from tsilstm.plan import generate_plan, simulate_buffer
from tsilstm.plan.ops import Op


def test_counts_hand_computed_conventional():
    # hidden 8, tile 4: 4 W_h tiles of 4*4*4*4 = 256 bytes, 4 W_x tiles (input 8); 3 steps
    plan = generate_plan("conventional", 8, 8, steps=3, tile=4, buffer_bytes=512)
    stats = simulate_buffer(plan)
    assert stats.bytes_by_source == {"h": 3 * 4 * 256, "x": 4 * 256, "p": 0}
    assert stats.loads == 16
    assert stats.peak_buffer_bytes == 256


def test_counts_hand_computed_tsi():
    # 2x2 tiles, 4 steps: sweep -1 loads the upper tiles (3), sweep 0 all 4, sweep 1 all 4
    # (its upper tiles serve step 3 only), so 11 W_h loads of 256 bytes
    plan = generate_plan("tsi", 8, 8, steps=4, tile=4, buffer_bytes=256)
    assert simulate_buffer(plan).bytes_by_source["h"] == 11 * 256


def test_smaller_buffer_than_plan_needs_is_an_error():
    plan = generate_plan("snake", 16, steps=4, tile=4, buffer_bytes=4 * 4 * 4 * 4 * 6)
    with pytest.raises(PlanError, match="buffer overflow"):
        simulate_buffer(plan, buffer_bytes=4 * 4 * 4 * 4 * 2)


def test_double_load_is_an_error():
    plan = generate_plan("tsi", 8, steps=2, tile=4, buffer_bytes=10**6)
    ops = (Op("load", "h", 0, 0),) + plan.ops
    with pytest.raises(PlanError, match="already in the buffer"):
        simulate_buffer(replace(plan, ops=ops))
