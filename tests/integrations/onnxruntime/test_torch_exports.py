"""Models exported by torch.onnx.export: conv -> 2 x LSTM -> linear with dynamic batch and time
axes, and bidirectional LSTM / GRU stacks (reverse directions) equal onnxruntime's outputs."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest

from .helpers import assert_outputs_match, run_both

torch = pytest.importorskip("torch")


class ConvLstmLinear(torch.nn.Module):  # type: ignore[misc]
    """features (N, C, T) -> Conv1d -> 2 x LSTM(hidden) -> Linear, output (T, N, C)."""

    def __init__(self, channels: int = 8, hidden: int = 32, cell: str = "lstm", bidirectional: bool = False) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(channels, hidden, 3, padding=1)
        rnn = torch.nn.LSTM if cell == "lstm" else torch.nn.GRU
        self.rnn = rnn(hidden, hidden, num_layers=2, bidirectional=bidirectional)
        self.head = torch.nn.Linear(hidden * (2 if bidirectional else 1), channels)

    def forward(self, features):  # type: ignore[no-untyped-def]
        sequence, _ = self.rnn(self.conv(features).permute(2, 0, 1))
        return self.head(sequence)


def exported(module, channels: int = 8) -> bytes:  # type: ignore[no-untyped-def]
    """``module`` exported to ONNX (opset 17) with dynamic batch and time axes."""
    torch.manual_seed(0)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.randn(1, channels, 6),), buffer, dynamo=False, opset_version=17,
                          input_names=["features"], output_names=["out"],
                          dynamic_axes={"features": {0: "batch", 2: "time"}, "out": {0: "time", 1: "batch"}})
    return buffer.getvalue()


@pytest.mark.parametrize("cell, bidirectional", [("lstm", False), ("lstm", True), ("gru", True)])
def test_exported_model_matches_onnxruntime_at_several_shapes(cell, bidirectional):
    torch.manual_seed(1)
    model = exported(ConvLstmLinear(cell=cell, bidirectional=bidirectional))
    rng = np.random.default_rng(0)
    for batch, steps in ((1, 9), (3, 4)):
        feeds = {"features": rng.standard_normal((batch, 8, steps)).astype(np.float32)}
        expected, got, session = run_both(model, feeds, threads=2)
        assert_outputs_match(expected, got)
        assert len(session.tsilstm_nodes) == 2 and not session.onnxruntime_nodes
    with torch.no_grad():  # and both equal torch itself
        torch.manual_seed(1)
        reference = ConvLstmLinear(cell=cell, bidirectional=bidirectional).eval()(torch.from_numpy(feeds["features"]))
    assert float(np.max(np.abs(got[0] - reference.numpy()))) <= 1e-4
