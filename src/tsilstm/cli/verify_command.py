"""``tsilstm verify``: replay every schedule against the reference LSTM/GRU."""

from __future__ import annotations

import json
import sys

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from tsilstm.cli.size_checks import check_verify_size
from tsilstm.cli.param_types import BYTES, CONTEXT_SETTINGS, NON_NEGATIVE_INT, POSITIVE_INT
from tsilstm.cell_spec import CELLS, cell_spec
from tsilstm.model import random_model
from tsilstm.plan import SCHEDULES
from tsilstm.plan.verification import TOLERANCE, VerifyResult, verify_schedule
from tsilstm.validation import require_int
from tsilstm.errors import InvalidParameterError
from tsilstm.runtime.kernel_abi import WEIGHT_DTYPES


@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_file", required=False, type=click.Path(dir_okay=False))
@click.option("--hidden", type=POSITIVE_INT, default=96, show_default=True, help="Hidden units H.")
@click.option("--input", "input_size", type=POSITIVE_INT, default=None, help="Input features X [default: hidden].")
@click.option("--steps", type=POSITIVE_INT, default=9, show_default=True, help="Time steps T.")
@click.option("--batch", type=POSITIVE_INT, default=3, show_default=True, help="Sequences per batch.")
@click.option("--cell", type=click.Choice((*CELLS, "all")), default="all", show_default=True, help="Cell type, or all.")
@click.option("--schedule", type=click.Choice((*SCHEDULES, "all")), default="all", show_default=True, help="A schedule, or all.")
@click.option("--layers", type=POSITIVE_INT, default=1, show_default=True, help="Stacked layers.")
@click.option("--bidirectional", is_flag=True, help="Two directions per layer.")
@click.option("--proj-size", type=NON_NEGATIVE_INT, default=0, show_default=True, help="LSTM projection size (0: none).")
@click.option("--tile", type=POSITIVE_INT, default=None, help="Tile size in hidden units [default: about hidden/6].")
@click.option("--buffer", "buffer_bytes", type=BYTES, default=None, help="Weight buffer: bytes, or 512KiB ... [default: a third of W_h].")
@click.option("--dtype", type=click.Choice(tuple(TOLERANCE)), default="float32", show_default=True,
              help="float32 (tolerance 1e-5) or float64 (1e-12).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random weights and inputs.")
@click.option("--weight-dtype", type=click.Choice(WEIGHT_DTYPES), default="float32", show_default=True,
              help="With MODEL_FILE: the runtime's weight type; low precision also checks each layer alone.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def verify(
    model_file: str | None, hidden: int, input_size: int | None, steps: int, batch: int, cell: str, schedule: str, layers: int,
    bidirectional: bool, proj_size: int, tile: int | None, buffer_bytes: int | None, dtype: str, seed: int,
    weight_dtype: str, as_json: bool,
) -> None:
    """Replay each schedule on random weights and compare with the reference; exit 1 on a mismatch.
    With MODEL_FILE (ONNX, PyTorch, Keras .h5): replay every schedule on the file's own weights and
    compare with the original framework (--steps, --batch, --schedule, --tile, --buffer, --seed apply)."""
    if model_file is not None:
        from tsilstm.cli.verify_file import verify_file

        return verify_file(model_file, steps=steps, batch=batch, schedule=schedule, tile=tile,
                           buffer_bytes=buffer_bytes, seed=seed, as_json=as_json, weight_dtype=weight_dtype)
    if weight_dtype != "float32":
        raise InvalidParameterError("--weight-dtype", weight_dtype, "applies to a MODEL_FILE (the random-model check "
                                    "replays plans in float)")
    input_size = hidden if input_size is None else input_size
    cells = tuple(CELLS) if cell == "all" else (cell,)
    names = SCHEDULES if schedule == "all" else (schedule,)
    tile = max(1, -(-hidden // 6)) if tile is None else require_int("tile", tile, maximum=hidden)
    check_verify_size(cells, tuple(names), input_size, hidden, layers, proj_size, bidirectional, steps, batch, tile,
                      np.dtype(dtype).itemsize)
    results: list[VerifyResult] = []
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((steps, batch, input_size))
    for cell_name in cells:
        spec = cell_spec(cell_name)
        model = random_model(
            cell_name, input_size, hidden, layers, proj_size=proj_size if spec.supports_projection else 0,
            bidirectional=bidirectional, seed=seed,
        )
        gates = spec.gates
        buffer = buffer_bytes or max(gates * hidden * hidden * 4 // 3, 2 * gates * tile * tile * 8)
        for name in names:
            results.append(verify_schedule(model, x, name, tile=tile, buffer_bytes=buffer, dtype=dtype))
    failed = [r for r in results if not r.ok]
    if as_json:
        click.echo(json.dumps({"results": [_as_dict(r) for r in results]}, indent=2))
    else:
        _print_table(results)
    if failed:
        sys.exit(1)


def _as_dict(result: VerifyResult) -> dict[str, object]:
    return {
        "schedule": result.schedule,
        "executed_schedule": result.executed_schedule,
        "cell": result.cell,
        "max_abs_error": result.max_abs_error,
        "tolerance": result.tolerance,
        "ok": result.ok,
        "notes": list(result.notes),
    }


def _print_table(results: list[VerifyResult]) -> None:
    table = Table(title="replay vs reference")
    for column in ("cell", "schedule", "ran", "max abs error", "tolerance", "ok"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r.cell, r.schedule, r.executed_schedule, f"{r.max_abs_error:.2e}", f"{r.tolerance:.0e}",
            "[green]ok[/green]" if r.ok else "[red]FAIL[/red]",
        )
    Console().print(table)
