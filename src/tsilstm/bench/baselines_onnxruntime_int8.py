"""ONNX Runtime int8 baseline (``onnxruntime-int8``): the float graph of ``baselines_onnxruntime``
passed through ``onnxruntime.quantization.quantize_dynamic`` (int8 weights, activations quantized
per call), run like the float one, and checked: the graph ONNX Runtime really runs after its
optimizations (saved through ``SessionOptions.optimized_model_filepath``) must hold the int8
recurrent operator. ONNX Runtime has one for LSTM (``DynamicQuantizeLSTM``, a com.microsoft
operator) and none for GRU: a GRU stays a float32 GRU, and the runner says so in ``note``.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from tsilstm.bench.baseline_precision import INT8_DYNAMIC
from tsilstm.bench.baselines_onnxruntime import OnnxRuntimeRunner, build_onnx_model
from tsilstm.cells.stack import run_reference
from tsilstm.errors import InternalError
from tsilstm.model import RecurrentModel

INT8_RECURRENT_OPS = {"lstm": "DynamicQuantizeLSTM"}
"""ONNX Runtime's int8 recurrent operator of each cell (GRU has none)."""
NO_INT8_GRU_NOTE = "ONNX Runtime has no int8 GRU kernel: quantize_dynamic leaves the GRU in float32, which runs here"


def quantize_onnx_model(onnx_model: Any, *, reduce_range: bool = False) -> Any:
    """``onnx_model`` after ``onnxruntime.quantization.quantize_dynamic`` with int8 weights (7-bit
    ones with ``reduce_range``), as a ModelProto (its advice to pre-process first, meant for
    convolution models, is not logged)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory() as directory:
            source, target = Path(directory) / "float.onnx", Path(directory) / "int8.onnx"
            onnx.save(onnx_model, source)
            quantize_dynamic(source, target, weight_type=QuantType.QInt8, reduce_range=reduce_range)
            return onnx.load(target)
    finally:
        root.setLevel(level)


def graph_op_types(onnx_model: Any) -> list[str]:
    """The operator type of every node of ``onnx_model``'s main graph, in order."""
    return [node.op_type for node in onnx_model.graph.node]


def int8_recurrence_note(op_types: Iterable[str], cell: str) -> str | None:
    """Check the operators of an optimized quantized graph of ``cell`` layers: None when the
    recurrence runs in int8; for GRU (no int8 kernel in ONNX Runtime) the note saying it runs in
    float32. Raises ``InternalError`` when an LSTM graph lacks ``DynamicQuantizeLSTM`` or still holds
    a float LSTM: the int8 baseline would silently be a float one."""
    op_types = list(op_types)
    int8_op = INT8_RECURRENT_OPS.get(cell)
    if int8_op is None:
        return NO_INT8_GRU_NOTE
    float_op = cell.upper()
    if int8_op not in op_types or float_op in op_types:
        raise InternalError(
            f"the onnxruntime-int8 baseline's optimized graph must run every {float_op} as {int8_op}, "
            f"but its operators are {', '.join(op_types) or 'none'}"
        )
    return None


PROBE_STEPS = 4
"""Steps of the seeded input on which the two quantizations are compared (batch 1)."""


def probe_error(runner: OnnxRuntimeRunner, model: RecurrentModel) -> float:
    """Largest absolute output error of ``runner`` against the float64 reference on a seeded input
    of PROBE_STEPS steps, batch 1, from zero states (nan counts as infinite)."""
    rng = np.random.default_rng(0)
    first = model.layers[0]
    x = rng.standard_normal((PROBE_STEPS, 1, first.input_size)).astype(np.float32)
    slots = sum(len(layer.directions) for layer in model.layers)
    h0 = np.zeros((slots, 1, first.output_size), dtype=np.float32)
    c0 = np.zeros((slots, 1, first.hidden_size), dtype=np.float32) if first.spec.has_cell_state else None
    got = runner(x, h0, c0)[0]
    want = run_reference(model, x.astype(np.float64))[0]
    error = float(np.max(np.abs(got - want)))
    return error if np.isfinite(error) else float("inf")


class OnnxRuntimeInt8Runner(OnnxRuntimeRunner):
    """``OnnxRuntimeRunner`` on the dynamically quantized graph of ``model``; ``op_types`` are the
    operators of the graph ONNX Runtime runs, ``note`` is None when the recurrence runs in int8.

    ``quantize_dynamic`` is tried with 8-bit and with 7-bit weights (``reduce_range``; ONNX
    Runtime's documentation advises it where its u8 x s8 products use VPMADDUBSW, which saturates)
    and the more accurate of the two on a probe input is kept (``reduce_range`` says which): on the
    AVX2-only AMD EPYC of 2026-12-05, LSTM 48, the 8-bit weights were 0.185 off and the 7-bit 0.006; the
    kernel and its speed are the same."""

    def __init__(self, model: RecurrentModel, threads: int) -> None:
        import onnx

        float_graph = build_onnx_model(model)
        errors = {}
        for reduce_range in (False, True):
            OnnxRuntimeRunner.__init__(self, model, threads, onnx_model=quantize_onnx_model(float_graph, reduce_range=reduce_range))
            errors[reduce_range] = probe_error(self, model)
        self.reduce_range = errors[True] < errors[False]
        quantized = quantize_onnx_model(float_graph, reduce_range=self.reduce_range)
        with tempfile.TemporaryDirectory() as directory:
            optimized_path = str(Path(directory) / "optimized.onnx")
            super().__init__(model, threads, onnx_model=quantized, optimized_model_path=optimized_path)
            self.op_types = graph_op_types(onnx.load(optimized_path))
        self.note = int8_recurrence_note(self.op_types, model.cell)
        self.precision = "float32 (no int8 GRU)" if self.note else INT8_DYNAMIC
