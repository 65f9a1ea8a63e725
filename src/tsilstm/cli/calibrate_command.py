"""``tsilstm calibrate``: measure where tsi overtakes the conventional kernel on this machine."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from tsilstm.cli.param_types import CELL, CONTEXT_SETTINGS, POSITIVE_INT, CommaListType
from tsilstm.runtime.calibration import DEFAULT_HIDDEN_SIZES


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--cell", type=CELL, default="lstm", show_default=True, help="Cell type.")
@click.option("--hidden", "hidden_sizes", type=CommaListType(POSITIVE_INT), default=",".join(map(str, DEFAULT_HIDDEN_SIZES)),
              show_default=True, help="Comma-separated hidden sizes (input size = hidden).")
@click.option("--batch", type=POSITIVE_INT, default=1, show_default=True, help="Sequences per batch.")
@click.option("--steps", type=POSITIVE_INT, default=50, show_default=True, help="Time steps per call.")
@click.option("--threads", type=POSITIVE_INT, default=2, show_default=True, help="Kernel threads.")
@click.option("--repeats", type=POSITIVE_INT, default=7, show_default=True, help="Interleaved timed repeats (median).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def calibrate(cell: str, hidden_sizes: tuple[int, ...], batch: int, steps: int, threads: int, repeats: int, as_json: bool) -> None:
    """Time tsi and conventional side by side over hidden sizes: the crossover schedule="auto" uses."""
    from tsilstm.runtime.calibration import measure_crossover
    from tsilstm.hardware import last_level_cache_bytes
    from tsilstm.runtime.schedule_choice import tsi_min_llc_fraction

    rows = measure_crossover(cell, hidden_sizes, batch=batch, steps=steps, threads=threads, repeats=repeats)
    if as_json:
        click.echo(json.dumps([{**row.__dict__, "speedup": row.speedup} for row in rows], indent=2))
        return
    llc = last_level_cache_bytes()
    llc_text = "unknown" if llc is None else f"{llc / 2**20:.0f} MiB"
    table = Table(title=f"tsi vs conventional, {cell}, batch {batch}, {threads} threads, {steps} steps, "
                        f"LLC {llc_text} (auto: tsi from {tsi_min_llc_fraction(batch):g} x LLC at this batch)")
    for column in ("hidden", "W_h MiB", "W_h / LLC", "tsi ms/step", "conventional ms/step", "speedup"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row.hidden), f"{row.weight_bytes / 2**20:.1f}", "-" if row.llc_fraction is None else f"{row.llc_fraction:.2f}",
                      f"{row.tsi_ms_per_step:.3f}", f"{row.conventional_ms_per_step:.3f}", f"{row.speedup:.2f}")
    Console().print(table)
