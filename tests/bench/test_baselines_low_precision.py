"""The low-precision peers: torch dynamic int8, ONNX Runtime dynamic int8 (and the check that its
optimized graph really runs DynamicQuantizeLSTM), OpenVINO (when installed), and the package
lookup that names the extra to install."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tsilstm.bench.baseline_catalog import BASELINES, missing_package, parse_against
from tsilstm.bench.baselines_openvino import inference_precision
from tsilstm.bench.shapes import BenchShape, make_inputs, make_model
from tsilstm.errors import InternalError, InvalidParameterError, MissingPackageError


def _case(cell: str, hidden: int = 24):
    shape = BenchShape(cell, hidden, 16, 2, 5)
    return make_model(shape, seed=3), make_inputs(shape, seed=3)


def _float_reference(model, inputs):
    from tsilstm.bench.baselines_torch import TorchRunner, torch_module_from_model

    return TorchRunner(torch_module_from_model(model), threads=1)(*inputs)


def _error(got, want) -> float:
    return max(float(np.abs(g - w).max()) for g, w in zip(got, want) if w is not None)


def test_against_names_every_baseline_and_refuses_others():
    assert parse_against(",".join(BASELINES)) == BASELINES
    with pytest.raises(InvalidParameterError, match="--against.*torch-int8, onnxruntime, onnxruntime-int8, openvino"):
        parse_against("torch,onnxruntime-int4")


def test_a_missing_package_names_its_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)
    error = missing_package("openvino")
    assert isinstance(error, MissingPackageError) and error.extra == "openvino" and "openvino baseline" in str(error)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert missing_package("onnxruntime-int8").extra == "onnx"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_torch_int8_is_quantized_and_close_to_float(cell):
    torch = pytest.importorskip("torch")
    from tsilstm.bench.baselines_torch import TorchRunner, quantized_torch_module, torch_module_from_model

    model, inputs = _case(cell)
    module = torch_module_from_model(model)
    quantized = quantized_torch_module(module)
    assert not isinstance(quantized, (torch.nn.LSTM, torch.nn.GRU))  # swapped for torch.ao's dynamic module
    assert isinstance(module, (torch.nn.LSTM, torch.nn.GRU))  # the float module is left as it was
    error = _error(TorchRunner(quantized, threads=1)(*inputs), _float_reference(model, inputs))
    assert 1e-5 < error < 0.1  # int8: rounded, but the same model


def test_ort_int8_lstm_runs_dynamic_quantize_lstm():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    from tsilstm.bench.baselines_onnxruntime_int8 import OnnxRuntimeInt8Runner

    model, inputs = _case("lstm")
    runner = OnnxRuntimeInt8Runner(model, threads=1)
    assert "DynamicQuantizeLSTM" in runner.op_types and "LSTM" not in runner.op_types
    assert runner.note is None and runner.precision == "int8 dynamic"
    assert 1e-5 < _error(runner(*inputs), _float_reference(model, inputs)) < 0.1


def test_the_int8_check_fails_loudly_on_a_float_lstm_graph():
    pytest.importorskip("onnx")
    from tsilstm.bench.baselines_onnxruntime import build_onnx_model
    from tsilstm.bench.baselines_onnxruntime_int8 import graph_op_types, int8_recurrence_note

    model, _ = _case("lstm")
    float_ops = graph_op_types(build_onnx_model(model))
    assert "LSTM" in float_ops
    with pytest.raises(InternalError, match="DynamicQuantizeLSTM"):
        int8_recurrence_note(float_ops, "lstm")
    with pytest.raises(InternalError, match="DynamicQuantizeLSTM"):  # one layer left in float is also caught
        int8_recurrence_note(["DynamicQuantizeLSTM", "LSTM"], "lstm")
    assert int8_recurrence_note(["Slice", "DynamicQuantizeLSTM", "Concat"], "lstm") is None


def test_ort_int8_gru_says_it_runs_in_float32():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("torch")
    from tsilstm.bench.baselines_onnxruntime_int8 import OnnxRuntimeInt8Runner

    model, inputs = _case("gru")
    runner = OnnxRuntimeInt8Runner(model, threads=1)
    assert "GRU" in runner.op_types and "no int8 GRU" in runner.note and runner.precision.startswith("float32")
    assert _error(runner(*inputs), _float_reference(model, inputs)) < 1e-5


def test_openvino_precision_follows_the_cpu_capabilities():
    assert inference_precision(["BF16", "FP32", "INT8"]) == "bf16"
    assert inference_precision(("FP32", "FP16", "INT8")) == "f32"


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_openvino_matches_torch_at_its_precision(cell):
    pytest.importorskip("openvino")
    pytest.importorskip("torch")
    from tsilstm.bench.baselines_openvino import OpenVinoRunner

    model, inputs = _case(cell)
    runner = OpenVinoRunner(model, threads=1)
    want = _float_reference(model, inputs)
    assert _error(runner(*inputs), want) < (2e-2 if runner.precision == "bf16" else 1e-5)
    x, h0, c0 = inputs  # a second input shape compiles a second model; the first stays usable
    step = runner(x[:1], h0, c0)
    assert step[0].shape == (1, *x.shape[1:2], model.layers[0].hidden_size)
    assert _error(runner(*inputs), want) < (2e-2 if runner.precision == "bf16" else 1e-5)
