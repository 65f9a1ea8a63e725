"""Pareto fronts: the points no other point beats in every objective (all objectives minimised)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def pareto_mask(values: np.ndarray) -> np.ndarray:
    """For an (n, k) array of objectives to minimise, a boolean mask of the non-dominated rows: a row
    is dominated when another is <= in every objective and < in one. Equal rows are all kept."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array (points x objectives), got shape {values.shape}")
    keep = np.ones(len(values), dtype=bool)
    for index, row in enumerate(values):
        no_worse = np.all(values <= row, axis=1)
        better = np.any(values < row, axis=1)
        if np.any(no_worse & better):
            keep[index] = False
    return keep


def pareto_front(rows: Sequence[dict[str, Any]], objectives: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of ``rows`` not dominated in ``objectives`` (keys, each minimised), in their order."""
    if not rows:
        return []
    mask = pareto_mask(np.array([[row[key] for key in objectives] for row in rows], dtype=float))
    return [row for row, kept in zip(rows, mask) if kept]
