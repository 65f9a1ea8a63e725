"""Streaming calls: a model fed one time step per call with its state carried, as a speech
enhancer or VAD runs on live audio. Any runner of the benchmark (``(x, h0, c0) -> (y, h_n, c_n)``)
becomes a streaming one that makes T calls of one step for a sequence of T steps."""

from __future__ import annotations

from typing import Callable

import numpy as np

Runner = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], tuple]


def streamed(runner: Runner) -> Runner:
    """``runner`` called once per time step of ``x`` (T, N, X), the returned h_n (and c_n) fed to
    the next call; returns the outputs of all steps stacked, and the last state."""

    def run(x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> tuple:
        h, c = h0, c0
        outputs = []
        for t in range(x.shape[0]):
            y, h, c = runner(x[t : t + 1], h, c)
            outputs.append(y)
        return np.concatenate(outputs, axis=0), h, c

    return run
