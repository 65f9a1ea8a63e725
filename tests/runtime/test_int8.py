"""int8 weights: symmetric per-row (per tile) quantization of W_ih, W_hh and W_hr.

With h kept in float (every ISA below avx512_vnni), the kernel equals the float64 reference run on
the dequantized weights; on avx512_vnni, where h and x are quantized per step too, it equals a
numpy emulation of that integer arithmetic. Both stay close to the float32 model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tsilstm
from tsilstm.cells import run_reference
from tsilstm.errors import InvalidParameterError
from tsilstm.model import random_model
from tsilstm.runtime.execution import available_isas
from tsilstm.runtime.kernel_abi import INT8_ROW_TRAILER_BYTES
from tsilstm.runtime.packing import quantize_rows

FLOAT_H_ISAS = ("generic", "avx2", "avx512")


def _dequantized(matrix: np.ndarray | None, tile: int) -> np.ndarray | None:
    """``matrix`` as the kernel sees it: each row of each column block of ``tile`` quantized."""
    if matrix is None:
        return None
    out = np.empty(matrix.shape, dtype=np.float64)
    for c0 in range(0, matrix.shape[1], tile):
        q, scale = quantize_rows(matrix[:, c0 : c0 + tile])
        out[:, c0 : c0 + tile] = q.astype(np.float64) * scale[:, None]
    return out


def _dequantized_model(model, tile):  # type: ignore[no-untyped-def]
    layers = tuple(
        replace(layer, directions=tuple(
            replace(d, w_ih=_dequantized(d.w_ih, tile), w_hh=_dequantized(d.w_hh, tile), w_hr=_dequantized(d.w_hr, tile))
            for d in layer.directions))
        for layer in model.layers
    )
    return replace(model, layers=layers)


def _module(model, **kwargs):  # type: ignore[no-untyped-def]
    cls = tsilstm.LSTM if model.layers[0].cell == "lstm" else tsilstm.GRU
    return cls.from_model(model, weight_dtype="int8", **kwargs)


@pytest.mark.parametrize("isa", FLOAT_H_ISAS)
@pytest.mark.parametrize("cell, proj, variant", [("lstm", 0, "standard"), ("lstm", 9, "standard"), ("gru", 0, "standard"),
                                                  ("gru", 0, "reset_before")])
@pytest.mark.parametrize("schedule", ["tsi", "conventional", "snake"])
def test_int8_with_float_h_equals_reference_on_dequantized_weights(cell, proj, variant, schedule, isa) -> None:  # type: ignore[no-untyped-def]
    if isa not in available_isas():
        pytest.skip(f"this CPU does not run {isa}")
    model = random_model(cell, 7, 70, 2, proj_size=proj, bidirectional=True, variant=variant, seed=3, dtype=np.float32)
    module = _module(model, schedule=schedule, threads=2, tile=16, isa=isa)  # hidden 70: a 6-column last tile
    x = np.random.default_rng(4).standard_normal((40, 3, 7)).astype(np.float32)
    out = module(x)[0]
    expected = run_reference(_dequantized_model(model, 16), x.astype(np.float64))[0]
    assert np.abs(out - expected).max() <= 2e-5
    exact = run_reference(model, x.astype(np.float64))[0]
    assert 0 < np.abs(out - exact).max() <= 2e-2  # the quantization of the weights, not a bug
    assert "int8" in module.plan_summary()


def _quantized(v: np.ndarray, tile: int) -> np.ndarray:
    """``v`` (a vector) as the kernel's integer path sees it: per block of ``tile``, scale
    max|v| / 127 and round(v * (127 / max|v|)), computed in float32 as the kernel does."""
    v = v.astype(np.float32)
    out = np.zeros(v.shape, dtype=np.float64)
    for c0 in range(0, v.size, tile):
        block = v[c0 : c0 + tile]
        top = np.float32(np.abs(block).max())
        if top == 0:
            continue
        q = np.clip(np.rint(block * (np.float32(127.0) / top)), -127, 127)
        out[c0 : c0 + tile] = q.astype(np.float64) * float(top / np.float32(127.0))
    return out


def _emulated_integer_lstm(model, x: np.ndarray, tile: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """One forward LSTM layer with dequantized weights whose x_t and h_{t-1} are quantized per step
    and per column block, as the avx512_vnni path computes it (float64 otherwise)."""
    d = model.layers[0].directions[0]
    w_ih, w_hh = _dequantized(d.w_ih, tile), _dequantized(d.w_hh, tile)
    hidden = w_hh.shape[1]
    ys = []
    for n in range(x.shape[1]):
        h = np.zeros(hidden, dtype=np.float32)
        c = np.zeros(hidden)
        out = []
        for t in range(x.shape[0]):
            g = w_ih @ _quantized(x[t, n], tile) + w_hh @ _quantized(h, tile) + d.b_ih + d.b_hh
            i, f, cand, o = np.split(g, 4)
            sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
            c = sig(f) * c + sig(i) * np.tanh(cand)
            h = (sig(o) * np.tanh(c)).astype(np.float32)
            out.append(h)
        ys.append(out)
    return np.asarray(ys).transpose(1, 0, 2)


@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
def test_int8_integer_path_equals_its_emulation(schedule) -> None:  # type: ignore[no-untyped-def]
    if "avx512_vnni" not in available_isas():
        pytest.skip("this CPU has no AVX512-VNNI")
    model = random_model("lstm", 21, 70, 1, seed=5, dtype=np.float32)
    module = _module(model, schedule=schedule, threads=2, tile=16, isa="avx512_vnni")
    x = np.random.default_rng(6).standard_normal((12, 2, 21)).astype(np.float32)
    out = module(x)[0]
    emulated = _emulated_integer_lstm(model, x, 16)
    # exact integer sums; what differs is float rounding, which can move a quantized h by one step
    # now and then (about 1e-3 in one gate of one step), so the bound is the mean and a loose max
    assert np.abs(out - emulated).mean() <= 2e-6 and np.abs(out - emulated).max() <= 2e-3
    exact = run_reference(model, x.astype(np.float64))[0]
    assert np.abs(out - exact).max() <= 2e-2


@pytest.mark.parametrize("cell, proj, variant", [("lstm", 0, "standard"), ("lstm", 9, "standard"), ("gru", 0, "standard"),
                                                  ("gru", 0, "reset_before")])
def test_int8_amx_equals_vnni(cell, proj, variant) -> None:  # type: ignore[no-untyped-def]
    """AMX tiles (the hoisted input product) and VNNI dot products compute the same exact int32 sums."""
    if "amx" not in available_isas():
        pytest.skip("this CPU (or its kernel) gives no AMX tiles")
    model = random_model(cell, 70, 90, 1, proj_size=proj, variant=variant, seed=8, dtype=np.float32)
    x = np.random.default_rng(9).standard_normal((33, 3, 70)).astype(np.float32)  # 99 columns: 7 AMX row chunks
    outs = [_module(model, schedule="tsi", threads=2, tile=48, isa=isa)(x)[0] for isa in ("avx512_vnni", "amx")]
    np.testing.assert_allclose(outs[0], outs[1], rtol=0, atol=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cell=st.sampled_from(["lstm", "gru"]),
    input_size=st.integers(1, 40),
    hidden=st.integers(1, 90),
    tile=st.sampled_from([16, 32, 48]),
    batch=st.integers(1, 3),
    steps=st.integers(1, 9),
    threads=st.integers(1, 3),
    schedule=st.sampled_from(["tsi", "conventional", "pinned", "tsi-pinned"]),
    isa=st.sampled_from(available_isas()),
)
def test_int8_random_shapes(cell, input_size, hidden, tile, batch, steps, threads, schedule, isa) -> None:  # type: ignore[no-untyped-def]
    model = random_model(cell, input_size, hidden, 1, seed=hidden, dtype=np.float32)
    tile = min(tile, hidden)
    module = _module(model, schedule=schedule, threads=threads, tile=tile, isa=isa)
    x = np.random.default_rng(hidden).standard_normal((steps, batch, input_size)).astype(np.float32)
    out, _ = module(x)
    tolerance = 2e-5 if isa in FLOAT_H_ISAS else 3e-2
    expected = run_reference(_dequantized_model(model, tile), x.astype(np.float64))[0]
    assert np.abs(out - expected).max() <= tolerance


@pytest.mark.parametrize("isa", available_isas())
def test_int8_nan_input_propagates_and_zero_rows_stay_zero(isa) -> None:  # type: ignore[no-untyped-def]
    model = random_model("lstm", 5, 32, 1, seed=2, dtype=np.float32)
    d = model.layers[0].directions[0]
    w_hh = d.w_hh.copy()
    w_hh[3] = 0.0  # a dead row: scale 0, stays exactly 0
    model = replace(model, layers=(replace(model.layers[0], directions=(replace(d, w_hh=w_hh),)),))
    module = _module(model, schedule="tsi", threads=2, tile=16, isa=isa)
    x = np.random.default_rng(0).standard_normal((6, 2, 5)).astype(np.float32)
    clean = module(x)[0]
    assert np.isfinite(clean).all()
    x[2, 0, 1] = np.nan
    out = module(x)[0]
    assert np.isnan(out[2:, 0]).all() and np.isfinite(out[:2]).all() and np.isfinite(out[:, 1]).all()
    np.testing.assert_array_equal(out[:, 1], clean[:, 1])


def test_quantize_rows() -> None:
    block = np.array([[1.0, -0.5, 0.25], [0.0, 0.0, 0.0], [-2.0, 1e-3, 2.0]], dtype=np.float32)
    q, scale = quantize_rows(block)
    assert q.dtype == np.int8 and scale.dtype == np.float32
    np.testing.assert_array_equal(q[0], [127, -64, 32])  # -63.5 rounds to even
    assert scale[1] == 0 and not q[1].any()
    np.testing.assert_array_equal(q[2], [-127, 0, 127])
    assert np.abs(q * scale[:, None] - block).max() <= scale.max() / 2 + 1e-7


def test_int8_needs_finite_weights() -> None:
    model = random_model("lstm", 3, 16, 1, seed=1, dtype=np.float32)
    d = model.layers[0].directions[0]
    w_hh = d.w_hh.copy()
    w_hh[0, 0] = np.inf
    with pytest.raises(InvalidParameterError, match="w_hh"):  # the model refuses them before any packing
        replace(model, layers=(replace(model.layers[0], directions=(replace(d, w_hh=w_hh),)),))
    with pytest.raises(InvalidParameterError, match="weights"):
        quantize_rows(w_hh)


def test_int8_packs_about_a_quarter_of_float32() -> None:
    model = random_model("lstm", 64, 256, 1, seed=1, dtype=np.float32)
    int8 = _module(model, schedule="tsi", threads=1, tile=64).schedule_info[0]["packed_bytes"]
    f32 = tsilstm.LSTM.from_model(model, schedule="tsi", threads=1, tile=64).schedule_info[0]["packed_bytes"]
    # each row of each 64-unit tile adds its scale and offset (INT8_ROW_TRAILER_BYTES) to 64 bytes of weights
    assert f32 / 4 < int8 <= f32 / 4 * (1 + INT8_ROW_TRAILER_BYTES / 64) * 1.01
