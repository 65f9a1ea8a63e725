"""Helpers of the torch integration tests: a torch module and its tsilstm twin with the same
weights, and the max abs difference of two results."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from tsilstm.integrations.torch import GRU, LSTM  # noqa: E402

TOLERANCE = 1e-5
"""Max abs difference allowed between tsilstm and torch in float32 (unit-scale data)."""


def twin(cell: str, *args: Any, schedule: str = "tsi", threads: int | None = 1, grad_mode: str = "recompute",
         weight_dtype: str | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
    """(torch.nn.LSTM/GRU, tsilstm.nn.LSTM/GRU) with the same configuration (``kwargs``: torch's) and
    weights; the tsilstm module runs ``schedule`` on ``threads`` with ``grad_mode`` and ``weight_dtype``."""
    reference = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(*args, **kwargs)
    fast = (LSTM if cell == "lstm" else GRU)(*args, schedule=schedule, threads=threads, grad_mode=grad_mode,
                                             weight_dtype=weight_dtype, **kwargs)
    fast.load_state_dict(reference.state_dict())
    return reference, fast


def max_error(a: Any, b: Any) -> float:
    """Max abs difference over matching (nested) tensors, PackedSequences or tuples."""
    if isinstance(a, torch.nn.utils.rnn.PackedSequence):
        assert torch.equal(a.batch_sizes, b.batch_sizes)
        return max_error(a.data, b.data)
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        return max(max_error(x, y) for x, y in zip(a, b))
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    return float((a.double() - b.double()).abs().max())
