"""The traffic figures of docs/design.md section 3, measured by the buffer simulation of each plan."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsilstm.plan import SCHEDULES, generate_plan, simulate_buffer


def recurrent_bytes(plan):
    return simulate_buffer(plan).bytes_by_source["h"]


def per_step_steady(schedule, hidden, tile, buffer_bytes, steps=40):
    """W_h bytes of one more step in steady state (difference of two long runs)."""
    a = generate_plan(schedule, hidden, steps=steps, tile=tile, buffer_bytes=buffer_bytes)
    b = generate_plan(schedule, hidden, steps=steps + 2, tile=tile, buffer_bytes=buffer_bytes)
    return (recurrent_bytes(b) - recurrent_bytes(a)) / 2


M_64_8 = 4 * 64 * 64 * 4  # W_h bytes for hidden 64, fp32
TILE_8 = 4 * 8 * 8 * 4


def test_conventional_streams_all_of_w_h_every_step():
    assert per_step_steady("conventional", 64, 8, 10 * TILE_8) == M_64_8
    assert per_step_steady("naive", 64, 8, 10 * TILE_8) == M_64_8


def test_tsi_streams_half_of_w_h_per_step():
    assert per_step_steady("tsi", 64, 8, TILE_8) == M_64_8 / 2


@pytest.mark.parametrize("schedule", ["snake", "pinned"])
def test_snake_and_pinned_save_about_the_buffer(schedule):
    buffer_bytes = 20 * TILE_8
    saved = M_64_8 - per_step_steady(schedule, 64, 8, buffer_bytes)
    assert buffer_bytes - 2 * TILE_8 <= saved <= buffer_bytes


def test_tsi_pinned_streams_half_of_the_unpinned_part():
    buffer_bytes = 20 * TILE_8
    got = per_step_steady("tsi-pinned", 64, 8, buffer_bytes)
    assert (M_64_8 - buffer_bytes) / 2 <= got <= (M_64_8 - buffer_bytes + 2 * TILE_8) / 2


def test_everything_loads_once_when_w_h_fits():
    for schedule in SCHEDULES[1:]:
        plan = generate_plan(schedule, 16, steps=30, tile=4, buffer_bytes=4 * 16 * 16 * 4)
        assert recurrent_bytes(plan) == 4 * 16 * 16 * 4


def test_issue_figure_tsi_vs_conventional_hidden_2048():
    tsi = generate_plan("tsi", 2048, steps=50)
    conv = generate_plan("conventional", 2048, steps=50)
    assert simulate_buffer(tsi).weight_bytes_loaded <= 0.52 * simulate_buffer(conv).weight_bytes_loaded


@given(
    hidden=st.integers(2, 48),
    tile_fraction=st.floats(0.05, 1.0),
    steps=st.integers(1, 40),
    buffer_tiles=st.floats(1.0, 60.0),
)
def test_tsi_pinned_never_loads_more_than_any_schedule(hidden, tile_fraction, steps, buffer_tiles):
    tile = max(1, int(hidden * tile_fraction))
    buffer_bytes = int(4 * tile * tile * 4 * buffer_tiles)
    best = recurrent_bytes(generate_plan("tsi-pinned", hidden, steps=steps, tile=tile, buffer_bytes=buffer_bytes))
    for schedule in SCHEDULES:
        other = recurrent_bytes(generate_plan(schedule, hidden, steps=steps, tile=tile, buffer_bytes=buffer_bytes))
        assert best <= other, schedule


@given(hidden=st.integers(2, 40), steps=st.integers(1, 41))
def test_tsi_loads_each_tile_once_per_sweep(hidden, steps):
    """Each W_h tile serves at most two steps per load, and sweeps at the ends load no unused tile."""
    tile = max(1, hidden // 4)
    plan = generate_plan("tsi", hidden, steps=steps, tile=tile, buffer_bytes=4 * tile * tile * 4)
    m = plan.tiling.matrix_bytes("h")
    got = recurrent_bytes(plan)
    assert got <= m * (steps // 2 + 1)
    assert got >= m * steps / 2


@given(
    schedule=st.sampled_from(SCHEDULES),
    hidden=st.integers(1, 30),
    steps=st.integers(1, 60),
    buffer_tiles=st.floats(1.0, 40.0),
    proj=st.booleans(),
)
def test_extended_traffic_equals_full_expansion(schedule, hidden, steps, buffer_tiles, proj):
    from tsilstm.plan import make_program, make_tiling
    from tsilstm.plan.traffic import weight_bytes_by_source

    tile = max(1, hidden // 3)
    tiling = make_tiling(hidden, tile=tile, proj_size=hidden // 2 if proj and hidden > 1 else 0)
    program = make_program(schedule, tiling, int(tiling.max_tile_bytes * buffer_tiles))
    from tsilstm.plan import expand

    assert weight_bytes_by_source(program, steps) == simulate_buffer(expand(program, steps)).bytes_by_source
