"""The whole-pipeline suite: realistic models with LSTM/GRU layers between other layers (built from
code in tsilstm.bench.pipeline_models), each timed per call as plain torch vs ``tsilstm.convert``
and, on its ONNX export, ONNX Runtime vs ``tsilstm.onnx.InferenceSession``, at 1 and 2 threads,
with a do-nothing control on each side (tsilstm.integrations.pipeline_bench says how it stays fair).

usage: python benchmarks/pipelines.py [--threads 1,2] [--repeats 9] [--pipeline NAME ...]
                                      [--json FILE] [--markdown FILE]

Prints one row per pipeline and thread count: ms per call (median of blocks) of each side, the
speedups (plain / tsilstm; control: plain / its copy) and the max abs output difference. Run it on a
quiet machine: the 1-minute load average before and after is printed with the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

from tsilstm.bench.pipeline_models import PIPELINES
from tsilstm.integrations.pipeline_bench import time_pipeline


def markdown(results: list[dict], header: str) -> str:
    """The results as a markdown table under ``header``."""
    lines = [header, "",
             "| pipeline | threads | torch ms | convert ms | convert x | control x | ORT ms | tsilstm.onnx ms | onnx x "
             "| control x | max abs diff |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        ms, x = r["ms_per_call"], r["speedup"]
        onnx = (f"{ms['onnxruntime']:.3f} | {ms['tsilstm.onnx']:.3f} | {x['tsilstm.onnx']:.2f} | "
                f"{x['onnxruntime (control)']:.2f}") if "onnxruntime" in ms else "- | - | - | -"
        lines.append(f"| {r['pipeline']} | {r['threads']} | {ms['torch']:.3f} | {ms['tsilstm.convert']:.3f} | "
                     f"{x['tsilstm.convert']:.2f} | {x['torch (control)']:.2f} | {onnx} | "
                     f"{max(r['max_abs_error'].values()):.1e} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--pipeline", action="append", choices=sorted(PIPELINES))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    results = []
    for name in args.pipeline or list(PIPELINES):
        for threads in (int(t) for t in args.threads.split(",")):
            result = time_pipeline(name, threads=threads, repeats=args.repeats)
            results.append(result)
            print(markdown([result], "").strip().splitlines()[-1], flush=True)
    load_after = os.getloadavg()[0]
    header = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {load_before:.2f} -> "
              f"{load_after:.2f}, repeats {args.repeats}")
    table = markdown(results, header)
    print(table)
    if args.json:
        args.json.write_text(json.dumps({"machine": header, "results": results}, indent=1))
    if args.markdown:
        args.markdown.write_text(table)


if __name__ == "__main__":
    main()
