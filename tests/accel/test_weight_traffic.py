"""The cost model's closed-form weight traffic equals the plan's independent buffer simulation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.accel.weight_traffic import weight_dram_bytes
from tsilstm.model import gate_count
from tsilstm.plan import SCHEDULES, Tiling, expand, make_program, simulate_buffer


@st.composite
def cases(draw):  # type: ignore[no-untyped-def]
    cell = draw(st.sampled_from(["lstm", "gru"]))
    hidden = draw(st.integers(1, 24))
    tile = draw(st.integers(1, hidden))
    proj = draw(st.integers(0, hidden - 1)) if cell == "lstm" and hidden > 1 and draw(st.booleans()) else 0
    tiling = Tiling(hidden, draw(st.integers(1, 24)), tile, gate_count(cell), proj, draw(st.sampled_from([1, 2, 4])))
    matrix = tiling.matrix_bytes("h") + tiling.matrix_bytes("p")
    buffer = draw(st.integers(tiling.max_tile_bytes, 2 * matrix + tiling.matrix_bytes("x") + tiling.max_tile_bytes))
    steps = draw(st.integers(1, 12))
    known_steps = draw(st.sampled_from([None, steps]))
    variant = draw(st.sampled_from(["standard", "reset_before"])) if cell == "gru" else "standard"
    return tiling, buffer, steps, known_steps, variant


@settings(max_examples=120, deadline=None)
@given(cases())
def test_closed_form_equals_buffer_simulation(case) -> None:  # type: ignore[no-untyped-def]
    tiling, buffer, steps, known_steps, variant = case
    for schedule in SCHEDULES:
        program = make_program(schedule, tiling, buffer, steps=known_steps, variant=variant)
        simulated = simulate_buffer(expand(program, steps)).bytes_by_source
        assert weight_dram_bytes(program, steps) == simulated, (schedule, program.schedule)


def test_golden_lstm_2048_25_steps() -> None:
    # M = 4 * 2048 * 2048 * 2 bytes = 32 MiB; a 480 KiB buffer holds 15 tiles of 32 KiB
    tiling = Tiling(2048, 2048, 64, 4, 0, 2)
    m = 4 * 2048 * 2048 * 2
    buffer = 480 * 1024
    conventional = weight_dram_bytes(make_program("conventional", tiling, buffer), 25)
    tsi = weight_dram_bytes(make_program("tsi", tiling, buffer), 25)
    naive = weight_dram_bytes(make_program("naive", tiling, buffer), 25)
    assert conventional == {"h": 25 * m, "x": m, "p": 0}
    assert tsi == {"h": 13 * m, "x": m, "p": 0}  # ceil(25/2) lower + (25//2 + 1) upper sweeps
    assert naive == {"h": 25 * m, "x": 25 * m, "p": 0}


@pytest.mark.parametrize(("steps", "expected"), [(1, 64 + 192), (2, 64 + 2 * 192), (3, 2 * 64 + 2 * 192), (4, 2 * 64 + 3 * 192)])
def test_golden_tsi_short_sequences(steps: int, expected: int) -> None:
    # 2 x 2 tiles of 4 units at one byte: the lower tile (1,0) is 64 bytes, the three upper 192;
    # sweep k serves lower tiles for steps 2k, 2k+1 (k >= 0) and upper ones for 2k+1, 2k+2 (k >= -1)
    program = make_program("tsi", Tiling(8, 8, 4, 4, 0, 1), 64)
    assert weight_dram_bytes(program, steps)["h"] == expected
