"""Inputs holding +-inf under int8 weights, given float32's meaning.

In float32 (torch, ONNX Runtime) an infinite input feature x_k makes a gate row's pre-activation
+-inf (w_rk != 0), which its sigmoid or tanh turns into a finite 0, 1 or -1, or NaN when the row
also meets 0 * inf (w_rk == 0) or +inf + -inf (two infinite terms of opposite signs). The int8 path
quantizes x per block with a scale taken from the block's largest magnitude, which an infinity
makes NaN for every row. So for int8 weights an infinite feature is replaced by +-SUBSTITUTE (a
finite value large enough to saturate every activation it reaches), and where float32 would have
made a gate NaN, NaN is put back: at that step in the units whose gates went NaN (every output of
a projection), and from the next step on in every unit of that sequence, as the recurrence spreads
it (0 * NaN is NaN). Only a layer's own input can hold infinities: h and a projection's output are
bounded.
"""

from __future__ import annotations

import numpy as np

from tsilstm.model import DirectionWeights, RecurrentLayer

SUBSTITUTE = np.float32(1e30)
"""Stands in for +-inf: times any weight the int8 path represents it saturates sigmoid and tanh, and
it stays finite through the quantization scale (1e30 / 127) and every product."""


def has_infinity(x: np.ndarray) -> bool:
    """True when ``x`` holds +inf or -inf."""
    return bool(np.isinf(x).any())


def finite_stand_in(x: np.ndarray) -> np.ndarray:
    """``x`` (float32) with every +-inf replaced by +-SUBSTITUTE (NaN stays NaN)."""
    return np.where(np.isinf(x), np.copysign(SUBSTITUTE, x), x).astype(np.float32)


def nan_units(layer: RecurrentLayer, weights: DirectionWeights, features: np.ndarray) -> np.ndarray:
    """The hidden units (bool, (H,)) whose gates float32 makes NaN for one input vector ``features``
    holding infinities (a unit is NaN when any of its gate rows is)."""
    infinite = np.flatnonzero(np.isinf(features))
    w = np.asarray(weights.w_ih, dtype=np.float32)[:, infinite]
    signs = np.sign(w) * np.sign(features[infinite])
    rows = (w == 0).any(axis=1) | ((signs > 0).any(axis=1) & (signs < 0).any(axis=1))
    return rows.reshape(-1, layer.hidden_size).any(axis=0)


def restore_nan(layer: RecurrentLayer, weights: DirectionWeights, x: np.ndarray, y: np.ndarray, h_last: np.ndarray,
                c_last: np.ndarray | None, lengths: np.ndarray | None) -> None:
    """Put float32's NaN back into one direction's results (``y`` (T, N, P), final ``h_last`` (N, P)
    and ``c_last`` (N, H), changed in place) run on ``finite_stand_in(x)``; ``x`` is the original
    input in the direction's own time order."""
    steps, batch = x.shape[0], x.shape[1]
    infinite_steps = np.isinf(x).any(axis=2)
    for n in range(batch):
        limit = steps if lengths is None else int(lengths[n])
        for t in np.flatnonzero(infinite_steps[:limit, n]):
            units = nan_units(layer, weights, x[t, n])
            if not units.any():
                continue
            outputs = slice(None) if layer.proj_size else units
            y[t, n, outputs] = np.nan
            y[t + 1:limit, n] = np.nan
            last = t == limit - 1
            h_last[n, outputs if last else slice(None)] = np.nan
            if c_last is not None:
                c_last[n, units if last else slice(None)] = np.nan
            break  # from here on the whole sequence is NaN
