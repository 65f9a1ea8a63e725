"""Tiling and plan-generation parameter checks."""

import pytest

from tsilstm.errors import InvalidParameterError, TsilstmError, UnsupportedModelError
from tsilstm.plan import generate_plan, make_program, make_tiling
from tsilstm.plan.tiling import Tile, block_bounds


def test_block_bounds_cover_uneven_sizes():
    assert block_bounds(10, 4) == ((0, 4), (4, 8), (8, 10))


def test_tile_bytes_of_edge_tile():
    tiling = make_tiling(10, 7, tile=4)
    assert tiling.tile_bytes(Tile("h", 2, 2)) == 4 * 2 * 2 * 4
    assert tiling.tile_bytes(Tile("x", 0, 1)) == 4 * 4 * 3 * 4
    assert tiling.matrix_bytes("h") == 4 * 10 * 10 * 4


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(hidden=0), "hidden"),
        (dict(hidden=-3), "hidden"),
        (dict(hidden=2.5), "hidden"),
        (dict(hidden=8, tile=9), "tile"),
        (dict(hidden=8, tile=0), "tile"),
        (dict(hidden=8, steps=0), "steps"),
        (dict(hidden=8, batch=-1), "batch"),
        (dict(hidden=8, buffer_bytes=10), "buffer_bytes"),
        (dict(hidden=8, schedule="fast"), "schedule"),
        (dict(hidden=8, cell="rnn"), "cell"),
        (dict(hidden=8, dtype="int4"), "dtype"),
        (dict(hidden=8, proj_size=8), "proj_size"),
        (dict(hidden=8, cell="gru", proj_size=2), "proj_size"),
    ],
)
def test_bad_parameters_name_themselves(kwargs, name):
    kwargs = dict(kwargs)
    schedule = kwargs.pop("schedule", "tsi")
    with pytest.raises(InvalidParameterError) as info:
        generate_plan(schedule, **kwargs)
    assert info.value.name == name
    assert isinstance(info.value, ValueError)
    assert name in str(info.value)


def test_projection_falls_back_from_tsi_with_a_note():
    program = make_program("tsi", make_tiling(16, tile=4, proj_size=8), 10**6)
    assert program.schedule == "snake" and program.fell_back
    assert "projection" in program.notes[0]


def test_original_gru_form_falls_back_from_tsi_clearly():
    # the original GRU form runs two-pass programs (tests/plan/test_reset_before.py); tsi falls back
    program = make_program("tsi", make_tiling(16, cell="gru", tile=4), 10**6, variant="reset_before")
    assert program.schedule == "snake" and program.fell_back and "reset" in program.notes[0]
    assert issubclass(UnsupportedModelError, TsilstmError)
