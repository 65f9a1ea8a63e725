"""What ``tsilstm inspect`` says about a Keras weights-only file given without ``--architecture``:
the layer groups it found (datasets and shapes, the cells and units they imply) and what it needs
(an architecture file, with an example written from the shapes)."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click
from rich.console import Console
from rich.table import Table

from tsilstm.importers.keras_weights_file import LAYOUTS, ImpliedLayer, WeightsFileSummary

PIPE_WIDTH = 120
"""Columns of tables written to a pipe or file (rich uses 80 otherwise)."""


def implied_text(implied: ImpliedLayer | None) -> str:
    """One line saying what a group's shapes imply, e.g. ``GRU reset_after=true, 64 units, input 32, bidirectional``."""
    if implied is None:
        return "not a recurrent layer"
    parts = [implied.cell + ("" if implied.reset_after is None else f" reset_after={str(implied.reset_after).lower()}"),
             f"{implied.units} units", f"input {implied.input_size}"]
    if implied.bidirectional:
        parts.append("bidirectional")
    if not implied.use_bias:
        parts.append("no bias")
    return ", ".join(parts)


def weights_only_json(summary: WeightsFileSummary) -> str:
    """The JSON ``inspect --json`` prints for a weights-only file: ``layers`` is empty (none can be
    read without an architecture); ``groups``, ``needs`` and ``example_architecture`` say why."""
    groups = [{"path": g.path, "layer": g.name,
               "datasets": [{"name": name, "shape": list(shape)} for name, shape in g.datasets],
               "implies": None if g.implied is None else {**asdict(g.implied), "architecture_name": summary.unambiguous_name(g)}}
              for g in summary.groups]
    return json.dumps({"file": summary.path, "weights_only": True, "layout": summary.layout,
                       "keras_version": summary.keras_version or None, "groups": groups, "layers": [],
                       "needs": "--architecture ARCH.toml (or .json) describing every recurrent layer",
                       "example_architecture": summary.example_architecture()}, indent=2)


def print_weights_only(summary: WeightsFileSummary) -> None:
    """Print the groups of the weights-only file ``summary`` describes, what loading it needs and an
    example architecture file."""
    console = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)
    version = summary.keras_version or "not stated"
    console.print(f"{summary.path}: a Keras weights-only file (save_weights output), {LAYOUTS[summary.layout]}, "
                  f"Keras version {version}. It holds weights but no architecture.", markup=False, highlight=False)
    table = Table()
    for column in ("group", "layer", "datasets (in the group)", "implies"):
        table.add_column(column, overflow="fold")
    for group in summary.groups:
        if not group.datasets:
            continue
        datasets = "\n".join(f"{name.removeprefix(group.path + '/')} {shape}" for name, shape in group.datasets)
        table.add_row(group.path, group.name, datasets, implied_text(group.implied))
    console.print(table)
    recurrent = sum(g.implied is not None for g in summary.groups)
    click.echo(f"To load its {recurrent} recurrent layer(s), describe them in a TOML (or JSON) file and pass "
               "--architecture ARCH.toml (in Python: load_model(path, architecture=...)). "
               "From the shapes, such a file would be:\n")
    click.echo(summary.example_architecture())
