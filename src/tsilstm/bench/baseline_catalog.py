"""The baselines ``tsilstm bench --against`` knows: their names, the optional packages (and the
tsilstm extras installing them) each one needs, and how each is built on a model's weights.

- ``torch``: ``torch.nn.LSTM``/``GRU`` in float32 (also the error reference);
- ``torch-int8``: that module after ``torch.ao.quantization.quantize_dynamic`` (qint8);
- ``onnxruntime``: the model's ONNX graph in ONNX Runtime, float32;
- ``onnxruntime-int8``: that graph after ``onnxruntime.quantization.quantize_dynamic``, checked to
  run ``DynamicQuantizeLSTM`` (GRU: no int8 kernel; runs in float32 with a note);
- ``openvino``: that graph compiled by OpenVINO, bf16 inference precision where the CPU has it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from tsilstm.bench.baseline_precision import INT8_DYNAMIC
from tsilstm.errors import InvalidParameterError, MissingPackageError
from tsilstm.model import RecurrentModel

FLOAT32_BASELINES = ("torch", "onnxruntime")
"""The float32 peers; speedups "vs the faster baseline" are against the faster of these."""
INT8_BASELINES = ("torch-int8", "onnxruntime-int8")
"""The dynamically quantized int8 peers."""
BASELINES = ("torch", "torch-int8", "onnxruntime", "onnxruntime-int8", "openvino")
"""Every baseline, in report order."""
DEFAULT_BASELINES = FLOAT32_BASELINES
"""What ``--against`` runs when not given."""
BASELINE_PACKAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "torch": (("torch", "torch"),),
    "torch-int8": (("torch", "torch"),),
    "onnxruntime": (("onnx", "onnx"), ("onnxruntime", "onnx")),
    "onnxruntime-int8": (("onnx", "onnx"), ("onnxruntime", "onnx")),
    "openvino": (("onnx", "onnx"), ("openvino", "openvino")),
}
"""(module, tsilstm extra installing it) of each package a baseline needs."""


def parse_against(text: str) -> tuple[str, ...]:
    """The baselines named in a comma-separated list (``torch,onnxruntime-int8``; empty: none);
    raises naming ``--against`` and the known baselines for an unknown name."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    for name in names:
        if name not in BASELINES:
            raise InvalidParameterError("--against", name, "a comma-separated list of " + ", ".join(BASELINES))
    return tuple(dict.fromkeys(names))


def missing_package(baseline: str) -> MissingPackageError | None:
    """The error saying which package (and tsilstm extra) ``baseline`` lacks, or None when every
    package it needs is installed (found without importing it)."""
    for module, extra in BASELINE_PACKAGES[baseline]:
        if importlib.util.find_spec(module) is None:
            return MissingPackageError(module, extra, f"run the {baseline} baseline")
    return None


def build_baseline(name: str, model: RecurrentModel, threads: int, torch_module: Any = None) -> Any:
    """The runner of baseline ``name`` on ``model``'s weights with ``threads`` threads; the torch
    baselines take the float ``torch_module`` already built for the error reference (``torch-int8``
    quantizes a copy of it). Raises ``UnsupportedModelError`` for a model the baseline cannot run."""
    if name in ("torch", "torch-int8"):
        from tsilstm.bench.baselines_torch import TorchRunner, quantized_torch_module, torch_module_from_model

        module = torch_module if torch_module is not None else torch_module_from_model(model)
        if name == "torch":
            return TorchRunner(module, threads)
        return TorchRunner(quantized_torch_module(module), threads, precision=INT8_DYNAMIC)
    if name == "onnxruntime":
        from tsilstm.bench.baselines_onnxruntime import OnnxRuntimeRunner

        return OnnxRuntimeRunner(model, threads)
    if name == "onnxruntime-int8":
        from tsilstm.bench.baselines_onnxruntime_int8 import OnnxRuntimeInt8Runner

        return OnnxRuntimeInt8Runner(model, threads)
    if name == "openvino":
        from tsilstm.bench.baselines_openvino import OpenVinoRunner

        return OpenVinoRunner(model, threads)
    raise InvalidParameterError("--against", name, "a comma-separated list of " + ", ".join(BASELINES))
