"""Accuracy of low-precision weights on trained models, through the paths users take: the drop-in
ONNX session (``tsilstm.onnx.InferenceSession(..., weight_dtype=...)``) on the fixture files,
against onnxruntime in float32 on the whole file, and (int8) no worse than onnxruntime's own
dynamic int8 quantization of the same LSTM on the same input."""

from __future__ import annotations

import numpy as np
import pytest

from tsilstm.fixtures.catalog import fixture_path

onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxruntime_extensions")
quantization = pytest.importorskip("onnxruntime.quantization")

LSTM_FIXTURES = ("ddddocr", "silero-vad")
"""Trained ONNX models whose LSTMs onnxruntime's dynamic quantization turns into DynamicQuantizeLSTM."""


def _path(name: str):  # type: ignore[no-untyped-def]
    path = fixture_path(name)
    if path is None:
        pytest.skip(f"fixture {name} not fetched (python -m tsilstm.fixtures fetch)")
    return str(path)


def _session(path: str):  # type: ignore[no-untyped-def]
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def _max_error(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)).max()) for x, y in zip(a, b))


@pytest.mark.parametrize("name", LSTM_FIXTURES)
def test_int8_error_is_no_larger_than_onnxruntime_dynamic_int8(name, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import tsilstm.onnx
    from tsilstm.integrations.onnxruntime.model_bench import auto_feeds

    path = _path(name)
    quantized = tmp_path / "int8.onnx"
    quantization.quantize_dynamic(path, str(quantized), op_types_to_quantize=["LSTM"],
                                  weight_type=quantization.QuantType.QInt8)
    float_session = _session(path)
    feeds = auto_feeds(float_session.get_inputs(), batch=1, steps=100, seed=3)
    want = float_session.run(None, feeds)
    peer = _max_error(_session(str(quantized)).run(None, feeds), want)
    ours = tsilstm.onnx.InferenceSession(path, weight_dtype="int8", schedule="tsi")  # (auto may run ORT's float)
    got = ours.run(None, feeds)
    error = _max_error(got, want)
    assert 0 < error <= peer, (error, peer)
    bf16 = _max_error(tsilstm.onnx.InferenceSession(path, weight_dtype="bfloat16", schedule="tsi").run(None, feeds), want)
    assert 0 < bf16 < error
