"""Reordering of gate blocks from each framework's order to the canonical PyTorch order.

Canonical: LSTM ``i, f, g, o``; GRU ``r, z, n``. ONNX stores LSTM gates as ``i, o, f, c`` and GRU
gates as ``z, r, h``; Keras stores LSTM gates as ``i, f, c, o`` (already canonical) and GRU gates
as ``z, r, h``.
"""

from __future__ import annotations

import numpy as np

ONNX_LSTM_TO_CANONICAL = (0, 2, 3, 1)
"""Canonical gate k is ONNX LSTM gate ONNX_LSTM_TO_CANONICAL[k]: i<-i, f<-f, g<-c, o<-o (ONNX spec, LSTM)."""
ONNX_GRU_TO_CANONICAL = (1, 0, 2)
"""Canonical gate k is ONNX GRU gate ONNX_GRU_TO_CANONICAL[k]: r<-r, z<-z, n<-h (ONNX spec, GRU)."""
ONNX_PEEPHOLES_TO_CANONICAL = (0, 2, 1)
"""Canonical peephole row k (i, f, o) is ONNX P block ONNX_PEEPHOLES_TO_CANONICAL[k]: P is stored i, o, f."""
KERAS_LSTM_TO_CANONICAL = (0, 1, 2, 3)
"""Keras LSTM kernels are i, f, c, o (keras.layers.LSTMCell): the canonical order already."""
KERAS_GRU_TO_CANONICAL = (1, 0, 2)
"""Keras GRU kernels are z, r, h (keras.layers.GRUCell)."""


def reorder_gates(array: np.ndarray, order: tuple[int, ...], axis: int = 0) -> np.ndarray:
    """Return ``array`` with its ``len(order)`` equal gate blocks along ``axis`` permuted so that
    block k of the result is block ``order[k]`` of the input."""
    blocks = np.split(np.asarray(array), len(order), axis=axis)
    return np.ascontiguousarray(np.concatenate([blocks[k] for k in order], axis=axis))
