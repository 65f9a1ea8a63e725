"""Roofline bytes per step come from the schedules' own programs: M for conventional, M/2 for tsi."""

from __future__ import annotations

import pytest

from tsilstm.bench.roofline import roofline, steady_state_recurrent_bytes_per_step
from tsilstm.bench.shapes import BenchShape


@pytest.mark.parametrize("cell,hidden", [("lstm", 256), ("lstm", 200), ("gru", 192), ("gru", 100), ("lstm", 64)])
def test_conventional_streams_all_of_w_h_and_tsi_half(cell, hidden):
    shape = BenchShape(cell, hidden, hidden, 1, 10)
    matrix_bytes = shape.recurrent_weight_bytes
    assert steady_state_recurrent_bytes_per_step("conventional", shape) == matrix_bytes
    assert steady_state_recurrent_bytes_per_step("tsi", shape) == pytest.approx(matrix_bytes / 2)


def test_roofline_time_is_bytes_over_bandwidth():
    shape = BenchShape("lstm", 2048, 2048, 1, 50, num_layers=2)
    bound = roofline("tsi", shape, bandwidth_bytes_per_s=32e9, llc_bytes=32 * 2**20)
    assert bound.bytes_per_step == 2 * 4 * 2048 * 2048 * 4 / 2
    assert bound.ms_per_step == pytest.approx(1000 * bound.bytes_per_step / 32e9)
    assert not bound.weights_fit_in_llc
    assert roofline("conventional", BenchShape("gru", 512, 512, 1, 5), 32e9, 32 * 2**20).weights_fit_in_llc


def test_projection_and_directions():
    shape = BenchShape("lstm", 128, 128, 1, 10, num_layers=2, proj_size=32, bidirectional=True)
    per_direction_bytes = (4 * 128 * 32 + 32 * 128) * 4
    assert shape.recurrent_weight_bytes == 2 * 2 * per_direction_bytes
    assert steady_state_recurrent_bytes_per_step("conventional", shape) == shape.recurrent_weight_bytes
    # tsi falls back to snake with a projection: with a one-tile buffer nearly everything streams again
    assert steady_state_recurrent_bytes_per_step("tsi", shape) > shape.recurrent_weight_bytes / 2
