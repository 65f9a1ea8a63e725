"""Export the whole-model benchmark of `tsilstm bench --onnx`: features (N, 80, T) -> Conv1d(80, H, 3)
-> 2 x LSTM(H) -> Linear(H, 80), exported by torch.onnx.export (opset 17) with dynamic batch and time.

usage: python benchmarks/export_conv_lstm_onnx.py [--hidden 1024] [-o conv_lstm_1024.onnx]
       tsilstm bench --onnx conv_lstm_1024.onnx --threads 2 --batch 1 --steps 100
"""

from __future__ import annotations

import argparse
import warnings

import torch

FEATURES = 80


class ConvLstmLinear(torch.nn.Module):
    """features (N, 80, T) -> Conv1d -> 2 x LSTM(hidden) -> Linear; output (T, N, 80)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.conv = torch.nn.Conv1d(FEATURES, hidden, 3, padding=1)
        self.lstm = torch.nn.LSTM(hidden, hidden, num_layers=2)
        self.head = torch.nn.Linear(hidden, FEATURES)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        sequence, _ = self.lstm(self.conv(features).permute(2, 0, 1))
        return self.head(sequence)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("-o", "--output", default=None)
    args = parser.parse_args()
    output = args.output or f"conv_lstm_{args.hidden}.onnx"
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(ConvLstmLinear(args.hidden).eval(), (torch.randn(1, FEATURES, 10),), output, dynamo=False,
                          opset_version=17, input_names=["features"], output_names=["out"],
                          dynamic_axes={"features": {0: "batch", 2: "time"}, "out": {0: "time", 1: "batch"}})
    print(output)


if __name__ == "__main__":
    main()
