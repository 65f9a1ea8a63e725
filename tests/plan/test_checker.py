"""The checker rejects plans that break the dependency rule, coverage or the buffer limit."""

from dataclasses import replace

import pytest

from tsilstm.errors import PlanError
from tsilstm.plan import check_plan, generate_plan
from tsilstm.plan.ops import EVICT, FINISH, LOAD, USE, Op


def tsi_plan():
    return generate_plan("tsi", 12, steps=5, tile=4, buffer_bytes=4 * 4 * 4 * 4)


def with_ops(plan, ops):
    return replace(plan, ops=tuple(ops))


def test_accepts_generated_plan():
    assert check_plan(tsi_plan()).uses > 0


def test_rejects_use_before_dependency_is_finished():
    plan = tsi_plan()
    ops = list(plan.ops)
    # move the first step-1 use of an upper tile (needs h_0 of a later row-block) to the very front
    index = next(i for i, op in enumerate(ops) if op.kind == USE and op.src == "h" and op.step == 1 and op.col > op.row)
    ops = [Op(LOAD, "h", ops[index].row, ops[index].col), ops[index], Op(EVICT, "h", ops[index].row, ops[index].col)] + ops[:index] + ops[index + 1 :]
    with pytest.raises(PlanError, match=r"op \d+ \(use h\(\d,\d\) .*not finished yet"):
        check_plan(with_ops(plan, ops))


def test_rejects_missing_use():
    plan = tsi_plan()
    ops = list(plan.ops)
    index = next(i for i, op in enumerate(ops) if op.kind == USE and op.src == "h")
    del ops[index]
    with pytest.raises(PlanError, match="tiles of the row applied"):
        check_plan(with_ops(plan, ops))


def test_rejects_double_use():
    plan = tsi_plan()
    ops = list(plan.ops)
    index = next(i for i, op in enumerate(ops) if op.kind == USE and op.src == "h")
    ops.insert(index + 1, ops[index])
    with pytest.raises(PlanError, match="already applied"):
        check_plan(with_ops(plan, ops))


def test_rejects_missing_finish():
    plan = tsi_plan()
    ops = [op for op in plan.ops if not (op.kind == FINISH and op.step == plan.steps - 1 and op.row == 0)]
    with pytest.raises(PlanError, match="never finished"):
        check_plan(with_ops(plan, ops))


def test_rejects_use_of_tile_not_in_buffer():
    plan = tsi_plan()
    ops = [op for op in plan.ops if op.kind != LOAD or op.src != "h" or op.row != 1]
    with pytest.raises(PlanError, match="not in the buffer"):
        check_plan(with_ops(plan, ops))


def test_rejects_buffer_overflow():
    plan = tsi_plan()
    ops = [op for op in plan.ops if op.kind != EVICT]
    with pytest.raises(PlanError, match="buffer overflow"):
        check_plan(with_ops(plan, ops))


def test_rejects_steps_out_of_range():
    plan = tsi_plan()
    ops = list(plan.ops)
    index = next(i for i, op in enumerate(ops) if op.kind == USE and op.src == "h")
    ops[index] = ops[index]._replace(nsteps=plan.steps + 3)
    with pytest.raises(PlanError, match="outside"):
        check_plan(with_ops(plan, ops))


def test_projection_dependency_is_checked():
    plan = generate_plan("conventional", 10, steps=3, tile=5, proj_size=4, buffer_bytes=10**6)
    ops = list(plan.ops)
    # drop the projection of step 0: step 1's uses then read h_0 that was never projected
    ops = [op for op in ops if not (op.kind == "project" and op.step == 0)]
    with pytest.raises(PlanError, match="projection of step 0"):
        check_plan(with_ops(plan, ops))
