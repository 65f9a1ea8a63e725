"""Every schedule's plan passes the checker and its replay equals the reference (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsilstm.cells import run_reference
from tsilstm.model import gate_count, random_model
from tsilstm.plan import SCHEDULES, check_plan, generate_plan, make_tiling
from tsilstm.plan.verification import verify_schedule


@st.composite
def workloads(draw):
    hidden = draw(st.integers(1, 40))
    tile = draw(st.integers(1, hidden))
    cell = draw(st.sampled_from(["lstm", "gru"]))
    proj = draw(st.integers(0, hidden - 1)) if cell == "lstm" and draw(st.booleans()) else 0
    gates = gate_count(cell)
    tile_bytes = gates * tile * tile * 4
    buffer_bytes = draw(st.integers(tile_bytes, max(tile_bytes, gates * hidden * max(hidden, 1) * 4 * 2)))
    return dict(
        hidden=hidden, input_size=draw(st.integers(1, 30)), steps=draw(st.integers(1, 40)),
        batch=draw(st.integers(1, 5)), tile=tile, cell=cell, proj_size=proj, buffer_bytes=buffer_bytes,
    )


@given(workloads(), st.sampled_from(SCHEDULES))
def test_every_plan_passes_the_checker(work, schedule):
    plan = generate_plan(schedule, **work)
    stats = check_plan(plan)
    assert stats.peak_buffer_bytes <= work["buffer_bytes"]
    assert plan.steps == work["steps"]


@given(workloads())
def test_replay_of_every_schedule_equals_the_reference_fp64(work):
    model = random_model(work["cell"], work["input_size"], work["hidden"], proj_size=work["proj_size"], seed=3)
    x = np.random.default_rng(1).standard_normal((work["steps"], work["batch"], work["input_size"]))
    for schedule in SCHEDULES:
        result = verify_schedule(model, x, schedule, tile=work["tile"], buffer_bytes=work["buffer_bytes"], dtype="float64")
        assert result.max_abs_error <= 1e-12, (schedule, result)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_replay_fp32_multilayer_bidirectional(cell, schedule):
    model = random_model(cell, 13, 21, 2, bidirectional=True, proj_size=7 if cell == "lstm" else 0, seed=5)
    x = np.random.default_rng(2).standard_normal((11, 3, 13))
    result = verify_schedule(model, x, schedule, tile=5, buffer_bytes=2000, dtype="float32")
    assert result.ok and result.max_abs_error <= 1e-5, result


def test_replay_with_initial_states():
    model = random_model("lstm", 6, 9, 1, seed=8)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((7, 2, 6))
    h0 = rng.standard_normal((1, 2, 9))
    c0 = rng.standard_normal((1, 2, 9))
    for schedule in SCHEDULES:
        result = verify_schedule(model, x, schedule, tile=4, buffer_bytes=800, dtype="float64", h0=h0, c0=c0)
        assert result.max_abs_error <= 1e-12


def test_replay_differs_when_a_plan_is_wrong():
    """The comparison can fail: a plan whose finish comes before its uses gives a wrong answer."""
    from dataclasses import replace

    from tsilstm.plan.ops import FINISH
    from tsilstm.plan.replay import replay_direction

    model = random_model("lstm", 5, 8, seed=1)
    layer = model.layers[0]
    x = np.random.default_rng(0).standard_normal((4, 1, 5))
    plan = generate_plan("conventional", 8, 5, steps=4, tile=4, dtype="float64")
    ops = list(plan.ops)
    at = next(i for i, op in enumerate(ops) if op.kind == FINISH and op.step == 1)
    ops.insert(at - 1, ops.pop(at))  # step 1's finish before the last W_h tile of its row
    broken = replace(plan, ops=tuple(ops))
    y, _, _ = replay_direction(broken, layer, layer.directions[0], x, np.zeros((1, 8)), np.zeros((1, 8)))
    want = run_reference(model, x)[0]
    assert np.max(np.abs(y - want)) > 1e-6


@pytest.mark.parametrize("steps", [1, 2, 3])
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_short_sequences_load_only_what_they_use(schedule, steps):
    plan = generate_plan(schedule, 20, 20, steps=steps, tile=5, buffer_bytes=4 * 5 * 5 * 4 * 3)
    stats = check_plan(plan)
    used = {(op.src, op.row, op.col) for op in plan.ops if op.kind == "use"}
    loaded = [(op.src, op.row, op.col) for op in plan.ops if op.kind == "load"]
    assert set(loaded) <= used
    if steps == 1:  # one step: every tile loaded exactly once
        assert len(loaded) == len(set(loaded))
        m = make_tiling(20, 20, tile=5)
        assert stats.weight_bytes_loaded == m.matrix_bytes("h") + m.matrix_bytes("x")
