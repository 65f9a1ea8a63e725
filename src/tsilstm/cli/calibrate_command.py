"""``tsilstm calibrate``: measure ``auto``'s candidates on this machine ahead of time (recorded in
the decision store), show the recorded decisions, or clear them."""

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
@click.option("--show", is_flag=True, help="Print the decisions recorded for this machine instead of measuring.")
@click.option("--clear", is_flag=True, help="Delete the recorded decisions (every machine's) instead of measuring.")
def calibrate(cell: str, hidden_sizes: tuple[int, ...], batch: int, steps: int, threads: int, repeats: int, as_json: bool,
              show: bool, clear: bool) -> None:
    """Time tsi and conventional side by side over hidden sizes and record the winners as
    schedule="auto"'s decisions on this machine (the store later calls and processes read)."""
    from tsilstm.errors import InvalidParameterError
    from tsilstm.runtime.calibration import measure_crossover
    from tsilstm.runtime.layer_run import decision_store
    from tsilstm.hardware import last_level_cache_bytes

    store = decision_store()
    if show and clear:
        raise InvalidParameterError("--show", True, "give --show or --clear, not both")
    if clear:
        click.echo(f"deleted {store.path}" if store.clear() else f"nothing to delete: {store.path} does not exist")
        return
    if show:
        _show(store, as_json)
        return
    from tsilstm.cli.size_checks import check_calibrate_size

    check_calibrate_size(cell, hidden_sizes, steps, batch)
    rows = measure_crossover(cell, hidden_sizes, batch=batch, steps=steps, threads=threads, repeats=repeats)
    if as_json:
        click.echo(json.dumps([{**row.__dict__, "speedup": row.speedup} for row in rows], indent=2))
        return
    llc = last_level_cache_bytes()
    llc_text = "unknown" if llc is None else f"{llc / 2**20:.0f} MiB"
    table = Table(title=f"tsi vs conventional, {cell}, batch {batch}, up to {threads} threads, {steps} steps, "
                        f"LLC (reported) {llc_text}; recorded in {store.path}")
    for column in ("hidden", "W_h MiB", "W_h / LLC", "tsi ms/step", "conventional ms/step", "speedup"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row.hidden), f"{row.weight_bytes / 2**20:.1f}", "-" if row.llc_fraction is None else f"{row.llc_fraction:.2f}",
                      f"{row.tsi_ms_per_step:.3f}", f"{row.conventional_ms_per_step:.3f}", f"{row.speedup:.2f}")
    Console().print(table)


def _show(store, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """Print the decisions recorded for this machine."""
    decisions = store.decisions()
    if as_json:
        click.echo(json.dumps({"path": str(store.path), "machine": store.signature, "decisions": decisions}, indent=2))
        return
    table = Table(title=f"schedule='auto' decisions for this machine ({store.signature}) in {store.path}")
    for column in ("layer configuration", "schedule", "ms per step", "measured at"):
        table.add_column(column)
    for key, entry in sorted(decisions.items()):
        timings = ", ".join(f"{name} {ms:.4g}" for name, ms in sorted(entry.get("ms_per_step", {}).items()))
        table.add_row(key, str(entry.get("schedule")), timings, str(entry.get("measured_at")))
    Console().print(table)
