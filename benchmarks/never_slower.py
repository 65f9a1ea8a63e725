"""Checks that tsilstm is never slower than where a model came from, each measured side by side in
one process (blocks of calls in rotated, interleaved rounds; tsilstm.bench.harness):

  conv-time     torch Conv1d -> 2 x LSTM(150) -> Linear, one frame per call, before and after
                ``tsilstm.convert`` (default threads): ms per call of the whole model and of its Conv1d
  packed        bidirectional GRU(512) x 2, batch 8, T = 100, 8 distinct lengths as a PackedSequence:
                torch.nn.GRU vs tsilstm.nn.GRU
  sess-options  a streaming two-LSTM(128) ONNX model in tsilstm.onnx.InferenceSession with and
                without sess_options(intra_op_num_threads = 2), and ONNX Runtime's own
  busy-store    GRU(2048) batch 1: decisions recorded while a busy-loop process runs, then used on a
                quiet machine by a new process: auto vs the best fixed schedule at the call's threads
  no-recurrent  ``tsilstm bench --onnx`` of a model without LSTM/GRU nodes (a control: ~1.00x)

usage: python benchmarks/never_slower.py [CHECK ...] [--repeats 9] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

import tsilstm
import tsilstm.nn
import tsilstm.onnx
from tsilstm.bench.harness import measure_interleaved
from tsilstm.bench.pipeline_models import build, export_onnx
from tsilstm.bench.quiescence import wait_until_quiet

BLOCK = {"min_sample_s": 0.05, "min_calls": 3, "prime": True, "settle": wait_until_quiet}


def _timed(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    stats = measure_interleaved(calls, repeats, warmup=2, **BLOCK)
    return {name: s.median_s * 1e3 for name, s in stats.items()}


def _until(decided: Callable[[], bool], call: Callable[[], Any], seconds: float = 30.0) -> None:
    end = time.monotonic() + seconds
    while not decided() and time.monotonic() < end:
        call()


def conv_time(repeats: int) -> dict[str, Any]:
    """Whole-model and Conv1d ms per call of the beat tracker before and after conversion."""
    pipeline = build("beat-tracker")
    original = pipeline.module
    converted = tsilstm.convert(original)
    conv_ms: dict[str, list[float]] = {"torch": [], "tsilstm.convert": []}
    for name, model in (("torch", original), ("tsilstm.convert", converted)):
        starts: list[float] = []
        model.conv.register_forward_pre_hook(lambda *_, starts=starts: starts.append(time.perf_counter()))
        model.conv.register_forward_hook(
            lambda *_, name=name, starts=starts: conv_ms[name].append((time.perf_counter() - starts[-1]) * 1e3))
    calls = {"torch": pipeline.caller(lambda i: original(*i)), "tsilstm.convert": pipeline.caller(lambda i: converted(*i))}
    with torch.inference_mode():
        _until(lambda: bool(converted.rnn.decisions), calls["tsilstm.convert"])
        for values in conv_ms.values():
            values.clear()
        ms = _timed(calls, repeats)
    conv = {name: float(np.median(values)) for name, values in conv_ms.items()}
    return {"ms_per_call": ms, "speedup": ms["torch"] / ms["tsilstm.convert"], "conv_ms_per_call": conv,
            "conv_ratio": conv["tsilstm.convert"] / conv["torch"], "threads": torch.get_num_threads(),
            "decisions": {k: d.describe() for k, d in converted.rnn.decisions.items()}}


def packed(repeats: int) -> dict[str, Any]:
    """torch.nn.GRU vs tsilstm.nn.GRU on a PackedSequence of 8 distinct lengths."""
    torch.manual_seed(0)
    reference = torch.nn.GRU(512, 512, num_layers=2, bidirectional=True).eval()
    fast = tsilstm.convert(reference)
    lengths = [100, 93, 85, 77, 64, 50, 37, 21]
    batch = torch.nn.utils.rnn.pack_sequence([torch.randn(n, 512) for n in lengths])
    with torch.inference_mode():
        error = float((reference(batch)[0].data - fast(batch)[0].data).abs().max())
        ms = _timed({"torch": lambda: reference(batch), "tsilstm": lambda: fast(batch)}, repeats)
    return {"ms_per_call": ms, "speedup": ms["torch"] / ms["tsilstm"], "max_abs_error": error,
            "threads": torch.get_num_threads()}


def sess_options(repeats: int) -> dict[str, Any]:
    """The two-LSTM(128) streaming model: tsilstm with and without sess_options, and ONNX Runtime."""
    import onnxruntime

    pipeline = build("two-lstm-stream")
    folder = Path(tempfile.mkdtemp(prefix="tsilstm-never-slower-"))
    path = export_onnx(pipeline, folder / "two_lstm.onnx")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 2
    sessions = {"onnxruntime": onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]),
                "tsilstm (sess_options)": tsilstm.onnx.InferenceSession(str(path), sess_options=options),
                "tsilstm": tsilstm.onnx.InferenceSession(str(path))}
    names = [arg.name for arg in sessions["onnxruntime"].get_inputs()]
    feeds = tuple(value.numpy() for value in pipeline.inputs)
    positions = [pipeline.input_names.index(name) for name in names]
    calls = {label: pipeline.caller(lambda i, s=session: s.run(None, {n: i[p] for n, p in zip(names, positions)}), feeds)
             for label, session in sessions.items()}
    for label in ("tsilstm (sess_options)", "tsilstm"):
        _until(lambda s=sessions[label]: bool(s.inplace_decisions), calls[label])
    ms = _timed(calls, repeats)
    return {"ms_per_call": ms, "with_vs_without_options": ms["tsilstm (sess_options)"] / ms["tsilstm"],
            "tsilstm_vs_onnxruntime_time": ms["tsilstm"] / ms["onnxruntime"],
            "decisions": {label: [d.describe() for d in sessions[label].inplace_decisions.values()]
                          for label in ("tsilstm (sess_options)", "tsilstm")}}


BUSY_SCRIPT = """
import json, sys, time, numpy as np, tsilstm
from tsilstm.runtime.layer_run import decision_store
gru = tsilstm.GRU(2048, 2048, threads=2, seed=0)
x = np.random.default_rng(0).standard_normal((int(sys.argv[1]), 1, 2048)).astype(np.float32)
gru(x)
timings = {}
if sys.argv[2] == "time":
    fixed = {s: tsilstm.GRU(2048, 2048, threads=2, seed=0, schedule=s) for s in ("tsi", "conventional")}
    runs = {"auto": lambda: gru(x), **{s: (lambda m=m: m(x)) for s, m in fixed.items()}}
    for run in runs.values(): run()
    for name, run in runs.items():
        best = []
        for _ in range(7):
            start = time.perf_counter(); run(); best.append(time.perf_counter() - start)
        timings[name] = sorted(best)[3] * 1e3 / x.shape[0]
print(json.dumps({"summary": gru.layer_runs[0].choice.reason, "threads": gru.layer_runs[0].last_threads,
                  "ms_per_step": timings}))
"""


def busy_store(repeats: int) -> dict[str, Any]:
    """Fill a fresh store beside a busy loop, then time auto against the fixed schedules quietly."""
    store = tempfile.mkdtemp(prefix="tsilstm-busy-store-")
    env = {**os.environ, "TSILSTM_CACHE_DIR": store}
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        first = json.loads(subprocess.run([sys.executable, "-c", BUSY_SCRIPT, "50", "fill"], env=env, check=True,
                                          capture_output=True, text=True).stdout)
    finally:
        busy.kill()
        busy.wait()
    time.sleep(1.0)
    second = json.loads(subprocess.run([sys.executable, "-c", BUSY_SCRIPT, "50", "time"], env=env, check=True,
                                       capture_output=True, text=True).stdout)
    ms = second["ms_per_step"]
    best = min(ms["tsi"], ms["conventional"])
    return {"busy_decision": first["summary"], "quiet_decision": second["summary"], "quiet_threads": second["threads"],
            "ms_per_step": ms, "auto_vs_best_fixed": best / ms["auto"]}


def no_recurrent(repeats: int) -> dict[str, Any]:
    """``tsilstm bench --onnx`` of a Conv -> Relu -> MatMul model (no LSTM/GRU node)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((64, 40, 3)).astype(np.float32), "w"),
               numpy_helper.from_array(rng.standard_normal((64, 10)).astype(np.float32), "m")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1]), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]), helper.make_node("MatMul", ["t", "m"], ["y"])]
    graph = helper.make_graph(nodes, "no_recurrent", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 40, 200])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], weights)
    path = Path(tempfile.mkdtemp(prefix="tsilstm-no-recurrent-")) / "no_recurrent.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    out = subprocess.run([sys.executable, "-c", "from tsilstm.cli.main import cli; cli()", "bench", "--onnx", str(path),
                          "--threads", "2",
                          "--repeats", str(repeats), "--json"], check=True, capture_output=True, text=True).stdout
    report = json.loads(out[out.index("{"):])
    return {"speedup": report["speedup"], "control_speedup": report["control_speedup"], "results": report["results"]}


CHECKS = {"conv-time": conv_time, "packed": packed, "sess-options": sess_options, "busy-store": busy_store,
          "no-recurrent": no_recurrent}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checks", nargs="*", metavar="CHECK", help=f"any of {', '.join(CHECKS)} (default: all)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    unknown = sorted(set(args.checks) - set(CHECKS))
    if unknown:
        parser.error(f"unknown check(s) {unknown}: choose from {list(CHECKS)}")
    torch.set_num_threads(2)
    results = {"load_before": os.getloadavg()[0]}
    for name in args.checks or list(CHECKS):
        results[name] = CHECKS[name](args.repeats)
        print(name, json.dumps(results[name], indent=1), flush=True)
    results["load_after"] = os.getloadavg()[0]
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
