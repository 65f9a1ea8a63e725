"""Bad input gives a clear TsilstmError from the Python layer before any native code runs."""

from __future__ import annotations

import numpy as np
import pytest

import tsilstm
from tsilstm.errors import InvalidParameterError, TsilstmError, UnsupportedModelError
from tsilstm.model import random_model


@pytest.fixture(scope="module")
def lstm() -> tsilstm.LSTM:
    return tsilstm.LSTM(4, 32, num_layers=2, schedule="tsi", threads=2, tile=16, seed=0)


@pytest.fixture(scope="module")
def gru() -> tsilstm.GRU:
    return tsilstm.GRU(4, 32, schedule="tsi", threads=2, tile=16, seed=0)


def _x(*shape: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize(
    "x, match",
    [
        (_x(5), "input"),
        (_x(5, 2, 4, 1), "input"),
        (_x(5, 2, 3), "input_size=4"),
        (_x(0, 2, 4), "sequence length"),
        (_x(5, 0, 4), "batch"),
        (np.ones((5, 2, 4), dtype=np.int64), "floating-point"),
        (np.ones((5, 2, 4), dtype=bool), "floating-point"),
        ("abc", "floating-point"),
    ],
)
def test_bad_input_array(lstm, x, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError, match=match):
        lstm(x)


def test_mismatched_states(lstm, gru) -> None:  # type: ignore[no-untyped-def]
    x = _x(5, 3, 4)
    with pytest.raises(InvalidParameterError, match="h0"):
        lstm(x, (np.zeros((2, 2, 32), np.float32), np.zeros((2, 3, 32), np.float32)))
    with pytest.raises(InvalidParameterError, match="c0"):
        lstm(x, (np.zeros((2, 3, 32), np.float32), np.zeros((1, 3, 32), np.float32)))
    with pytest.raises(InvalidParameterError, match="hx"):
        lstm(x, np.zeros((2, 3, 32), np.float32))
    with pytest.raises(InvalidParameterError, match="hx"):
        gru(x, (np.zeros((1, 3, 32), np.float32),))
    with pytest.raises(InvalidParameterError, match="h0"):
        gru(x, np.zeros((1, 3, 31), np.float32))
    with pytest.raises(InvalidParameterError, match="h_0"):
        gru(x, np.zeros((1, 3, 32), np.int32))


def test_non_contiguous_and_float64_inputs_are_converted(lstm) -> None:  # type: ignore[no-untyped-def]
    x = _x(6, 3, 8)[:, :, ::2]  # a strided view
    assert not x.flags.c_contiguous
    out, _ = lstm(x)
    expected, _ = lstm(np.ascontiguousarray(x))
    assert np.array_equal(out, expected)
    out64, _ = lstm(x.astype(np.float64))
    assert np.array_equal(out64, expected)
    transposed = np.ascontiguousarray(_x(3, 6, 4)).transpose(1, 0, 2)
    assert np.array_equal(lstm(transposed)[0], lstm(np.ascontiguousarray(transposed))[0])


def test_nan_propagates_like_torch(lstm) -> None:  # type: ignore[no-untyped-def]
    x = _x(6, 2, 4)
    x[2, 0, 1] = np.nan
    out, (h, c) = lstm(x)
    assert np.all(np.isfinite(out[:2])) and np.all(np.isfinite(out[:, 1]))  # other sequence untouched
    assert np.all(np.isnan(out[2:, 0]))
    assert np.all(np.isnan(h[:, 0])) and np.all(np.isfinite(h[:, 1]))
    x[3, 1, 0] = np.inf
    out, _ = lstm(x)  # never crashes
    assert out.shape == (6, 2, 32)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(schedule="fast"), "schedule"),
        (dict(schedule="naive"), "schedule"),
        (dict(threads=0), "threads"),
        (dict(threads=2.5), "threads"),
        (dict(tile=0), "tile"),
        (dict(tile=33), "tile"),
        (dict(proj_size=32), "proj_size"),
        (dict(num_layers=0), "num_layers"),
        (dict(bias="yes"), "bias"),
        (dict(batch_first=1), "batch_first"),
        (dict(seed=-1), "seed"),
        (dict(isa="sse9"), "isa"),
    ],
)
def test_bad_constructor_arguments(kwargs, name) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError) as error:
        tsilstm.LSTM(4, 32, **kwargs)
    assert error.value.name == name


def test_wrong_model_kind() -> None:
    with pytest.raises(InvalidParameterError, match="LSTM"):
        tsilstm.LSTM.from_model(random_model("gru", 4, 16, dtype=np.float32))
    with pytest.raises(TsilstmError):
        tsilstm.GRU.from_model("not a model")  # type: ignore[arg-type]


def test_from_torch_rejects_other_modules(torch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsupportedModelError, match="torch.nn.LSTM or torch.nn.GRU"):
        tsilstm.from_torch(torch.nn.RNN(4, 8))


def test_native_layer_rejects_inconsistent_buffers() -> None:
    """The kernel's own checks (a second line behind the Python layer) raise instead of reading
    out of bounds."""
    from tsilstm.runtime.execution import kernel_module

    module = tsilstm.LSTM(4, 32, schedule="tsi", threads=1, tile=16, seed=0)
    _, packed = next(iter(module._packed.values()))
    prog = packed.program
    args = dict(cell=0, hidden=32, recurrent=32, proj=0, batch=1, steps=4, tile=16, threads=1, period=prog.period,
                k_first=-1, k_last=2, ops=packed.ops, op_start=packed.op_start, weights=packed.weights,
                input=4, x=np.zeros((4, 1, 4), np.float32), wx=packed.wx, xoff=packed.xoff, bias_x=packed.bias_x,
                bias_h=packed.bias_h, h0=np.zeros((1, 32), np.float32),
                y=np.zeros((4, 1, 32), np.float32), c=np.zeros((1, 32), np.float32))
    kernel = kernel_module()
    kernel.run_direction(**args)
    with pytest.raises(ValueError, match="x"):
        kernel.run_direction(**{**args, "x": np.zeros((3, 1, 4), np.float32)})
    with pytest.raises(ValueError, match="xoff"):
        kernel.run_direction(**{**args, "xoff": packed.xoff + packed.wx.size})
    with pytest.raises(ValueError, match="y"):
        kernel.run_direction(**{**args, "y": np.zeros((3, 1, 32), np.float32)})
    bad_ops = packed.ops.copy()
    first_use = int(np.flatnonzero(bad_ops[:, 0] == 0)[0])
    bad_ops[first_use, 5] = packed.weights.size  # weight offset past the end
    with pytest.raises(ValueError, match="out of range"):
        kernel.run_direction(**{**args, "ops": bad_ops})
    with pytest.raises(ValueError, match="threads"):
        kernel.run_direction(**{**args, "threads": 0})


def test_positional_arguments_are_torchs() -> None:
    import torch

    lstm = tsilstm.LSTM(4, 8, 1, True, False, 0.0)  # torch's (input, hidden, layers, bias, batch_first, dropout)
    reference = torch.nn.LSTM(4, 8, 1, True, False, 0.0)
    assert (lstm.num_layers, lstm.batch_first, lstm.dropout) == (reference.num_layers, reference.batch_first, 0.0)
    both = tsilstm.LSTM(4, 8, 2, True, True, 0.5, True, 3)
    assert (both.bidirectional, both.proj_size, both.dropout, both.batch_first) == (True, 3, 0.5, True)
    gru = tsilstm.GRU(4, 8, 2, False, False, 0.25, True)
    assert gru.bidirectional and gru.dropout == 0.25
    with pytest.raises(TypeError):
        tsilstm.LSTM(4, 8, 1, True, False, 0.0, False, 0, "tsi")  # kernel options are keyword-only
    for bad in (-0.1, 1.5, "0.2", True):
        with pytest.raises(InvalidParameterError) as error:
            tsilstm.GRU(4, 8, dropout=bad)
        assert error.value.name == "dropout"
