"""What one ONNX LSTM node costs per call on each path, in microseconds: ONNX Runtime's own LSTM
node, the same node as tsilstm's custom operator (schedule forced, so tsilstm runs every call), the
node runner alone (tsilstm's Python around the kernel, no ONNX Runtime), the module call alone and
the kernel's own time (``runtime.call_profile``). The difference between the custom-operator session
and ONNX Runtime's is the bridge's cost per node and call.

usage: python benchmarks/bridge_cost.py [--hidden 128] [--input 257] [--threads 1] [--calls 3000]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from typing import Any, Callable

import numpy as np
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

import tsilstm.onnx
from tsilstm.runtime.call_profile import profiling


def one_lstm_node(input_size: int, hidden: int) -> bytes:
    """One LSTM node, one step per call, its states as inputs and outputs."""
    rng = np.random.default_rng(0)
    tensors = [numpy_helper.from_array((rng.standard_normal(shape) * 0.1).astype(np.float32), name)
               for name, shape in (("W", (1, 4 * hidden, input_size)), ("R", (1, 4 * hidden, hidden)),
                                   ("B", (1, 8 * hidden)))]
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "h0", "c0"], ["Y", "Y_h", "Y_c"], hidden_size=hidden)
    value = helper.make_tensor_value_info
    graph = helper.make_graph([node], "one_lstm",
                              [value("X", TensorProto.FLOAT, [1, 1, input_size]),
                               value("h0", TensorProto.FLOAT, [1, 1, hidden]), value("c0", TensorProto.FLOAT, [1, 1, hidden])],
                              [value("Y", TensorProto.FLOAT, None), value("Y_h", TensorProto.FLOAT, None),
                               value("Y_c", TensorProto.FLOAT, None)], tensors)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]).SerializeToString()


def per_call_us(call: Callable[[], Any], calls: int, rounds: int = 7) -> float:
    """Median over ``rounds`` blocks of ``calls`` calls, in microseconds per call."""
    for _ in range(200):
        call()
    blocks = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        blocks.append((time.perf_counter() - start) / calls * 1e6)
    return float(np.median(blocks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--input", type=int, default=257)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    model = one_lstm_node(args.input, args.hidden)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    plain = onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    tsi = tsilstm.onnx.InferenceSession(model, schedule="tsi", threads=args.threads, sess_options=options)
    feeds = {"X": np.ones((1, 1, args.input), np.float32), "h0": np.zeros((1, 1, args.hidden), np.float32),
             "c0": np.zeros((1, 1, args.hidden), np.float32)}
    runner = next(iter(tsi.runners.values()))
    runner_args = (feeds["X"], np.zeros(0, np.int32), feeds["h0"], feeds["c0"])
    state = (feeds["h0"], feeds["c0"])
    load = os.getloadavg()[0]
    figures = {
        "onnxruntime LSTM node": per_call_us(lambda: plain.run(None, feeds), args.calls),
        "tsilstm custom op in onnxruntime": per_call_us(lambda: tsi.run(None, feeds), args.calls),
        "node runner alone": per_call_us(lambda: runner.run(*runner_args), args.calls),
        "module call alone": per_call_us(lambda: runner.module(feeds["X"], state), args.calls),
    }
    with profiling() as block:
        for _ in range(args.calls):
            runner.module(feeds["X"], state)
    assert block.result is not None
    figures["kernel (call_profile total)"] = max(t.total_s for t in block.result.threads) / args.calls * 1e6
    figures["bridge per node and call"] = figures["tsilstm custom op in onnxruntime"] - figures["onnxruntime LSTM node"]
    print(json.dumps({"hidden": args.hidden, "input": args.input, "threads": args.threads, "load": load,
                      "us_per_call": figures}, indent=1))


if __name__ == "__main__":
    main()
