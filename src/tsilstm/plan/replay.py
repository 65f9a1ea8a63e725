"""Functional replay: execute a plan's ops with numpy, one tile product at a time."""

from __future__ import annotations

import numpy as np

from tsilstm.cells.pointwise import gate_activation, gru_pointwise, lstm_pointwise
from tsilstm.cells.stack import DirectionRunner
from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights, RecurrentLayer
from tsilstm.plan.ops import FINISH, PROJECT, RESET, USE, Plan
from tsilstm.plan.tiling import Tiling


def replay_direction(
    plan: Plan,
    layer: RecurrentLayer,
    weights: DirectionWeights,
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Run one layer direction over ``x`` (T, N, X) by executing ``plan`` op by op.

    Each use adds a tile's product to the gate partial sums of its steps; each finish applies the
    cell update of its row-block; each project applies W_hr. For an original-form GRU a reset op
    forms r_t * h_{t-1} of its row-block, which the candidate rows of ``h`` tiles then multiply.
    Returns (y (T, N, P), h_T, c_T).
    The plan's tiling must match the layer's sizes and its step count ``x``'s length.
    """
    tiling = plan.tiling
    steps, batch, _ = x.shape
    _check_match(plan, layer, steps)
    dtype = x.dtype
    w = weights.astype(dtype)
    hidden, gates = layer.hidden_size, layer.gates
    separate_h = layer.spec.recurrent_part_apart  # GRU keeps the recurrent part apart for the reset gate
    acc_x = np.broadcast_to(w.b_ih, (steps, batch, gates * hidden)).copy()
    acc_h = np.broadcast_to(w.b_hh, (steps, batch, gates * hidden)).copy() if separate_h else acc_x
    if not separate_h:
        acc_x += w.b_hh
    h_seq = np.empty((steps + 1, batch, layer.recurrent_size), dtype=dtype)  # h_seq[t + 1] = h_t
    h_seq[0] = h0
    m_seq = np.empty((steps, batch, hidden), dtype=dtype) if tiling.proj else h_seq[1:]
    c_prev = None if c0 is None else np.array(c0, dtype=dtype, copy=True)
    c_seq = np.empty((steps + 1, batch, hidden), dtype=dtype) if c0 is not None else None
    if c_seq is not None:
        c_seq[0] = c_prev
    acc_p = np.zeros((steps, batch, tiling.proj), dtype=dtype) if tiling.proj else None
    row_index = [_gate_rows(tiling, r, hidden, gates) for r in range(tiling.row_blocks)]
    if tiling.reset_before:  # r tiles: reset rows with h_{t-1}; h tiles: z rows with h_{t-1}, n rows with r*h_{t-1}
        reset_rows = [_gate_rows(tiling, r, hidden, 1) for r in range(tiling.row_blocks)]
        update_rows = [rows + hidden for rows in reset_rows]
        candidate_rows = [rows + 2 * hidden for rows in reset_rows]
        rh_seq = np.empty((steps, batch, hidden), dtype=dtype)
    for op in plan.ops:
        if op.kind == USE:
            t0, t1 = op.step, op.step + op.nsteps
            c0_, c1_ = tiling.col_bounds[op.src][op.col]
            if op.src == "x":
                rows = row_index[op.row]
                acc_x[t0:t1, :, rows] += x[t0:t1, :, c0_:c1_] @ w.w_ih[rows, c0_:c1_].T
            elif op.src == "r":
                rows = reset_rows[op.row]
                acc_h[t0:t1, :, rows] += h_seq[t0:t1, :, c0_:c1_] @ w.w_hh[rows, c0_:c1_].T
            elif op.src == "h" and tiling.reset_before:
                z_rows, n_rows = update_rows[op.row], candidate_rows[op.row]
                acc_h[t0:t1, :, z_rows] += h_seq[t0:t1, :, c0_:c1_] @ w.w_hh[z_rows, c0_:c1_].T
                acc_h[t0:t1, :, n_rows] += rh_seq[t0:t1, :, c0_:c1_] @ w.w_hh[n_rows, c0_:c1_].T
            elif op.src == "h":
                rows = row_index[op.row]
                acc_h[t0:t1, :, rows] += h_seq[t0:t1, :, c0_:c1_] @ w.w_hh[rows, c0_:c1_].T
            else:
                p0, p1 = tiling.proj_row_bounds[op.row]
                acc_p[t0:t1, :, p0:p1] += m_seq[t0:t1, :, c0_:c1_] @ w.w_hr[p0:p1, c0_:c1_].T
        elif op.kind == FINISH:
            t = op.step
            u0, u1 = tiling.row_bounds[op.row]
            parts_x = [acc_x[t, :, g * hidden + u0 : g * hidden + u1] for g in range(gates)]
            if layer.spec.has_cell_state:
                peep = None if w.peepholes is None else w.peepholes[:, u0:u1]
                m, c = lstm_pointwise(*parts_x, c_seq[t, :, u0:u1], layer, peep)
                c_seq[t + 1, :, u0:u1] = c
                m_seq[t, :, u0:u1] = m
            elif tiling.reset_before:  # acc_h's candidate rows already hold W_hn (r * h_{t-1}) + b_hn
                parts_h = [acc_h[t, :, g * hidden + u0 : g * hidden + u1] for g in range(gates)]
                z = gate_activation(layer, 0)(parts_x[1] + parts_h[1])
                n = gate_activation(layer, 1)(parts_x[2] + parts_h[2])
                h_seq[t + 1, :, u0:u1] = (1.0 - z) * n + z * h_seq[t, :, u0:u1]
            else:
                parts_h = [acc_h[t, :, g * hidden + u0 : g * hidden + u1] for g in range(gates)]
                h_seq[t + 1, :, u0:u1] = gru_pointwise(*parts_x, *parts_h, h_seq[t, :, u0:u1], layer)
        elif op.kind == RESET:
            t = op.step
            u0, u1 = tiling.row_bounds[op.row]
            r = gate_activation(layer, 0)(acc_x[t, :, u0:u1] + acc_h[t, :, u0:u1])
            rh_seq[t, :, u0:u1] = r * h_seq[t, :, u0:u1]
        elif op.kind == PROJECT:
            h_seq[op.step + 1] = acc_p[op.step]
    c_last = None if c_seq is None else c_seq[steps].copy()
    return h_seq[1:].copy(), h_seq[steps].copy(), c_last


def replay_runner(make_plan) -> DirectionRunner:  # type: ignore[no-untyped-def]
    """A direction runner for ``cells.run_model`` that replays ``make_plan(layer, steps, batch)``."""

    def run(layer, weights, x, h0, c0):  # type: ignore[no-untyped-def]
        plan = make_plan(layer, x.shape[0], x.shape[1])
        return replay_direction(plan, layer, weights, x, h0, c0)

    return run


def _gate_rows(tiling: Tiling, row: int, hidden: int, gates: int) -> np.ndarray:
    u0, u1 = tiling.row_bounds[row]
    return np.concatenate([np.arange(g * hidden + u0, g * hidden + u1) for g in range(gates)])


def _check_match(plan: Plan, layer: RecurrentLayer, steps: int) -> None:
    tiling = plan.tiling
    expected = (layer.hidden_size, layer.input_size, layer.gates, layer.proj_size)
    got = (tiling.hidden, tiling.input, tiling.gates, tiling.proj)
    if expected != got:
        raise InvalidParameterError(
            "plan", f"hidden, input, gates, proj = {got}", f"must match the layer's {expected}"
        )
    if tiling.reset_before != (layer.variant == "reset_before"):
        raise InvalidParameterError(
            "plan", f"reset_before={tiling.reset_before}", f"must match the layer's GRU variant {layer.variant!r}"
        )
    if plan.steps != steps:
        raise InvalidParameterError("plan.steps", plan.steps, f"must equal the sequence length {steps}")
