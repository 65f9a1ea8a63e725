"""``tsilstm bench --onnx FILE``: a whole ONNX model in onnxruntime against tsilstm.onnx.InferenceSession
(integrations/onnxruntime/model_bench.py), printed as a table or JSON; exits 1 when an output differs by more than 1e-4."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

ONNX_OUTPUT_TOLERANCE = 1e-4
"""Largest max abs difference of an output accepted between the two sessions (fp32)."""


def run_onnx_bench(path: Path, feeds: str, *, threads: int, repeats: int, batch: int, steps: int, seed: int,
                   as_json: bool) -> None:
    """Measure the model at ``path`` (see integrations/onnxruntime/model_bench.py) and print the result."""
    from tsilstm.integrations.onnxruntime.model_bench import compare_onnx_model

    report = compare_onnx_model(path, feeds, threads=threads, repeats=repeats, batch=batch, steps=steps, seed=seed)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        _print(report)
    bad = {name: error for name, error in report["max_abs_error"].items() if not error <= ONNX_OUTPUT_TOLERANCE}
    if bad:
        click.echo(f"error: outputs differ from onnxruntime by more than {ONNX_OUTPUT_TOLERANCE}: {bad}", err=True)
        sys.exit(1)


def _print(report: dict[str, Any]) -> None:
    console = Console()
    feeds = ", ".join(f"{name} {shape}" for name, shape in report["feeds"].items())
    console.print(f"{escape(report['model'])} | feeds {escape(feeds)} | threads={report['threads']} repeats={report['repeats']}")
    for line in report["nodes"] or ["no LSTM or GRU node: the whole model runs in onnxruntime"]:
        console.print("  " + escape(line))
    table = Table()
    for column in ("session", "ms per call (median of blocks)", "q1..q3", "min", "calls per block"):
        table.add_column(column, justify="left" if column == "session" else "right")
    for row in report["results"]:
        table.add_row(row["impl"], f"{row['ms_per_call']:.3f}", f"{row['ms_per_call_q1']:.3f}..{row['ms_per_call_q3']:.3f}",
                      f"{row['ms_per_call_min']:.3f}", str(row["calls_per_block"]))
    console.print(table)
    for key, text in report["in_place"].items():
        console.print(f"  auto, in place: {escape(text)}")
    console.print(f"tsilstm vs onnxruntime: {report['speedup']:.2f}x (control, onnxruntime vs itself: "
                  f"{report['control_speedup']:.2f}x); max abs difference per output: "
                  + ", ".join(f"{escape(name)} {error:.2e}" for name, error in report["max_abs_error"].items()))
