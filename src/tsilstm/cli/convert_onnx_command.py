"""``tsilstm convert-onnx``: write an ONNX model with the LSTM/GRU nodes tsilstm can run moved to the
``ai.tsilstm`` domain, and say which nodes moved and which stay ONNX Runtime's (and why)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table


@click.command("convert-onnx")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "destination", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the converted model (.onnx).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def convert_onnx(source: Path, destination: Path, as_json: bool) -> None:
    """Rewrite SOURCE so its LSTM/GRU nodes run in tsilstm (custom domain ai.tsilstm, weights kept
    as initializers) and write it to --output; run the result with tsilstm.onnx.InferenceSession."""
    from tsilstm.errors import InvalidParameterError
    from tsilstm.integrations.onnxruntime import convert_model

    if not destination.parent.is_dir():
        raise InvalidParameterError("--output", str(destination), f"its folder {destination.parent} does not exist: "
                                    "create it first")
    result = convert_model(source, destination)
    rows = [{"node": d.locator, "op_type": d.op_type, "runs_in": "tsilstm" if d.taken else "onnxruntime",
             "reason": d.reason} for d in result.decisions]
    if as_json:
        click.echo(json.dumps({"source": str(source), "output": str(result.path), "nodes": rows}, indent=2))
        return
    console = Console()
    if not rows:
        console.print(f"{escape(str(source))} has no LSTM or GRU node; written unchanged to {escape(str(result.path))}")
        return
    table = Table(title=f"{len(result.moved)} of {len(rows)} LSTM/GRU node(s) moved to tsilstm")
    for column in ("node", "op", "runs in", "why it stays in onnxruntime"):
        table.add_column(column)
    for row in rows:
        table.add_row(escape(row["node"]), row["op_type"], row["runs_in"], escape(row["reason"]) or "-")
    console.print(table)
    console.print(f"written to {escape(str(result.path))}; run it with tsilstm.onnx.InferenceSession")
