"""The file form of ``tsilstm verify FILE``: replay every schedule on a model file's own weights and
compare with the original framework (onnxruntime, torch; the reference cell for Keras)."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console
from rich.table import Table

from tsilstm.errors import InvalidParameterError
from tsilstm.plan import SCHEDULES

RANDOM_MODEL_OPTIONS = ("hidden", "input_size", "cell", "layers", "bidirectional", "proj_size", "dtype")
"""Options of ``tsilstm verify`` that describe a random model; a model file brings its own."""
_PIPE_WIDTH = 120  # columns of tables written to a pipe or file (rich uses 80 otherwise)


def verify_file(
    path: str, *, steps: int, batch: int, schedule: str, tile: int | None, buffer_bytes: int | None, seed: int,
    as_json: bool, weight_dtype: str = "float32",
) -> None:
    """Verify every recurrent model in ``path``, print a table (or ``{"results": [...]}``) and exit 1
    if any comparison is outside tolerance."""
    from tsilstm.cli.size_checks import check_model_file_verify_size
    from tsilstm.importers import load_models
    from tsilstm.verification import verify_model

    _refuse_random_model_options()
    names = SCHEDULES if schedule == "all" else (schedule,)
    models = load_models(path)
    check_model_file_verify_size(models, tuple(names), steps, batch, tile)
    results = [check for model in models for check in verify_model(
        model, steps=steps, batch=batch, seed=seed, schedules=names, tile=tile, buffer_bytes=buffer_bytes,
        weight_dtype=weight_dtype)]
    if as_json:
        click.echo(json.dumps({"file": path, "results": [r.as_dict() for r in results]}, indent=2))
    else:
        tolerance = results[0].tolerance if results else 0.0
        console = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH)
        weights = "" if weight_dtype == "float32" else f", runtime with {weight_dtype} weights"
        console.print(f"{path}: tsilstm vs the original framework ({steps} steps, batch {batch}, tolerance {tolerance:.0e}{weights})")
        table = Table()
        for column in ("model", "engine", "schedule", "ran", "against", "max abs error", "tolerance", "ok"):
            table.add_column(column)
        for r in results:
            ran = "" if r.executed_schedule in ("", r.schedule) else r.executed_schedule
            table.add_row(
                r.model, r.engine, r.schedule or "-", ran, r.against, "-" if r.skipped else f"{r.max_abs_error:.2e}",
                f"{r.tolerance:.2g}", "skipped" if r.skipped else "[green]ok[/green]" if r.ok else "[red]FAIL[/red]",
            )
        console.print(table)
        for note in sorted({n for r in results for n in r.notes if n.startswith("not run")} | {r.skipped for r in results if r.skipped}):
            click.echo(note, err=True)
    if any(not r.ok for r in results):
        sys.exit(1)


def _refuse_random_model_options() -> None:
    """Raise if an option that shapes the random model was given together with a model file."""
    context = click.get_current_context(silent=True)
    if context is None:
        return
    for name in RANDOM_MODEL_OPTIONS:
        source = context.get_parameter_source(name)
        if source is not None and source.name == "COMMANDLINE":
            flag = "--" + name.replace("_size", "").replace("_", "-") if name != "proj_size" else "--proj-size"
            raise InvalidParameterError(
                flag, context.params.get(name), "describes a random model; a MODEL_FILE brings its own sizes "
                "(with a file only --steps, --batch, --schedule, --tile, --buffer, --seed, --weight-dtype, --json apply)",
            )
