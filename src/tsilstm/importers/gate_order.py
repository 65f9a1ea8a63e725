"""Reordering of gate blocks from each framework's order to the canonical PyTorch order.

Canonical: LSTM ``i, f, g, o``; GRU ``r, z, n``. Each framework's gate order is a fact of the cell
(``CellSpec.onnx_to_canonical``, ``keras_to_canonical`` in ``tsilstm.cell_spec``); the ONNX LSTM's
peepholes, stored ``i, o, f``, are reordered here.
"""

from __future__ import annotations

import numpy as np

ONNX_PEEPHOLES_TO_CANONICAL = (0, 2, 1)
"""Canonical peephole row k (i, f, o) is ONNX P block ONNX_PEEPHOLES_TO_CANONICAL[k]: P is stored i, o, f."""


def reorder_gates(array: np.ndarray, order: tuple[int, ...], axis: int = 0) -> np.ndarray:
    """Return ``array`` with its ``len(order)`` equal gate blocks along ``axis`` permuted so that
    block k of the result is block ``order[k]`` of the input."""
    blocks = np.split(np.asarray(array), len(order), axis=axis)
    return np.ascontiguousarray(np.concatenate([blocks[k] for k in order], axis=axis))
