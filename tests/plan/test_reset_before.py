"""The original-form GRU (reset before the recurrent product) in the plan: two-pass programs for
every schedule, checked, replayed equal to the reference; the checker enforces the reset rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.cells import run_reference
from tsilstm.cells.stack import run_model
from tsilstm.errors import InvalidParameterError, PlanError
from tsilstm.model import random_model
from tsilstm.plan import SCHEDULES, check_plan, expand, generate_plan, make_program, make_tiling
from tsilstm.plan.ops import RESET, USE, Plan
from tsilstm.plan.replay import replay_runner
from tsilstm.plan.verification import verify_schedule


@settings(max_examples=30)
@given(
    schedule=st.sampled_from(SCHEDULES),
    hidden=st.integers(2, 24),
    input_size=st.integers(1, 9),
    tile_fraction=st.floats(0.1, 1.0),
    buffer_tiles=st.integers(1, 40),
    steps=st.integers(1, 7),
    batch=st.integers(1, 3),
    bidirectional=st.booleans(),
)
def test_every_schedule_replays_the_original_gru_exactly(schedule, hidden, input_size, tile_fraction, buffer_tiles,
                                                         steps, batch, bidirectional):
    tile = max(1, int(hidden * tile_fraction))
    model = random_model("gru", input_size, hidden, 2, bidirectional=bidirectional, variant="reset_before", seed=hidden)
    x = np.random.default_rng(steps).standard_normal((steps, batch, input_size))
    buffer_bytes = buffer_tiles * 3 * tile * tile * 8
    result = verify_schedule(model, x, schedule, tile=tile, buffer_bytes=buffer_bytes, dtype="float64")
    assert result.ok, result
    assert result.executed_schedule == {"tsi": "snake", "tsi-pinned": "pinned"}.get(schedule, schedule)


def test_tsi_falls_back_with_a_note_and_traffic_is_counted_for_both_sources():
    plan = generate_plan("tsi", 64, 32, steps=6, tile=16, buffer_bytes=16 * 1024, cell="gru", variant="reset_before")
    assert plan.schedule == "snake" and plan.program.fell_back and "reset" in plan.program.notes[0]
    stats = check_plan(plan)
    assert stats.bytes_by_source["r"] > 0 and stats.bytes_by_source["h"] > 0
    tiling = plan.tiling
    assert tiling.matrix_bytes("r") + tiling.matrix_bytes("h") == 3 * 64 * 64 * 4
    conventional = check_plan(generate_plan("conventional", 64, 32, steps=6, tile=16, buffer_bytes=16 * 1024,
                                            cell="gru", variant="reset_before"))
    assert conventional.bytes_by_source["r"] + conventional.bytes_by_source["h"] == 6 * 3 * 64 * 64 * 4


def test_checker_rejects_a_candidate_use_before_the_reset_gate():
    plan = generate_plan("conventional", 12, 5, steps=3, tile=4, buffer_bytes=10**6, cell="gru", variant="reset_before")
    ops = list(plan.ops)
    first_reset = next(i for i, op in enumerate(ops) if op.kind == RESET)
    first_h_use = next(i for i, op in enumerate(ops) if op.kind == USE and op.src == "h" and op.step == 0)
    moved = ops.pop(first_h_use)
    ops.insert(first_reset, moved)
    with pytest.raises(PlanError, match="needs the reset gate of row-block"):
        check_plan(Plan(plan.program, plan.steps, plan.batch, tuple(ops)))
    without_reset = tuple(op for op in plan.ops if not (op.kind == RESET and op.row == 1 and op.step == 2))
    with pytest.raises(PlanError):
        check_plan(Plan(plan.program, plan.steps, plan.batch, without_reset))


def test_replay_refuses_a_plan_of_the_other_gru_form():
    model = random_model("gru", 5, 12, variant="reset_before")
    tiling = make_tiling(12, 5, tile=4, cell="gru")
    plan = expand(make_program("snake", tiling, 10**6), 3)  # reset_after plan
    runner = replay_runner(lambda layer, steps, batch: plan)
    with pytest.raises(InvalidParameterError, match="variant"):
        run_model(model, np.zeros((3, 1, 5)), None, None, runner)
    assert np.allclose(run_reference(model, np.zeros((3, 1, 5)))[0], run_reference(model, np.zeros((3, 1, 5)))[0])
