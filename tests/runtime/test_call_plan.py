"""A repeated call of one shape runs its plan (runtime.call_plan): the same results as the general
path, bit for bit, and the general path whenever the plan does not apply."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tsilstm
from tsilstm.errors import InvalidParameterError
from tsilstm.runtime import call_plan


def _general(module, x, *state):  # type: ignore[no-untyped-def]
    """The module's result by the general path: the same values in a Fortran-ordered copy, which
    no plan takes."""
    return module(np.asfortranarray(x), *state)


def _flat(result):  # type: ignore[no-untyped-def]
    out, state = result
    states = state if isinstance(state, tuple) else (state,)
    return [out, *states]


def _assert_same(a, b) -> None:  # type: ignore[no-untyped-def]
    for left, right in zip(_flat(a), _flat(b)):
        assert left.dtype == right.dtype == np.float32 and left.shape == right.shape
        assert np.array_equal(left, right, equal_nan=True)


@settings(deadline=None)
@given(cell=st.sampled_from(["lstm", "gru"]), layers=st.integers(1, 3), hidden=st.integers(1, 40),
       features=st.integers(1, 20), batch=st.integers(1, 9), steps=st.integers(1, 6),
       proj=st.integers(0, 3), dtype=st.sampled_from(["float32", "bfloat16", "int8"]),
       schedule=st.sampled_from(["tsi", "conventional", "auto"]), threads=st.integers(1, 3),
       with_state=st.booleans(), seed=st.integers(0, 2**16))
def test_plan_equals_general_path(cell, layers, hidden, features, batch, steps, proj, dtype, schedule, threads,
                                  with_state, seed) -> None:  # type: ignore[no-untyped-def]
    proj = proj if cell == "lstm" and proj < hidden else 0
    extra = {"proj_size": proj} if cell == "lstm" else {}
    cls = tsilstm.LSTM if cell == "lstm" else tsilstm.GRU
    module = cls(features, hidden, num_layers=layers, schedule=schedule, threads=threads, weight_dtype=dtype,
                 seed=seed, tuning="off", **extra)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, features)).astype(np.float32)
    state = ()
    if with_state:
        h0 = rng.standard_normal((layers, batch, proj or hidden)).astype(np.float32)
        state = ((h0, rng.standard_normal((layers, batch, hidden)).astype(np.float32)),) if cell == "lstm" else (h0,)
    first = module(x, *state)
    assert module.plan_for(x.shape) is not None
    planned = module(x, *state)
    _assert_same(planned, first)
    _assert_same(planned, _general(module, x, *state))


def test_plan_is_used_and_leaves_its_arguments_alone(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    module = tsilstm.LSTM(5, 12, num_layers=2, schedule="tsi", threads=2, seed=1)
    x = np.random.default_rng(2).standard_normal((1, 3, 5)).astype(np.float32)
    h0, c0 = np.ones((2, 3, 12), np.float32), np.full((2, 3, 12), 0.5, np.float32)
    module(x, (h0, c0))
    runs = []
    plan = module.plan_for(x.shape)
    monkeypatch.setattr(call_plan.CallPlan, "run", lambda self, *a: runs.append(self) or _real_run(self, *a))
    out, (h_n, c_n) = module(x, (h0, c0))
    assert runs == [plan]
    assert np.all(h0 == 1) and np.all(c0 == 0.5)  # the states given are not written
    assert not np.shares_memory(c_n, c0) and not np.shares_memory(h_n, h0)
    out2, _ = module(x, (h_n, c_n))  # the plan's own outputs as the next call's states
    assert len(runs) == 2 and out2.shape == out.shape


_real_run = call_plan.CallPlan.run


@pytest.mark.parametrize("kwargs", [{"bidirectional": True}, {"batch_first": True}])
def test_no_plan_where_it_does_not_apply(kwargs) -> None:  # type: ignore[no-untyped-def]
    module = tsilstm.GRU(4, 8, schedule="tsi", seed=3, **kwargs)
    x = np.zeros((2, 3, 4), np.float32)
    module(x)
    assert module.plan_for(x.shape) is None


def test_no_plan_for_calls_with_lengths() -> None:
    module = tsilstm.GRU(4, 8, schedule="tsi", seed=3)
    x = np.zeros((3, 2, 4), np.float32)
    module(x, lengths=[3, 1])
    assert module.plan_for((3, 2, 4)) is None


def test_other_dtypes_and_layouts_do_not_run_a_plan() -> None:
    module = tsilstm.GRU(4, 8, num_layers=2, schedule="tsi", seed=3)
    x = np.random.default_rng(1).standard_normal((3, 2, 4)).astype(np.float32)
    expected = module(x)
    assert module.plan_for(x.shape) is not None
    for other in (x.astype(np.float64), x.astype(np.float16).astype(np.float32), np.asfortranarray(x),
                  np.random.default_rng(1).standard_normal((3, 2, 8)).astype(np.float32)[:, :, ::2]):
        _assert_same(module(other), _general(module, other))
    _assert_same(module(x.astype(np.float64)), expected)


def test_wrong_states_still_get_our_error_with_a_plan() -> None:
    module = tsilstm.LSTM(4, 8, num_layers=2, schedule="tsi", seed=3)
    x = np.zeros((1, 2, 4), np.float32)
    module(x)
    assert module.plan_for(x.shape) is not None
    with pytest.raises(InvalidParameterError, match="h0|h_0"):
        module(x, (np.zeros((2, 3, 8), np.float32), np.zeros((2, 2, 8), np.float32)))


def test_int8_input_with_infinity_takes_the_general_path() -> None:
    module = tsilstm.LSTM(4, 8, schedule="tsi", weight_dtype="int8", seed=3)
    x = np.zeros((1, 2, 4), np.float32)
    module(x)
    assert module.plan_for(x.shape) is not None
    x[0, 1, 2] = np.inf
    _assert_same(module(x), _general(module, x))


def test_plan_is_dropped_when_a_decision_changes() -> None:
    module = tsilstm.GRU(6, 16, schedule="auto", threads=2, seed=4, tuning="on")
    x = np.random.default_rng(5).standard_normal((1, 1, 6)).astype(np.float32)
    module(x)
    before = module.plan_for(x.shape)
    assert before is not None
    module.tune(1, steps=1, repeats=1)  # a new decision: the plan's generation is stale
    after_tune = module(x)
    again = module.plan_for(x.shape)
    assert again is not None and again is not before
    _assert_same(after_tune, _general(module, x))


def test_schedule_info_follows_planned_calls() -> None:
    module = tsilstm.GRU(6, 16, schedule="tsi", threads=1, seed=4)
    one, two = np.zeros((1, 1, 6), np.float32), np.zeros((1, 2, 6), np.float32)
    module(one)
    module(two)
    module(one)  # planned
    assert module.schedule_info[0]["batch"] == 1
    module(two)  # planned
    assert module.schedule_info[0]["batch"] == 2


def test_plans_are_bounded() -> None:
    module = tsilstm.GRU(3, 4, schedule="tsi", seed=4)
    for batch in range(1, call_plan.MAX_PLANS + 3):
        module(np.zeros((1, batch, 3), np.float32))
    assert len(module._plans) <= call_plan.MAX_PLANS
