"""``tsilstm plan``: generate, check and summarize the plan of one or all schedules."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from tsilstm.cli.param_types import BYTES, CELL, CONTEXT_SETTINGS, NON_NEGATIVE_INT, POSITIVE_INT
from tsilstm.errors import InvalidParameterError, internal_check
from tsilstm.plan import DTYPE_BYTES, SCHEDULES, check_plan, generate_plan, make_tiling
from tsilstm.plan.summary import plan_summary
from tsilstm.plan.tiling import Tiling
from tsilstm.units import format_bytes

MAX_PLAN_OPS = 2_000_000
"""Most ops ``tsilstm plan`` builds in one run (over every schedule asked for). Measured 2026-11-25
on the 2-core EPYC: plans are built at ~3-4 us and ~150 bytes per op (LSTM 8192, 100 steps, tsi:
~5e6 ops in 18.7 s, 765 MB peak), so the limit keeps a run under ~10 s and ~400 MB. Long
sequences are modelled without listing every step by ``tsilstm simulate`` (steady state extended)."""


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--hidden", type=POSITIVE_INT, default=2048, show_default=True, help="Hidden units H.")
@click.option("--input", "input_size", type=POSITIVE_INT, default=None, help="Input features X [default: hidden].")
@click.option("--steps", type=POSITIVE_INT, default=25, show_default=True, help="Time steps T.")
@click.option("--batch", type=POSITIVE_INT, default=1, show_default=True, help="Sequences per batch.")
@click.option("--schedule", type=click.Choice((*SCHEDULES, "all")), default="tsi", show_default=True, help="A schedule, or all.")
@click.option("--tile", type=POSITIVE_INT, default=None, help="Tile size in hidden units [default: min(64, hidden)].")
@click.option("--buffer", "buffer_bytes", type=BYTES, default="1MiB", show_default=True, help="Weight buffer: bytes, or 512KiB, 2MiB ...")
@click.option("--dtype", type=click.Choice(tuple(DTYPE_BYTES)), default="float32", show_default=True, help="Weight type.")
@click.option("--cell", type=CELL, default="lstm", show_default=True, help="Cell type.")
@click.option("--proj-size", type=NON_NEGATIVE_INT, default=0, show_default=True, help="LSTM projection size (0: none).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="Draw one sweep's tile grid to a PNG or SVG file.")
def plan(
    hidden: int, input_size: int | None, steps: int, batch: int, schedule: str, tile: int | None,
    buffer_bytes: int, dtype: str, cell: str, proj_size: int, as_json: bool, plot_path: str | None,
) -> None:
    """Generate and check the plan of a schedule; report the weight traffic it needs."""
    names = SCHEDULES if schedule == "all" else (schedule,)
    tiling = make_tiling(hidden, input_size, tile=tile, cell=cell, proj_size=proj_size, dtype=dtype)
    ops = sum(estimated_plan_ops(name, tiling, steps) for name in names)
    if ops > MAX_PLAN_OPS:
        raise InvalidParameterError(
            "--hidden/--tile/--steps", f"{hidden}/{tiling.tile}/{steps}",
            f"the plan would hold about {ops} ops, more than the limit of {MAX_PLAN_OPS} (about 10 s and 400 MB to "
            "build): use a smaller --hidden or --steps, a larger --tile or one --schedule; `tsilstm simulate` models "
            "many --steps without listing them (it extends the steady state)",
        )
    summaries = []
    plans = []
    for name in names:
        the_plan = generate_plan(
            name, hidden, input_size, steps=steps, batch=batch, tile=tile, buffer_bytes=buffer_bytes,
            dtype=dtype, cell=cell, proj_size=proj_size,
        )
        with internal_check(f"the generated {name} plan"):
            check_plan(the_plan)
        plans.append(the_plan)
        summaries.append(plan_summary(the_plan))
    if plot_path:
        from tsilstm.report.tile_grid import draw_tile_grid

        draw_tile_grid(plans[-1].program, plot_path)
    if as_json:
        click.echo(json.dumps(summaries[0] if len(summaries) == 1 else {"results": summaries}, indent=2))
        return
    _print_table(summaries)
    if plot_path:
        click.echo(f"tile grid of {plans[-1].schedule} written to {plot_path}")


def estimated_plan_ops(schedule: str, tiling: Tiling, steps: int) -> int:
    """Ops the plan of ``schedule`` holds for ``tiling`` over ``steps`` steps, estimated from the
    tile counts before anything is built: per step a load, use and evict of every W_h (and W_hr)
    tile plus one finish per row-block; W_x hoisted once (every step for ``naive``). Exact for
    conventional; snake, pinned and the tsi schedules build fewer."""
    def blocks(units: int) -> int:
        return -(-units // tiling.tile)

    rows = blocks(tiling.hidden)
    recurrent_tiles = rows * blocks(tiling.recurrent) + (blocks(tiling.proj) * rows if tiling.proj else 0)
    input_tiles = rows * blocks(tiling.input)
    per_step = 3 * recurrent_tiles + rows + (3 * input_tiles if schedule == "naive" else 0)
    return steps * per_step + 3 * input_tiles


def _print_table(summaries: list[dict]) -> None:
    first = summaries[0]
    console = Console()
    console.print(
        "LSTM layer" if first["gates"] == 4 else "GRU layer",
        f"hidden={first['hidden']} input={first['input']} steps={first['steps']} batch={first['batch']} "
        f"tile={first['tile']} ({first['row_blocks']} row-blocks) buffer={format_bytes(first['buffer_bytes'])}; "
        f"M = bytes(W_h) = {format_bytes(first['recurrent_matrix_bytes'])}",
    )
    table = Table()
    for column in ("schedule", "weights loaded", "per step", "W_h per step / M", "peak buffer", "notes"):
        table.add_column(column, justify="left" if column in ("schedule", "notes") else "right")
    for s in summaries:
        label = s["schedule"] if not s["fell_back"] else f"{s['requested_schedule']} -> {s['schedule']}"
        table.add_row(
            label,
            format_bytes(s["weight_bytes_loaded"]),
            format_bytes(s["weight_bytes_per_step"]),
            f"{s['recurrent_weight_bytes_per_step'] / s['recurrent_matrix_bytes']:.3f}",
            format_bytes(s["peak_buffer_bytes"]),
            "; ".join(s["notes"]),
        )
    console.print(table)
