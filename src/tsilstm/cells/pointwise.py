"""The element-wise cell updates of LSTM and GRU (PyTorch semantics), shared by the reference and replay."""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, computed as 0.5 * (1 + tanh(x / 2)) so it never overflows."""
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def lstm_pointwise(
    i_pre: np.ndarray, f_pre: np.ndarray, g_pre: np.ndarray, o_pre: np.ndarray, c_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """LSTM cell update from gate pre-activations: returns (h, c) with c = f*c_prev + i*g, h = o*tanh(c)."""
    c = sigmoid(f_pre) * c_prev + sigmoid(i_pre) * np.tanh(g_pre)
    return sigmoid(o_pre) * np.tanh(c), c


def gru_pointwise(
    x_r: np.ndarray,
    x_z: np.ndarray,
    x_n: np.ndarray,
    h_r: np.ndarray,
    h_z: np.ndarray,
    h_n: np.ndarray,
    h_prev: np.ndarray,
) -> np.ndarray:
    """GRU cell update, reset applied after the recurrent product (PyTorch / cuDNN form).

    ``x_*`` are the input parts (W_i* x + b_i*), ``h_*`` the recurrent parts (W_h* h + b_h*).
    Returns h = (1 - z) * n + z * h_prev with n = tanh(x_n + r * h_n).
    """
    r = sigmoid(x_r + h_r)
    z = sigmoid(x_z + h_z)
    n = np.tanh(x_n + r * h_n)
    return (1.0 - z) * n + z * h_prev
