"""The ONNX model builder against torch.nn.LSTM/GRU and the numpy reference: a real check of the
gate reordering (i,f,g,o -> i,o,f,c; r,z,n -> z,r,h), B = [Wb, Rb], linear_before_reset and the
layer chaining."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
torch = pytest.importorskip("torch")

from tsilstm.bench.baselines_onnxruntime import OnnxRuntimeRunner, build_onnx_model, reorder_gates  # noqa: E402
from tsilstm.bench.baselines_torch import TorchRunner, torch_module_from_model  # noqa: E402
from tsilstm.cells.stack import run_reference  # noqa: E402
from tsilstm.errors import UnsupportedModelError  # noqa: E402
from tsilstm.model import random_model  # noqa: E402


def _inputs(steps: int, batch: int, features: int, states: int, hidden: int, lstm: bool, seed: int = 7):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, features), dtype=np.float32)
    h0 = rng.standard_normal((states, batch, hidden), dtype=np.float32)
    c0 = rng.standard_normal((states, batch, hidden), dtype=np.float32) if lstm else None
    return x, h0, c0


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize(
    "input_size,hidden,layers,bidirectional,batch,steps",
    [(5, 3, 1, False, 1, 4), (7, 10, 2, False, 3, 6), (6, 9, 1, True, 2, 5), (4, 12, 2, True, 1, 3)],
)
def test_onnx_model_matches_torch(cell, input_size, hidden, layers, bidirectional, batch, steps):
    model = random_model(cell, input_size, hidden, layers, bidirectional=bidirectional, dtype=np.float32, seed=hidden)
    states = layers * (2 if bidirectional else 1)
    x, h0, c0 = _inputs(steps, batch, input_size, states, hidden, cell == "lstm")
    want = TorchRunner(torch_module_from_model(model), threads=1)(x, h0, c0)
    got = OnnxRuntimeRunner(model, threads=1)(x, h0, c0)
    for g, w in zip(got, want):
        if w is None:
            assert g is None
            continue
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=0)


def test_onnx_gru_reset_before_matches_the_reference():
    model = random_model("gru", 6, 8, 1, variant="reset_before", dtype=np.float32, seed=3)
    x, h0, _ = _inputs(5, 2, 6, 1, 8, lstm=False)
    want = run_reference(model, x, h0)
    got = OnnxRuntimeRunner(model, threads=1)(x, h0, None)
    np.testing.assert_allclose(got[0], want[0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(got[1], want[1], atol=1e-5, rtol=0)


def test_gate_reordering_moves_whole_blocks():
    hidden = 2
    lstm = np.repeat(np.arange(4, dtype=np.float32), hidden)  # blocks i=0, f=1, g=2, o=3
    assert reorder_gates(lstm, "lstm", hidden).tolist() == [0, 0, 3, 3, 1, 1, 2, 2]  # i, o, f, c
    gru = np.repeat(np.arange(3, dtype=np.float32), hidden)  # blocks r=0, z=1, n=2
    assert reorder_gates(gru, "gru", hidden).tolist() == [1, 1, 0, 0, 2, 2]  # z, r, h


def test_projection_is_rejected_with_a_clear_error():
    model = random_model("lstm", 4, 8, 1, proj_size=3, dtype=np.float32)
    with pytest.raises(UnsupportedModelError, match="proj_size=3"):
        build_onnx_model(model)
