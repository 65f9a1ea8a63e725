"""RESULTS.md from a hand-made suite result (no timing): the float32 table with auto against the
best schedule, the low-precision table with the fastest int8 peer, the streaming table, and a
result written before those sections existed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tsilstm.bench.results_markdown import render_results_markdown
from tsilstm.bench.speedups import add_speedups
from tsilstm.bench.suite_run import summarize_suite

REPO = Path(__file__).resolve().parents[2]


def _row(label: str, ms: float, error: float = 0.0, **fields):
    return {"label": label, "impl": fields.pop("impl", label), "ms_per_step": ms, "ms_per_step_min": ms,
            "max_abs_error": error, **fields}


def _entry(name: str, hidden: int, stream: bool, rows: list[dict]) -> dict:
    add_speedups(rows)
    return {
        "name": name, "full_steps": 10, "shortened": False, "stream": stream, "mode": "stream" if stream else "sequence",
        "shape": {"cell": "lstm", "hidden": hidden, "steps": 10, "recurrent_weight_bytes": 16 * hidden * hidden},
        "repeats": 3, "load_average_1min": {"before": 0.5, "after": 0.5}, "roofline": {}, "skipped": [], "results": rows,
    }


def _fake_result() -> dict:
    def rows(tsi, conventional, auto, bf16, int8, torch, ort, torch_int8, ort_int8, note=None):
        return [
            _row("tsilstm-tsi", tsi, 1e-6, weight_dtype="float32", schedule_ran="tsi"),
            _row("tsilstm-conventional", conventional, 1e-6, weight_dtype="float32", schedule_ran="conventional"),
            _row("tsilstm-auto", auto, 1e-6, weight_dtype="float32", schedule_ran="tsi"),
            _row("tsilstm-tsi-bfloat16", bf16, 5e-4, impl="tsilstm-tsi", weight_dtype="bfloat16"),
            _row("tsilstm-tsi-int8", int8, 1e-2, impl="tsilstm-tsi", weight_dtype="int8"),
            _row("torch", torch), _row("onnxruntime", ort),
            _row("torch-int8", torch_int8, 2e-2, precision="int8 dynamic"),
            _row("onnxruntime-int8", ort_int8, 1e-7 if note else 2e-2, precision="int8 dynamic", **({"note": note} if note else {})),
        ]

    entries = [
        _entry("deepbench-lstm-2048-b1", 2048, False, rows(1.0, 2.0, 1.25, 0.7, 0.4, 4.0, 3.0, 0.8, 0.6)),
        _entry("deepbench-gru-512-b1", 512, False, rows(0.2, 0.1, 0.1, 0.15, 0.1, 0.3, 0.12, 0.2, 0.11, note="no int8 GRU kernel here")),
        _entry("stream-lstm-128-b1", 128, True, rows(0.02, 0.03, 0.02, 0.02, 0.02, 0.05, 0.04, 0.06, 0.03)),
    ]
    return {
        "suite": "deepbench", "date": "2026-12-02 01:00 UTC",
        "machine": {"cpu_model": "Test CPU", "logical_cores": 2, "usable_cores": 2, "cache_bytes": {"L2": 2**21},
                    "load_average_1min": 0.5},
        "versions": {"tsilstm": "0.1.0", "numpy": "2", "torch": "2.13", "onnxruntime": "1.32", "openvino": None},
        "bandwidth": {"method": "test", "bandwidth_gbs": 40.0}, "bandwidth_after": {"bandwidth_gbs": 41.0},
        "bandwidth_gbs": 41.0, "load_average_1min_after": 0.6,
        "settings": {"threads": 2, "max_repeats": 15, "budget_s_per_impl": 3.0, "seed": 0,
                     "against": ["torch", "onnxruntime", "torch-int8", "onnxruntime-int8"],
                     "schedules": ["tsi", "conventional", "auto"], "extra_tsi_weight_dtypes": ["bfloat16", "int8"]},
        "entries": entries,
        "summary": summarize_suite(entries[:2]),
        "summary_stream": summarize_suite(entries[2:]),
    }


def _table(text: str, heading: str) -> list[str]:
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("|")]


def test_float32_table_has_auto_against_the_best_schedule():
    text = render_results_markdown(_fake_result(), "tsilstm bench --suite deepbench")
    table = _table(text, "## Per workload")
    assert table[0].startswith("| workload | steps run / DeepBench | W_h | tsi | conventional | auto (ran) | auto / best schedule | torch | onnxruntime |")
    assert all(line.count("|") == table[0].count("|") for line in table)
    assert "| deepbench-lstm-2048-b1 | 10 / 10 | 64.0 MiB | 1.000 | 2.000 | 1.250 (tsi) | 0.80x | 4.000 | 3.000 | 3.00x |" in text
    assert not any("stream-" in line for line in table)
    assert "worst 0.80x (deepbench-lstm-2048-b1); 1 shapes below 0.9x (deepbench-lstm-2048-b1)." in text


def test_low_precision_table_compares_with_the_fastest_int8_peer():
    text = render_results_markdown(_fake_result(), "cmd")
    table = _table(text, "## Low-precision weights")
    assert "| tsi bfloat16 | tsi int8 | torch-int8 | onnxruntime-int8 | fastest int8 peer | tsi bfloat16 vs fastest int8 peer |" in table[0]
    assert all(line.count("|") == table[0].count("|") for line in table)
    lstm = next(line for line in table if "deepbench-lstm-2048-b1" in line)
    assert "| onnxruntime-int8 0.600 |" in lstm and "| 1.50x |" in lstm  # int8 tsi 0.4 vs ORT int8 0.6
    gru = next(line for line in table if "deepbench-gru-512-b1" in line)
    assert "0.110 (float32)" in gru
    assert "- onnxruntime-int8: no int8 GRU kernel here" in text
    summary = _table(text, "## Summary")
    int8 = next(line for line in summary if line.startswith("| tsilstm-tsi-int8 "))
    assert "| 1.50x |" in int8  # geomean over the hidden >= 1536 shapes: the one LSTM 2048


def test_streaming_section_has_its_own_table_and_summary():
    text = render_results_markdown(_fake_result(), "cmd")
    table = _table(text, "## Streaming")
    assert table[0].startswith("| workload | calls | tsi | conventional | auto (ran) | auto / best schedule | torch |")
    row = next(line for line in table if line.startswith("| stream-lstm-128-b1 |"))
    assert "| 0.020 (tsi) | 1.00x |" in row and "| 2.00x |" in row  # auto vs faster fp32 baseline (onnxruntime 0.04)
    assert any(line.startswith("| tsilstm-auto |") for line in table)


@pytest.mark.skipif(not (REPO / "benchmarks" / "results-deepbench.json").exists(), reason="no stored suite result")
def test_the_stored_suite_result_renders_the_sections_it_has_data_for():
    raw = (REPO / "benchmarks" / "results-deepbench.json").read_text()
    text = render_results_markdown(json.loads(raw), "tsilstm bench --suite deepbench")
    assert "## Per workload" in text and "| deepbench-lstm-2048-b1 |" in text
    assert ("## Low-precision weights" in text) == ('"tsilstm-tsi-int8"' in raw or '"tsilstm-tsi-bfloat16"' in raw)
    assert ("## Streaming" in text) == ('"stream-' in raw)
