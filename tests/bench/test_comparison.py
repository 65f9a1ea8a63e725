"""One shape end to end on the real implementations (tiny shapes, few repeats: no timing
assertions), the error measure, speedup bookkeeping and the missing-package paths."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tsilstm.bench.baseline_catalog import parse_against
from tsilstm.bench.comparison import CompareSettings, compare_shape, max_abs_error
from tsilstm.bench.runners_tsilstm import tsilstm_weight_dtypes
from tsilstm.bench.shapes import BenchShape
from tsilstm.bench.speedups import add_speedups
from tsilstm.bench.suite_run import geometric_mean, summarize_suite
from tsilstm.errors import InvalidParameterError

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")


def test_parse_against():
    assert parse_against("torch,onnxruntime") == ("torch", "onnxruntime")
    assert parse_against(" onnxruntime , torch,torch") == ("onnxruntime", "torch")
    assert parse_against("") == ()
    with pytest.raises(InvalidParameterError, match="--against"):
        parse_against("torch,tensorflow")


def test_max_abs_error_over_all_outputs_and_nan():
    a = (np.zeros((2, 1, 3)), np.zeros((1, 1, 3)), None)
    b = (np.zeros((2, 1, 3)), np.full((1, 1, 3), 0.25), None)
    assert max_abs_error(a, b) == 0.25
    nan = (np.full((2, 1, 3), np.nan), np.zeros((1, 1, 3)), None)
    assert max_abs_error(nan, nan) == 0.0
    assert max_abs_error(nan, a) == float("inf")
    assert max_abs_error((np.zeros((3,)),), (np.zeros((4,)),)) == float("inf")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_compare_shape_runs_every_implementation(cell):
    shape = BenchShape(cell, 72, 40, 2, 6)
    settings = CompareSettings(threads=2, repeats=2, schedules=("tsi", "conventional", "auto"))
    result = compare_shape(shape, settings, bandwidth_bytes_per_s=20e9, llc_bytes=32 * 2**20)
    rows = {row["impl"]: row for row in result["results"]}
    assert set(rows) == {"tsilstm-tsi", "tsilstm-conventional", "tsilstm-auto", "torch", "onnxruntime"}
    assert result["error_reference"] == "torch" and result["skipped"] == []
    assert rows["torch"]["max_abs_error"] == 0.0
    for name, row in rows.items():
        assert row["max_abs_error"] <= 1e-4, name
        assert row["ms_per_step_min"] <= row["ms_per_step"] <= row["ms_per_step_max"]
        assert row["repeats"] == 2
    fastest = min(rows["torch"]["ms_per_step"], rows["onnxruntime"]["ms_per_step"])
    for row in rows.values():
        assert row["speedup_vs_fastest_baseline"] == pytest.approx(fastest / row["ms_per_step"])
    assert rows["tsilstm-tsi"]["schedule_ran"] == "tsi"
    assert rows["tsilstm-conventional"]["schedule_ran"] == "conventional"
    assert rows["tsilstm-auto"]["schedule_ran"] in ("tsi", "conventional")
    assert rows["tsilstm-tsi"]["roofline_ms_per_step"] == pytest.approx(
        result["roofline"]["tsi"]["roofline_ms_per_step"]
    )
    assert "roofline_ms_per_step" not in rows["torch"]


def test_missing_torch_and_onnxruntime_are_reported_and_the_rest_runs(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # "import torch" now raises ImportError
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    result = compare_shape(BenchShape("lstm", 32, 32, 1, 4), CompareSettings(threads=1, repeats=2))
    assert {row["impl"] for row in result["results"]} == {"tsilstm-tsi", "tsilstm-conventional"}
    reasons = {s["impl"]: s["reason"] for s in result["skipped"]}
    assert "'torch' is needed" in reasons["torch"] and "tsilstm[torch]" in reasons["torch"]
    assert "'onnxruntime' is needed" in reasons["onnxruntime"] and "tsilstm[onnx]" in reasons["onnxruntime"]
    assert result["error_reference"] == "numpy-reference"
    assert all(row["max_abs_error"] <= 1e-4 for row in result["results"])
    assert all(row["speedup_vs_fastest_baseline"] is None for row in result["results"])


def test_settings_validation():
    with pytest.raises(InvalidParameterError, match="threads"):
        CompareSettings(threads=0)
    with pytest.raises(InvalidParameterError, match="schedules"):
        CompareSettings(schedules=("tsi", "snake"))
    with pytest.raises(InvalidParameterError, match="weight_dtype"):
        CompareSettings(weight_dtype="float8")
    with pytest.raises(InvalidParameterError, match="weight_dtype"):
        CompareSettings(extra_tsi_weight_dtypes=("float32", "int4"))
    with pytest.raises(InvalidParameterError, match="--against"):
        CompareSettings(against=("torch", "tensorflow"))
    with pytest.raises(InvalidParameterError, match="hidden"):
        BenchShape("lstm", 0, 8, 1, 1)
    with pytest.raises(InvalidParameterError, match="cell"):
        BenchShape("rnn", 8, 8, 1, 1)


def _entry(name, hidden, speedups, error=1e-6):
    rows = [
        {"impl": impl, "speedup_vs_fastest_baseline": s, "max_abs_error": error, "error_within_tolerance": error <= 1e-4}
        for impl, s in speedups.items()
    ]
    return {"name": name, "shape": {"hidden": hidden}, "results": rows}


def test_summarize_suite_geometric_means_and_floor():
    entries = [
        _entry("big-a", 2048, {"tsilstm-tsi": 4.0, "tsilstm-auto": 4.0}),
        _entry("big-b", 1536, {"tsilstm-tsi": 1.0, "tsilstm-auto": 1.0}),
        _entry("small", 256, {"tsilstm-tsi": 0.5, "tsilstm-auto": 0.95}, error=2e-4),
    ]
    summary = summarize_suite(entries)
    assert summary["tsilstm-tsi"]["geomean_speedup_hidden_ge_1536"] == pytest.approx(2.0)
    assert summary["tsilstm-tsi"]["shapes_hidden_ge_1536"] == 2
    assert summary["tsilstm-tsi"]["geomean_speedup_all"] == pytest.approx(2.0 ** (1 / 3))
    assert summary["tsilstm-tsi"]["shapes_below_floor"] == ["small"]
    assert summary["tsilstm-auto"]["shapes_below_floor"] == []
    assert summary["tsilstm-auto"]["min_speedup_shape"] == "small"
    assert summary["tsilstm-auto"]["rows_over_error_tolerance"] == 1
    assert "tsilstm-conventional" not in summary
    assert geometric_mean([]) is None


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_projection_runs_without_onnxruntime_and_says_why():
    shape = BenchShape("lstm", 48, 16, 1, 4, num_layers=2, proj_size=12, bidirectional=True)
    against = ("torch", "onnxruntime", "torch-int8", "onnxruntime-int8")
    result = compare_shape(shape, CompareSettings(threads=1, repeats=2, against=against), bandwidth_bytes_per_s=20e9)
    rows = {row["impl"]: row for row in result["results"]}
    assert set(rows) == {"tsilstm-tsi", "tsilstm-conventional", "torch"}
    assert rows["tsilstm-tsi"]["schedule_ran"] == "snake"  # tsi's documented fallback with a projection
    assert all(row["max_abs_error"] <= 1e-4 for row in rows.values())
    reasons = {s["impl"]: s["reason"] for s in result["skipped"]}
    assert "proj_size" in reasons["onnxruntime"] and "proj_size" in reasons["onnxruntime-int8"]
    assert "quantized LSTM has no projection" in reasons["torch-int8"]
    assert "snake" in result["roofline"]


def test_rooflines_rescale_with_the_bandwidth():
    from tsilstm.bench.suite_run import rescale_rooflines

    result = {
        "roofline": {"tsi": {"roofline_ms_per_step": 2.0}},
        "results": [{"impl": "tsilstm-tsi", "roofline_ms_per_step": 2.0, "roofline_fraction": 0.5}, {"impl": "torch"}],
    }
    rescale_rooflines(result, used_gbs=20.0, best_gbs=40.0)
    assert result["roofline"]["tsi"]["roofline_ms_per_step"] == 1.0
    assert result["results"][0] == {"impl": "tsilstm-tsi", "roofline_ms_per_step": 1.0, "roofline_fraction": 0.25}
    assert result["results"][1] == {"impl": "torch"}


def test_tsilstm_rows_label_the_extra_weight_types():
    settings = CompareSettings(schedules=("tsi", "conventional"), extra_tsi_weight_dtypes=tuple(tsilstm_weight_dtypes()))
    rows = settings.tsilstm_rows()
    assert rows[:2] == [("tsilstm-tsi", "tsi", "float32"), ("tsilstm-conventional", "conventional", "float32")]
    assert rows[2:] == [(f"tsilstm-tsi-{d}", "tsi", d) for d in tsilstm_weight_dtypes() if d != "float32"]


def _timed(label, ms, **fields):
    return {"label": label, "impl": fields.pop("impl", label), "ms_per_step": ms, "ms_per_step_min": ms, **fields}


def test_speedups_against_float_and_int8_peers_and_auto_against_the_best_schedule():
    rows = [
        _timed("tsilstm-tsi", 2.0, weight_dtype="float32"),
        _timed("tsilstm-conventional", 4.0, weight_dtype="float32"),
        _timed("tsilstm-auto", 2.5, weight_dtype="float32"),
        _timed("tsilstm-tsi-int8", 0.5, impl="tsilstm-tsi", weight_dtype="int8"),
        _timed("torch", 8.0), _timed("onnxruntime", 6.0), _timed("torch-int8", 1.5), _timed("onnxruntime-int8", 1.0),
        _timed("openvino", 3.0),
    ]
    add_speedups(rows)
    by = {row["label"]: row for row in rows}
    assert by["tsilstm-tsi"]["speedup_vs_fastest_baseline"] == 3.0  # onnxruntime fp32 is the faster float peer
    assert by["tsilstm-tsi-int8"]["speedup_vs_fastest_int8_baseline"] == 2.0
    assert by["tsilstm-tsi-int8"]["speedup_vs_torch_int8"] == 3.0 and by["tsilstm-tsi"]["speedup_vs_openvino"] == 1.5
    assert by["tsilstm-auto"]["speedup_vs_best_tsilstm_schedule"] == pytest.approx(0.8)
    assert by["tsilstm-tsi"]["speedup_vs_tsilstm_conventional"] == 2.0
    assert "speedup_vs_tsilstm_conventional" not in by["tsilstm-tsi-int8"]  # no int8 conventional row to compare
    assert "speedup_vs_best_tsilstm_schedule" not in by["tsilstm-tsi"]


def test_summary_of_auto_against_the_best_schedule_and_of_int8_rows():
    def entry(name, hidden, auto_vs_best, int8_vs_peer):
        return {"name": name, "shape": {"hidden": hidden}, "results": [
            {"impl": "tsilstm-auto", "label": "tsilstm-auto", "speedup_vs_fastest_baseline": 1.0, "max_abs_error": 0.0,
             "speedup_vs_best_tsilstm_schedule": auto_vs_best},
            {"impl": "tsilstm-tsi", "label": "tsilstm-tsi-int8", "speedup_vs_fastest_baseline": 3.0, "max_abs_error": 0.02,
             "speedup_vs_fastest_int8_baseline": int8_vs_peer},
        ]}

    summary = summarize_suite([entry("a", 2048, 1.0, 2.0), entry("b", 1536, 0.8, 0.5), entry("c", 512, 0.95, 9.0)])
    auto = summary["tsilstm-auto"]
    assert auto["min_vs_best_tsilstm_schedule"] == 0.8 and auto["min_vs_best_tsilstm_schedule_shape"] == "b"
    assert auto["shapes_more_than_10pct_slower_than_best_schedule"] == ["b"]
    assert auto["geomean_vs_best_tsilstm_schedule"] == pytest.approx((1.0 * 0.8 * 0.95) ** (1 / 3))
    assert summary["tsilstm-tsi-int8"]["geomean_speedup_vs_int8_baselines_hidden_ge_1536"] == pytest.approx(1.0)
    assert "geomean_vs_best_tsilstm_schedule" not in summary["tsilstm-tsi-int8"]


def test_an_extra_weight_dtype_the_runtime_refuses_is_skipped_with_its_reason(monkeypatch):
    from tsilstm.bench import comparison
    from tsilstm.errors import UnsupportedModelError

    class Refusing(comparison.TsilstmRunner):
        def __init__(self, model, schedule, threads, dtype):  # type: ignore[no-untyped-def]
            if dtype != "float32":
                raise UnsupportedModelError(f"weight_dtype={dtype!r} cannot serve this layer")
            super().__init__(model, schedule, threads, dtype)

    monkeypatch.setattr(comparison, "TsilstmRunner", Refusing)
    extra = tuple(d for d in tsilstm_weight_dtypes() if d != "float32")
    settings = CompareSettings(repeats=2, schedules=("tsi",), against=(), extra_tsi_weight_dtypes=extra)
    result = compare_shape(BenchShape("lstm", 16, 16, 1, 2), settings)
    assert [row["label"] for row in result["results"]] == ["tsilstm-tsi"]
    assert [s["impl"] for s in result["skipped"]] == [f"tsilstm-tsi-{d}" for d in extra]
    if extra:
        with pytest.raises(UnsupportedModelError, match="weight_dtype"):
            compare_shape(BenchShape("lstm", 16, 16, 1, 2), CompareSettings(repeats=2, against=(), weight_dtype=extra[0]))
