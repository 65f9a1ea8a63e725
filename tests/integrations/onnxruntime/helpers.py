"""Shared by the ONNX Runtime integration tests: run a model in both sessions and compare."""

from __future__ import annotations

import numpy as np
import pytest

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxruntime_extensions")

from tsilstm.onnx import InferenceSession  # noqa: E402

TOLERANCE = 1e-4


def run_both(model_or_path, feeds: dict[str, np.ndarray], **session_args):  # type: ignore[no-untyped-def]
    """(onnxruntime outputs, tsilstm outputs, the tsilstm session) for ``feeds``."""
    source = model_or_path if isinstance(model_or_path, (str, bytes)) else model_or_path.SerializeToString()
    expected = onnxruntime.InferenceSession(source, providers=["CPUExecutionProvider"]).run(None, feeds)
    session = InferenceSession(source, **session_args)
    return expected, session.run(None, feeds), session


def assert_outputs_match(expected, got) -> None:  # type: ignore[no-untyped-def]
    """Every output has the same shape and is within ``TOLERANCE``."""
    assert len(expected) == len(got)
    for index, (a, b) in enumerate(zip(expected, got)):
        assert np.shape(a) == np.shape(b), f"output {index}: {np.shape(a)} vs {np.shape(b)}"
        if np.size(a):
            assert float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) <= TOLERANCE, f"output {index}"
