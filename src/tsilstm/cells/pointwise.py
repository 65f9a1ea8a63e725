"""The element-wise cell updates of LSTM and GRU, shared by the reference and replay: PyTorch's
cells, and the options of ONNX and Keras cells (activations, clip, input_forget, peepholes) when a
layer is given."""

from __future__ import annotations

from typing import Callable

import numpy as np

from tsilstm.activations import SIGMOID
from tsilstm.model import RecurrentLayer

Gate = Callable[[np.ndarray], np.ndarray]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, computed as 0.5 * (1 + tanh(x / 2)) so it never overflows."""
    return SIGMOID(x)


def gate_activation(layer: RecurrentLayer | None, index: int) -> Gate:
    """Activation ``index`` of ``layer`` (LSTM: 0 = f for i/f/o, 1 = g, 2 = h; GRU: 0 = f for r/z,
    1 = g), applied after the layer's clip; PyTorch's when ``layer`` is None."""
    if layer is None:
        return sigmoid if index == 0 else np.tanh
    act = layer.activations[index]
    clip = layer.clip
    if clip is None:
        return act
    return lambda x: act(np.clip(x, -clip, clip))


def lstm_pointwise(
    i_pre: np.ndarray, f_pre: np.ndarray, g_pre: np.ndarray, o_pre: np.ndarray, c_prev: np.ndarray,
    layer: RecurrentLayer | None = None, peepholes: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """LSTM cell update from gate pre-activations: returns (h, c) with c = f*c_prev + i*g and
    h = o*h_act(c) (PyTorch: f = sigmoid, g = h_act = tanh). With ``layer``: its activations and
    clip (applied to every gate input, peephole terms included), input_forget (f = 1 - i) and
    ``peepholes`` (3, H): i and f add p * c_prev, o adds p * c."""
    f_act, g_act = gate_activation(layer, 0), gate_activation(layer, 1)
    h_act = np.tanh if layer is None else layer.activations[2]
    if peepholes is not None:
        i_pre = i_pre + peepholes[0] * c_prev
        f_pre = f_pre + peepholes[1] * c_prev
    i = f_act(i_pre)
    f = 1.0 - i if layer is not None and layer.input_forget else f_act(f_pre)
    c = f * c_prev + i * g_act(g_pre)
    if peepholes is not None:
        o_pre = o_pre + peepholes[2] * c
    return f_act(o_pre) * h_act(c), c


def gru_pointwise(
    x_r: np.ndarray,
    x_z: np.ndarray,
    x_n: np.ndarray,
    h_r: np.ndarray,
    h_z: np.ndarray,
    h_n: np.ndarray,
    h_prev: np.ndarray,
    layer: RecurrentLayer | None = None,
) -> np.ndarray:
    """GRU cell update, reset applied after the recurrent product (PyTorch / cuDNN form).

    ``x_*`` are the input parts (W_i* x + b_i*), ``h_*`` the recurrent parts (W_h* h + b_h*).
    Returns h = (1 - z) * n + z * h_prev with n = g(x_n + r * h_n), r, z = f(...) (PyTorch:
    f = sigmoid, g = tanh; with ``layer``, its activations and clip).
    """
    f_act, g_act = gate_activation(layer, 0), gate_activation(layer, 1)
    r = f_act(x_r + h_r)
    z = f_act(x_z + h_z)
    n = g_act(x_n + r * h_n)
    return (1.0 - z) * n + z * h_prev
