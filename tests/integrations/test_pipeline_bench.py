"""The whole-pipeline benchmark's models (tsilstm.bench.pipeline_models): through the public paths a
user takes, ``tsilstm.convert`` and ``tsilstm.onnx.InferenceSession`` on the ONNX export give the
plain framework's outputs within 1e-5 call after call (states carried); the suite's report has
every side, its control and the output differences (no timing is asserted: speed is benchmarked,
not tested)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnxruntime = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxruntime_extensions")

import tsilstm  # noqa: E402
import tsilstm.onnx  # noqa: E402
from tsilstm.bench.pipeline_models import PIPELINES, build, export_onnx  # noqa: E402
from tsilstm.errors import InvalidParameterError  # noqa: E402

TOLERANCE = 1e-5


def _max_difference(a, b) -> float:  # type: ignore[no-untyped-def]
    return max(float(np.max(np.abs(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64))))
               for x, y in zip(a, b))


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_converted_and_onnx_pipelines_equal_the_plain_ones(name, tmp_path):  # type: ignore[no-untyped-def]
    pipeline = build(name)
    fast = tsilstm.convert(pipeline.module)
    plain_call = pipeline.caller(lambda inputs: _tuple(pipeline.module(*inputs)))
    fast_call = pipeline.caller(lambda inputs: _tuple(fast(*inputs)))
    calls = 4 if pipeline.streaming else 2
    with torch.inference_mode():
        for _ in range(calls):
            assert _max_difference(plain_call(), fast_call()) <= TOLERANCE
    if not pipeline.exportable:
        with pytest.raises(InvalidParameterError):
            export_onnx(pipeline, tmp_path / "m.onnx")
        return
    path = export_onnx(pipeline, tmp_path / "m.onnx")
    plain = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    session = tsilstm.onnx.InferenceSession(str(path))
    assert session.tsilstm_nodes, session.summary()
    names = [arg.name for arg in plain.get_inputs()]
    positions = [pipeline.input_names.index(n) for n in names]
    feeds = tuple(value.numpy() for value in pipeline.inputs)
    ort_call = pipeline.caller(lambda inputs: tuple(plain.run(None, {n: inputs[p] for n, p in zip(names, positions)})), feeds)
    tsi_call = pipeline.caller(lambda inputs: tuple(session.run(None, {n: inputs[p] for n, p in zip(names, positions)})), feeds)
    for _ in range(calls):
        assert _max_difference(ort_call(), tsi_call()) <= TOLERANCE


def test_the_suite_reports_every_side_with_controls(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    from tsilstm.integrations import pipeline_bench

    monkeypatch.setattr(pipeline_bench, "SETTLE_SECONDS", 0.5)
    report = pipeline_bench.time_pipeline("two-lstm-stream", threads=1, repeats=1, workdir=tmp_path)
    assert set(report["ms_per_call"]) == {"torch", "torch (control)", "tsilstm.convert", "onnxruntime",
                                          "onnxruntime (control)", "tsilstm.onnx"}
    assert set(report["speedup"]) == {"tsilstm.convert", "torch (control)", "tsilstm.onnx", "onnxruntime (control)"}
    assert all(calls >= pipeline_bench.MIN_BLOCK_CALLS for calls in report["calls_per_block"].values())
    assert max(report["max_abs_error"].values()) <= TOLERANCE


def test_unknown_pipeline_is_named():
    with pytest.raises(InvalidParameterError) as error:
        build("no-such-model")
    assert error.value.name == "pipeline"


def _tuple(outputs):  # type: ignore[no-untyped-def]
    return outputs if isinstance(outputs, tuple) else (outputs,)
