"""Accuracy of tsilstm's low-precision weights on the trained fixture models (docs/design.md 6.1).

Each ONNX fixture runs whole, in the drop-in session ``tsilstm.onnx.InferenceSession(path,
weight_dtype=...)`` and in onnxruntime with its own dynamic int8 quantization of the LSTM/GRU nodes,
on the same random unit-scale inputs; the table gives each one's max abs error against onnxruntime
float32 over all outputs, beside the largest output magnitude. Run: ``python -m tsilstm.fixtures fetch && python benchmarks/low_precision_accuracy.py``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime
from onnxruntime import quantization

import tsilstm.onnx
from tsilstm.fixtures.catalog import fixture_path
from tsilstm.integrations.onnxruntime.model_bench import auto_feeds

FIXTURES = ("nsnet2", "ddddocr", "silero-vad")
STEPS = 200


def _session(path: str) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def _error(got: list[np.ndarray], want: list[np.ndarray]) -> float:
    return max(float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max()) for a, b in zip(got, want))


def main() -> int:
    print("| model | largest output | onnxruntime dynamic int8 | tsilstm float32 | tsilstm bfloat16 | tsilstm int8 |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name in FIXTURES:
        path = fixture_path(name)
        if path is None:
            print(f"{name}: not fetched (python -m tsilstm.fixtures fetch)", file=sys.stderr)
            continue
        with tempfile.TemporaryDirectory() as folder:
            quantized = str(Path(folder) / "int8.onnx")
            quantization.quantize_dynamic(str(path), quantized, op_types_to_quantize=["LSTM", "GRU"],
                                          weight_type=quantization.QuantType.QInt8)
            reference = _session(str(path))
            feeds = auto_feeds(reference.get_inputs(), batch=1, steps=STEPS, seed=3)
            want = reference.run(None, feeds)
            peer = _error(_session(quantized).run(None, feeds), want)
        ours = [_error(tsilstm.onnx.InferenceSession(str(path), weight_dtype=d).run(None, feeds), want)
                for d in ("float32", "bfloat16", "int8")]
        peer_text = f"{peer:.2g}" if peer > 0 else "no int8 kernel (runs float32)"
        largest = max(float(np.abs(np.asarray(w, np.float64)).max()) for w in want)
        print(f"| {name} | {largest:.3g} | {peer_text} | " + " | ".join(f"{e:.2g}" for e in ours) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
