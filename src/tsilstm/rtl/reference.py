"""The bit-exact numpy reference of what the generated accelerator computes (fixed_point.py's
arithmetic), and its error against the float LSTM/GRU."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsilstm.cell_spec import cell_spec
from tsilstm.cells.reference import reference_direction
from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights, RecurrentLayer
from tsilstm.rtl.fixed_point import (
    FixedFormats,
    acc_to_act,
    dequantize,
    mul_act,
    pwl,
    pwl_table,
    quantize,
    round_shift,
    saturate,
    wrap,
)

ACC_GATES = 4
"""Accumulator rows per hidden unit: LSTM i, f, g, o; GRU r, z, the input part of n and the
recurrent part of n (kept apart because r multiplies only the latter)."""


@dataclass(frozen=True)
class QuantizedLayer:
    """One layer direction in the accelerator's formats: ``w_ih`` (G*H, X) and ``w_hh`` (G*H, H)
    weights in torch's gate order, ``bias`` (ACC_GATES, H) in the accumulator format."""

    cell: str
    w_ih: np.ndarray
    w_hh: np.ndarray
    bias: np.ndarray

    @property
    def hidden(self) -> int:
        """Hidden units H."""
        return self.w_hh.shape[1]

    @property
    def input_size(self) -> int:
        """Input features X."""
        return self.w_ih.shape[1]


def quantize_layer(fmt: FixedFormats, cell: str, weights: DirectionWeights) -> QuantizedLayer:
    """``weights`` (floats, torch layout) in the accelerator's formats (rounded, saturated). LSTM
    biases are b_ih + b_hh per gate; GRU keeps b_in and b_hn apart."""
    hidden = weights.w_hh.shape[1]
    if weights.w_hr is not None or weights.peepholes is not None:
        raise InvalidParameterError("weights", "projection or peepholes", "the generated accelerator runs plain LSTM/GRU cells")
    b_ih = np.asarray(weights.b_ih, dtype=np.float64).reshape(-1, hidden)
    b_hh = np.asarray(weights.b_hh, dtype=np.float64).reshape(-1, hidden)
    if not cell_spec(cell).recurrent_part_apart:
        bias = b_ih + b_hh
    else:
        bias = np.stack([b_ih[0] + b_hh[0], b_ih[1] + b_hh[1], b_ih[2], b_hh[2]])
    return QuantizedLayer(
        cell,
        quantize(weights.w_ih, fmt.weight_frac, fmt.weight_bits),
        quantize(weights.w_hh, fmt.weight_frac, fmt.weight_bits),
        quantize(bias, fmt.acc_frac, fmt.accumulator_bits),
    )


def _product_sums(fmt: FixedFormats, w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(B, rows): sum over columns of the rounded products w[r, c] * a[b, c], wrapped."""
    products = round_shift(w[None, :, :] * a[:, None, :], fmt.product_shift)
    return wrap(products.sum(axis=-1), fmt.accumulator_bits)


def reference_run(fmt: FixedFormats, layer: QuantizedLayer, x_q: np.ndarray) -> np.ndarray:
    """The h sequence (T, B, H) in the activation format that the accelerator computes for
    activation-format inputs ``x_q`` (T, B, X), from h_0 = c_0 = 0."""
    steps, batch, _ = x_q.shape
    hidden = layer.hidden
    sig, tanh = pwl_table(fmt, "sigmoid"), pwl_table(fmt, "tanh")
    acc_bits, act_bits = fmt.accumulator_bits, fmt.activation_bits
    h = np.zeros((batch, hidden), dtype=np.int64)
    c = np.zeros((batch, hidden), dtype=np.int64)
    out = np.empty((steps, batch, hidden), dtype=np.int64)
    for t in range(steps):
        px = _product_sums(fmt, layer.w_ih, x_q[t]).reshape(batch, -1, hidden)
        ph = _product_sums(fmt, layer.w_hh, h).reshape(batch, -1, hidden)
        if cell_spec(layer.cell).has_cell_state:
            pre = [acc_to_act(fmt, wrap(px[:, g] + ph[:, g] + layer.bias[g], acc_bits)) for g in range(4)]
            i, f, o = (pwl(fmt, sig, pre[g]) for g in (0, 1, 3))
            g_ = pwl(fmt, tanh, pre[2])
            c = saturate(mul_act(fmt, f, c) + mul_act(fmt, i, g_), act_bits)
            h = saturate(mul_act(fmt, o, pwl(fmt, tanh, c)), act_bits)
        else:
            r = pwl(fmt, sig, acc_to_act(fmt, wrap(px[:, 0] + ph[:, 0] + layer.bias[0], acc_bits)))
            z = pwl(fmt, sig, acc_to_act(fmt, wrap(px[:, 1] + ph[:, 1] + layer.bias[1], acc_bits)))
            hn = wrap(ph[:, 2] + layer.bias[3], acc_bits)
            n_pre = wrap(px[:, 2] + layer.bias[2] + round_shift(r * hn, fmt.act_frac), acc_bits)
            n = pwl(fmt, tanh, acc_to_act(fmt, n_pre))
            h = saturate(n + mul_act(fmt, z, h - n), act_bits)
        out[t] = h
    return out


def float_reference(cell: str, weights: DirectionWeights, x: np.ndarray) -> np.ndarray:
    """The float64 LSTM/GRU h sequence (T, B, H) of ``weights`` over ``x`` from zero state."""
    hidden = weights.w_hh.shape[1]
    layer = RecurrentLayer(cell, x.shape[2], hidden, (weights,))
    batch = x.shape[1]
    c0 = np.zeros((batch, hidden)) if layer.spec.has_cell_state else None
    y, _, _ = reference_direction(layer, weights.astype(np.float64), np.asarray(x, dtype=np.float64), np.zeros((batch, hidden)), c0)
    return y


def fixed_point_error(fmt: FixedFormats, cell: str, weights: DirectionWeights, x: np.ndarray) -> float:
    """Largest absolute difference between the fixed-point reference and the float LSTM/GRU."""
    q = quantize_layer(fmt, cell, weights)
    h_q = reference_run(fmt, q, quantize(x, fmt.act_frac, fmt.activation_bits))
    return float(np.max(np.abs(dequantize(h_q, fmt.act_frac) - float_reference(cell, weights, x))))
