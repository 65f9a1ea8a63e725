"""``tsilstm calibrate``: measure where tsi overtakes the conventional kernel on this machine."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table


@click.command()
@click.option("--cell", default="lstm", show_default=True, help="lstm or gru.")
@click.option("--hidden", "hidden_text", default="256,512,768,1024,1280,1536,2048", show_default=True,
              help="Comma-separated hidden sizes (input size = hidden).")
@click.option("--batch", type=int, default=1, show_default=True, help="Sequences per batch.")
@click.option("--steps", type=int, default=50, show_default=True, help="Time steps per call.")
@click.option("--threads", type=int, default=2, show_default=True, help="Kernel threads.")
@click.option("--repeats", type=int, default=7, show_default=True, help="Interleaved timed repeats (median).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def calibrate(cell: str, hidden_text: str, batch: int, steps: int, threads: int, repeats: int, as_json: bool) -> None:
    """Time tsi and conventional side by side over hidden sizes: the crossover schedule="auto" uses."""
    from tsilstm.errors import InvalidParameterError
    from tsilstm.runtime.calibration import measure_crossover
    from tsilstm.runtime.schedule_choice import last_level_cache_bytes, tsi_min_llc_fraction

    try:
        sizes = tuple(int(part) for part in hidden_text.split(",") if part.strip())
    except ValueError:
        raise InvalidParameterError("hidden", hidden_text, "must be comma-separated integers") from None
    rows = measure_crossover(cell, sizes, batch=batch, steps=steps, threads=threads, repeats=repeats)
    if as_json:
        click.echo(json.dumps([{**row.__dict__, "speedup": row.speedup} for row in rows], indent=2))
        return
    llc = last_level_cache_bytes()
    table = Table(title=f"tsi vs conventional, {cell}, batch {batch}, {threads} threads, {steps} steps, "
                        f"LLC {llc / 2**20:.0f} MiB (auto: tsi from {tsi_min_llc_fraction(batch):g} x LLC at this batch)")
    for column in ("hidden", "W_h MiB", "W_h / LLC", "tsi ms/step", "conventional ms/step", "speedup"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row.hidden), f"{row.weight_bytes / 2**20:.1f}", f"{row.llc_fraction:.2f}",
                      f"{row.tsi_ms_per_step:.3f}", f"{row.conventional_ms_per_step:.3f}", f"{row.speedup:.2f}")
    Console().print(table)
