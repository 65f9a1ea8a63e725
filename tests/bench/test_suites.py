"""The DeepBench inference-server tables, shortening and workload lookup."""

from __future__ import annotations

import pytest

from tsilstm.accel.workloads import WORKLOADS
from tsilstm.bench.suites import deepbench_entries, shortened_steps, streaming_entries, suite_entries, workload
from tsilstm.errors import InvalidParameterError


def test_deepbench_inference_server_sets():
    entries = deepbench_entries(gru_steps_divisor=1)
    lstm = [e for e in entries if e.shape.cell == "lstm"]
    gru = [e for e in entries if e.shape.cell == "gru"]
    assert len(lstm) == 15 and len(gru) == 54
    assert {(e.shape.hidden, e.shape.steps) for e in lstm} == {(512, 25), (1024, 25), (2048, 25), (1536, 50), (256, 150)}
    assert {e.shape.batch for e in entries} == {1, 2, 4}
    assert all(e.shape.input == e.shape.hidden for e in entries)
    assert not any(e.shortened for e in entries)
    assert len({e.name for e in entries}) == len(entries)
    assert {e.name for e in entries} <= set(WORKLOADS)


def test_gru_sequences_are_shortened_and_say_so():
    entries = {e.name: e for e in suite_entries("deepbench", gru_steps_divisor=8)}
    long_gru = entries["deepbench-gru-2816-b1-t1500"]
    assert long_gru.shape.steps == 188 and long_gru.full_steps == 1500 and long_gru.shortened
    assert entries["deepbench-gru-512-b4-t1"].shape.steps == 1
    assert not entries["deepbench-lstm-2048-b1"].shortened
    assert shortened_steps(187, 8) == 24


def test_workload_lookup_and_errors():
    entry = workload("deepbench-lstm-2048-b1")
    assert (entry.shape.cell, entry.shape.hidden, entry.shape.batch, entry.shape.steps) == ("lstm", 2048, 1, 25)
    with pytest.raises(InvalidParameterError, match="workload"):
        workload("deepbench-lstm-999-b1")
    with pytest.raises(InvalidParameterError, match="suite"):
        suite_entries("mlperf")


def test_the_suite_table_matches_the_accelerator_workloads():
    for entry in deepbench_entries(gru_steps_divisor=1):
        assert workload(entry.name).shape == entry.shape


def test_named_model_workloads():
    speech = workload("speech-2048").shape
    assert (speech.hidden, speech.input, speech.num_layers, speech.steps) == (2048, 80, 3, 100)
    lstmp = workload("speech-lstmp-2048-p512").shape
    assert lstmp.proj_size == 512
    with pytest.raises(InvalidParameterError, match="not one torch.nn.LSTM/GRU stack"):
        workload("gnmt-8x1024")


def test_the_bench_modules_import_neither_torch_nor_onnxruntime():
    import subprocess
    import sys

    code = (
        "import sys, tsilstm.cli.bench_command, tsilstm.bench.suite_run, tsilstm.bench.results_markdown; "
        "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime', 'openvino') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_streaming_entries_cover_small_lstm_and_gru_layers_at_batch_1():
    entries = streaming_entries(calls=50)
    assert [e.name for e in entries] == [f"stream-{c}-{h}-b1" for c in ("lstm", "gru") for h in (128, 256, 512)]
    assert all(e.stream and e.shape.batch == 1 and e.shape.steps == 50 and not e.shortened for e in entries)
    suite = suite_entries("deepbench")
    assert [e.name for e in suite if e.stream] == [e.name for e in streaming_entries()]
    assert not any(e.stream for e in deepbench_entries())
