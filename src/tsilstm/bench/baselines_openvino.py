"""OpenVINO baseline (``openvino``, optional extra): the ONNX graph of ``baselines_onnxruntime`` read
by OpenVINO and compiled for its CPU plugin on ``threads`` threads, one stream, with inference
precision bf16 where the CPU has bfloat16 units (OpenVINO then rounds weights, inputs and states to
bf16), else f32. A model is compiled once per input shape (static shapes run faster than dynamic
ones in the CPU plugin). openvino is imported lazily.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import numpy as np

from tsilstm.bench.baselines_onnxruntime import build_onnx_model
from tsilstm.model import RecurrentModel

BF16_CAPABILITY = "BF16"  # OpenVINO's name of the CPU's bfloat16 support (OPTIMIZATION_CAPABILITIES)


def inference_precision(capabilities: list[str] | tuple[str, ...]) -> str:
    """The inference precision to compile with: "bf16" when the CPU plugin's ``capabilities`` list
    bfloat16, else "f32"."""
    return "bf16" if BF16_CAPABILITY in capabilities else "f32"


class OpenVinoRunner:
    """``model`` compiled by OpenVINO for the CPU; call with torch-layout numpy ``(x, h0, c0)`` and
    get ``(output, h_n, c_n)`` (c_n None for GRU). ``precision`` is the inference precision used."""

    def __init__(self, model: RecurrentModel, threads: int) -> None:
        import openvino

        self.core = openvino.Core()
        self.has_cell_state = model.spec.has_cell_state
        self.threads = threads
        self.precision = inference_precision(tuple(self.core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")))
        self.version = openvino.__version__
        self.ov_model = self.core.read_model(build_onnx_model(model).SerializeToString())
        self._requests: dict[tuple[tuple[int, ...], ...], Any] = {}

    def _request(self, feeds: dict[str, np.ndarray]) -> Any:
        """The infer request of a model compiled for the shapes of ``feeds`` (compiled on first use)."""
        key = tuple(array.shape for array in feeds.values())
        if key not in self._requests:
            model = self.ov_model.clone()
            model.reshape({name: list(array.shape) for name, array in feeds.items()})
            compiled = self.core.compile_model(model, "CPU", {
                "INFERENCE_PRECISION_HINT": self.precision,
                "INFERENCE_NUM_THREADS": self.threads,
                "NUM_STREAMS": 1,
                "PERFORMANCE_HINT": "LATENCY",
            })
            self._requests[key] = (compiled, compiled.create_infer_request())
        return self._requests[key]

    def __call__(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Run the sequence ``x`` (T, N, X) from states ``h0``/``c0`` (L*D, N, H)."""
        feeds = {"X": x, "h0": h0}
        if self.has_cell_state:
            feeds["c0"] = c0
        compiled, request = self._request(feeds)
        result = request.infer(feeds)
        outputs = [np.array(result[port]) for port in compiled.outputs]
        return outputs[0], outputs[1], outputs[2] if self.has_cell_state else None


def openvino_version() -> str | None:
    """The installed openvino version (from its package metadata, without importing it), or None
    when it is not installed."""
    try:
        return importlib.metadata.version("openvino")
    except importlib.metadata.PackageNotFoundError:
        return None
