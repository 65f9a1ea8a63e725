"""The original-form GRU (reset applied before the recurrent product) in the native kernel equals
the float64 reference within 1e-5 over 200 steps, for every runtime schedule (tsi falls back to
snake), thread counts, tiles that do not divide the hidden size, batches and bidirectional stacks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.model import random_model
from tsilstm.runtime.schedule_choice import RUNTIME_SCHEDULES

TOLERANCE = 1e-5


def _errors(model, x, h0, **kwargs):  # type: ignore[no-untyped-def]
    module = tsilstm.GRU.from_model(model, **kwargs)
    out, h_n = module(x.astype(np.float32), h0.astype(np.float32))
    want, want_h, _ = run_reference(model, x, h0)
    return module, max(float(np.max(np.abs(out - want))), float(np.max(np.abs(h_n - want_h))))


@pytest.mark.parametrize("schedule", RUNTIME_SCHEDULES)
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_every_schedule_equals_the_reference_over_200_steps(rng, schedule, threads) -> None:  # type: ignore[no-untyped-def]
    model = random_model("gru", 24, 100, 2, bidirectional=True, variant="reset_before", seed=5)
    x = rng.standard_normal((200, 3, 24))
    h0 = rng.standard_normal((4, 3, 100))
    module, error = _errors(model, x, h0, schedule=schedule, threads=threads, tile=32)
    assert error <= TOLERANCE
    for run in module.layer_runs:
        assert run.program.schedule in ("conventional", "snake", "pinned")
        if schedule in ("tsi", "tsi-pinned"):
            assert run.program.fell_back and run.program.notes


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hidden=st.integers(1, 70),
    input_size=st.integers(1, 20),
    tile=st.integers(1, 70),
    batch=st.integers(1, 9),
    steps=st.integers(1, 30),
    threads=st.integers(1, 4),
    schedule=st.sampled_from(["conventional", "snake", "pinned", "tsi"]),
    seed=st.integers(0, 1000),
)
def test_random_shapes_equal_the_reference(hidden, input_size, tile, batch, steps, threads, schedule, seed) -> None:  # type: ignore[no-untyped-def]
    model = random_model("gru", input_size, hidden, variant="reset_before", seed=seed)
    data = np.random.default_rng(seed)
    x = data.standard_normal((steps, batch, input_size))
    h0 = data.standard_normal((1, batch, hidden))
    _, error = _errors(model, x, h0, schedule=schedule, threads=threads, tile=min(tile, hidden))
    assert error <= TOLERANCE


def test_bfloat16_weights_equal_the_reference_with_rounded_weights(rng) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from tsilstm.runtime.packing import from_bfloat16_bits, to_bfloat16_bits

    model = random_model("gru", 16, 96, variant="reset_before", seed=2)
    layer = model.layers[0]
    from tsilstm.runtime.execution import available_isas

    def rnd(a):  # type: ignore[no-untyped-def]
        return from_bfloat16_bits(to_bfloat16_bits(a)).reshape(a.shape).astype(np.float64)

    direction = layer.directions[0]
    on_amx = available_isas()[-1] == "amx"  # there W_ih is bfloat16 too (tile dot products)
    rounded = replace(direction, w_hh=rnd(direction.w_hh), w_ih=rnd(direction.w_ih) if on_amx else direction.w_ih)
    reference_model = replace(model, layers=(replace(layer, directions=(rounded,)),))
    x = rng.standard_normal((50, 2, 16))
    h0 = np.zeros((1, 2, 96))
    module = tsilstm.GRU.from_model(model, weight_dtype="bfloat16", schedule="snake", threads=2, tile=32)
    out, _ = module(x.astype(np.float32), h0.astype(np.float32))
    want, _, _ = run_reference(reference_model, x, h0)
    assert float(np.max(np.abs(out - want))) <= TOLERANCE


@pytest.mark.keep_thread_policy
def test_every_isa_gives_the_same_answer(rng) -> None:  # type: ignore[no-untyped-def]
    from tsilstm.runtime.execution import available_isas

    model = random_model("gru", 12, 80, variant="reset_before", seed=9)
    x = rng.standard_normal((40, 2, 12))
    h0 = rng.standard_normal((1, 2, 80))
    for isa in available_isas():
        _, error = _errors(model, x, h0, isa=isa, schedule="conventional", tile=16)
        assert error <= TOLERANCE, isa
