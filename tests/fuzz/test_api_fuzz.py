"""Fuzz of the public API (tsilstm.LSTM, tsilstm.GRU, LSTM.from_model / GRU.from_model,
tsilstm.from_torch): every generated case equals the reference or raises TsilstmError; never
another exception, a crash, a hang (hang_guard) or a NaN the reference does not produce.

Quick profile (CI): ``pytest tests/fuzz`` (hypothesis profile "default", 40 cases per test).
Long profile: ``pytest tests/fuzz --hypothesis-profile=long`` (2000 cases per test, 3 tests).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.errors import TsilstmError
from tsilstm.model import random_model

from tests.fuzz.api_cases import (
    CallCase,
    ModelCase,
    assert_matches,
    call_cases,
    hang_guard,
    make_input,
    make_states,
    model_cases,
    thread_policy,
)


def build_module(case: ModelCase, constructor: str, batch_first: bool):  # type: ignore[no-untyped-def]
    """The module of ``case`` built with the public constructor (random weights from the seed) or
    ``from_model`` on a float32 random model."""
    cls = tsilstm.LSTM if case.cell == "lstm" else tsilstm.GRU
    options = dict(batch_first=batch_first, schedule=case.schedule, threads=case.threads, tile=case.tile)
    if constructor == "from_model":
        model = random_model(case.cell, case.input_size, case.hidden, case.layers, proj_size=case.proj,
                             bidirectional=case.bidirectional, seed=case.seed, dtype=np.float32)
        return cls.from_model(model, **options)
    extra = dict(proj_size=case.proj) if case.cell == "lstm" else {}
    return cls(case.input_size, case.hidden, case.layers, bias=bool(case.seed % 2), bidirectional=case.bidirectional,
               seed=case.seed, **extra, **options)


def reference_outputs(module, case: ModelCase, call: CallCase, x64: np.ndarray, h0, c0):  # type: ignore[no-untyped-def]
    """(output, h_n, c_n) of the float64 reference on the module's own weights, laid out like the call's."""
    h = None if h0 is None else np.asarray(h0, dtype=np.float64)
    c = None if c0 is None else np.asarray(c0, dtype=np.float64)
    if call.layout == "unbatched" and h is not None:
        h = h[:, None]
        c = None if c is None else c[:, None]
    out, h_n, c_n = run_reference(module.model, x64, h, c)
    if call.layout == "unbatched":
        return out[:, 0], h_n[:, 0], None if c_n is None else c_n[:, 0]
    if call.layout == "batch_first":
        out = out.transpose(1, 0, 2)
    return out, h_n, c_n


def call_module(module, cell: str, x, h0, c0):  # type: ignore[no-untyped-def]
    """(output, h_n, c_n) of one call (c_n None for a GRU)."""
    if cell == "lstm":
        out, (h_n, c_n) = module(x, None if h0 is None else (h0, c0))
        return out, h_n, c_n
    out, h_n = module(x, h0)
    return out, h_n, None


@given(model=model_cases(), call=call_cases(), constructor=st.sampled_from(["class", "from_model"]))
def test_call_equals_reference_or_raises_clear_error(model: ModelCase, call: CallCase, constructor: str) -> None:
    with hang_guard(), thread_policy(model.exact_threads):
        if not model.valid:
            with pytest.raises(TsilstmError):
                build_module(model, constructor, call.layout == "batch_first")
            return
        module = build_module(model, constructor, call.layout == "batch_first")
        x, x64 = make_input(model, call)
        h0, c0 = make_states(model, call)
        if not call.valid():
            with pytest.raises(TsilstmError):
                call_module(module, model.cell, x, h0, c0)
            return
        out, h_n, c_n = call_module(module, model.cell, x, h0, c0)
    expected_out, expected_h, expected_c = reference_outputs(module, model, call, x64, h0, c0)
    assert isinstance(out, np.ndarray)
    assert_matches(out, expected_out, "output")
    assert_matches(h_n, expected_h, "h_n")
    if model.cell == "lstm":
        assert_matches(c_n, expected_c, "c_n")
    # the caller's arrays are never written
    assert np.array_equal(x, make_input(model, call)[0], equal_nan=True)


@given(
    model=model_cases().filter(lambda m: m.valid).map(lambda m: ModelCase(**{**m.__dict__, "bidirectional": False})),
    chunks=st.lists(st.integers(1, 13), min_size=1, max_size=6),
    batch=st.integers(1, 9),
)
def test_chunked_streaming_equals_reference(model: ModelCase, chunks: list[int], batch: int) -> None:
    """Feeding a sequence in chunks with the returned state equals the reference over the whole."""
    with hang_guard(), thread_policy(model.exact_threads):
        module = build_module(model, "from_model", False)
        x = np.random.default_rng(model.seed).standard_normal((sum(chunks), batch, model.input_size)).astype(np.float32)
        parts, state, start = [], None, 0
        for length in chunks:
            out, state = module(x[start : start + length], state)
            parts.append(out)
            start += length
    expected, h_ref, c_ref = run_reference(module.model, x.astype(np.float64))
    assert_matches(np.concatenate(parts), expected, "streamed output")
    if model.cell == "lstm":
        assert_matches(state[0], h_ref, "h_n")
        assert_matches(state[1], c_ref, "c_n")
    else:
        assert_matches(state, h_ref, "h_n")


@given(
    model=model_cases().filter(lambda m: m.valid and m.hidden <= 160),
    steps=st.integers(1, 40),
    batch=st.integers(1, 9),
    batch_first=st.booleans(),
    as_tensor=st.booleans(),
    bias=st.booleans(),
)
def test_from_torch_equals_torch_in_float64(model: ModelCase, steps: int, batch: int, batch_first: bool,
                                            as_tensor: bool, bias: bool) -> None:
    """tsilstm.from_torch(nn.LSTM / nn.GRU) equals the same torch module run in float64."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(model.seed)
    extra = dict(proj_size=model.proj) if model.cell == "lstm" else {}
    cls = torch.nn.LSTM if model.cell == "lstm" else torch.nn.GRU
    original = cls(model.input_size, model.hidden, model.layers, bias=bias, batch_first=batch_first,
                   bidirectional=model.bidirectional, **extra)
    shape = (batch, steps, model.input_size) if batch_first else (steps, batch, model.input_size)
    x = np.random.default_rng(model.seed).standard_normal(shape).astype(np.float32)
    with hang_guard(), thread_policy(model.exact_threads):
        module = tsilstm.from_torch(original, schedule=model.schedule, threads=model.threads, tile=model.tile)
        out, state = module(torch.from_numpy(x) if as_tensor else x)
    with torch.no_grad():
        expected, expected_state = original.double()(torch.from_numpy(x.astype(np.float64)))
    assert isinstance(out, torch.Tensor) == as_tensor
    assert_matches(np.asarray(out), expected.numpy(), "output")
    h_n = state[0] if model.cell == "lstm" else state
    h_ref = expected_state[0] if model.cell == "lstm" else expected_state
    assert_matches(np.asarray(h_n), h_ref.numpy(), "h_n")
