"""Plain step-by-step LSTM and GRU over one direction of one layer: the reference."""

from __future__ import annotations

import numpy as np

from tsilstm.cells.pointwise import gate_activation, gru_pointwise, lstm_pointwise
from tsilstm.model import DirectionWeights, RecurrentLayer


def reference_direction(
    layer: RecurrentLayer,
    weights: DirectionWeights,
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run one direction forward in time over ``x`` of shape (T, N, X).

    ``h0`` is (N, P) (P = proj_size or hidden), ``c0`` is (N, H) for LSTM and None for GRU.
    Returns (y of shape (T, N, P), h_T, c_T or None). Computes in the dtype of ``x``.
    """
    steps = x.shape[0]
    hidden = layer.hidden_size
    dtype = x.dtype
    w = weights.astype(dtype)
    h = np.array(h0, dtype=dtype, copy=True)
    c = None if c0 is None else np.array(c0, dtype=dtype, copy=True)
    ys = np.empty((steps, x.shape[1], layer.output_size), dtype=dtype)
    gx_all = x @ w.w_ih.T + w.b_ih  # hoisted input projection, (T, N, G*H)
    for t in range(steps):
        gx = gx_all[t]
        gh = h @ w.w_hh.T + w.b_hh
        if layer.spec.has_cell_state:
            g = gx + gh
            m, c = lstm_pointwise(*(g[:, k * hidden : (k + 1) * hidden] for k in range(layer.gates)), c, layer, w.peepholes)
            h = m @ w.w_hr.T if w.w_hr is not None else m
        elif layer.variant == "reset_after":
            parts = [gx[:, k * hidden : (k + 1) * hidden] for k in range(layer.gates)]
            parts += [gh[:, k * hidden : (k + 1) * hidden] for k in range(layer.gates)]
            h = gru_pointwise(*parts, h, layer)
        else:  # original GRU: reset applied to h before the candidate's recurrent product
            f_act, g_act = gate_activation(layer, 0), gate_activation(layer, 1)
            r = f_act(gx[:, :hidden] + gh[:, :hidden])
            z = f_act(gx[:, hidden : 2 * hidden] + gh[:, hidden : 2 * hidden])
            hn = (r * h) @ w.w_hh[2 * hidden :].T + w.b_hh[2 * hidden :]
            n = g_act(gx[:, 2 * hidden :] + hn)
            h = (1.0 - z) * n + z * h
        ys[t] = h
    return ys, h, c
