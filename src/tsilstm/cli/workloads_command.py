"""``tsilstm workloads``: the named workloads the accelerator model knows."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from tsilstm.accel.workloads import WORKLOADS
from tsilstm.cli.param_types import CONTEXT_SETTINGS

FAMILIES = tuple(sorted({w.family for w in WORKLOADS.values()}))
"""The families of the named workloads (deepbench, language model, speech, translation)."""


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--family", type=click.Choice(FAMILIES), default=None, help="Only this family.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def workloads(family: str | None, as_json: bool) -> None:
    """List the named workloads: the DeepBench inference server set and common speech and language models."""
    chosen = [w for w in WORKLOADS.values() if family is None or w.family == family]
    if as_json:
        click.echo(json.dumps([
            {"name": w.name, "family": w.family, "layers": w.describe(), "steps": w.steps, "batch": w.batch, "source": w.source}
            for w in chosen
        ], indent=2))
        return
    table = Table()
    for column in ("name", "family", "layers", "steps", "batch", "source"):
        table.add_column(column, justify="right" if column in ("steps", "batch") else "left")
    for w in chosen:
        table.add_row(w.name, w.family, w.describe(), str(w.steps), str(w.batch), w.source)
    Console(width=200).print(table)
