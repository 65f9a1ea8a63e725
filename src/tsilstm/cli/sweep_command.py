"""``tsilstm sweep``: evaluate every schedule over a grid of buffer sizes, bandwidths, bit widths,
batches and workloads; write a CSV and plots (PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

import click

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.sweep import evaluate_point, sweep_grid
from tsilstm.cli.param_types import (
    ARCH, BUFFER_BYTES, DRAM_RATE, CONTEXT_SETTINGS, POSITIVE_INT, WEIGHT_BITS, WORKLOAD_NAME, CommaListType,
)
from tsilstm.plan import SCHEDULES
from tsilstm.report.sweep_run import bind, run_parallel, write_csv

DEFAULT_BUFFERS = "128KiB,256KiB,512KiB,1MiB,2MiB,4MiB,8MiB,16MiB,32MiB"


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--workload", "workload_names", type=WORKLOAD_NAME, multiple=True, default=("deepbench-lstm-2048-b1",),
              show_default=True, help="Named workload (repeatable).")
@click.option("--arch", type=ARCH, default="edge", show_default=True, help="Preset (edge, server) or a TOML/YAML file.")
@click.option("--buffers", type=CommaListType(BUFFER_BYTES), default=DEFAULT_BUFFERS, show_default=True,
              help="Comma-separated weight buffer sizes.")
@click.option("--bandwidths", type=CommaListType(DRAM_RATE), default=None,
              help="Comma-separated DRAM bandwidths (e.g. 6.4GB/s,12.8GB/s) [default: the arch's].")
@click.option("--weight-bits", type=CommaListType(WEIGHT_BITS), default=None,
              help="Comma-separated weight widths (8,16,32) [default: the arch's].")
@click.option("--batches", type=CommaListType(POSITIVE_INT), default=None, help="Comma-separated batch sizes [default: the workload's].")
@click.option("--schedules", type=CommaListType(click.Choice(SCHEDULES)), default=",".join(SCHEDULES), show_default=True,
              help="Comma-separated schedules.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="sweep-out", show_default=True, help="Output directory.")
@click.option("--jobs", type=POSITIVE_INT, default=2, show_default=True, help="Worker processes.")
def sweep(
    workload_names: tuple[str, ...], arch: ArchConfig, buffers: tuple[int, ...], bandwidths: tuple[float, ...] | None,
    weight_bits: tuple[int, ...] | None, batches: tuple[int, ...] | None, schedules: tuple[str, ...], out_dir: str, jobs: int,
) -> None:
    """Sweep the accelerator model; write sweep.csv, traffic/energy vs buffer plots (with the
    (M - B)/2 line), steps/s vs bandwidth plots and energy breakdown bars."""
    from tsilstm.report.accel_plots import plot_energy_breakdown, plot_vs_bandwidth, plot_vs_buffer  # matplotlib: slow import

    if not schedules:
        raise click.BadParameter("give at least one schedule", param_hint="'--schedules'")
    points = sweep_grid(
        workload_names, buffers=list(buffers) or [None], bandwidths=list(bandwidths or ()) or [None],
        weight_bits=list(weight_bits or ()) or [None], batches=list(batches or ()) or [None],
    )
    for point in points:  # validate every override before starting the workers
        point.arch(arch)
    rows = run_parallel(bind(evaluate_point, arch, schedules), points, jobs=jobs, label="sweep")
    out = Path(out_dir)
    write_csv(rows, out / "sweep.csv")
    written = [out / "sweep.csv"]
    for key, group in _groups(rows).items():
        workload, bandwidth, bits, batch = key
        tag = f"{workload}-bw{bandwidth / 1e9:g}GBps-w{bits}-b{batch}"
        label = f"{workload}, batch {batch}, {bits}-bit weights, {bandwidth / 1e9:g} GB/s on {arch.name}"
        if len({r['weight_buffer_bytes'] for r in group}) > 1:
            written += plot_vs_buffer(group, "weight_bytes_per_step", out / f"traffic_vs_buffer_{tag}", label)
            written += plot_vs_buffer(group, "energy_pj_per_step", out / f"energy_vs_buffer_{tag}", label)
        buffer = sorted({r["weight_buffer_bytes"] for r in group})[len({r["weight_buffer_bytes"] for r in group}) // 2]
        at = [r for r in group if r["weight_buffer_bytes"] == buffer]
        written += plot_energy_breakdown(at, out / f"energy_breakdown_{tag}-B{buffer // 1024}KiB", label + f", B = {buffer // 1024} KiB")
    for key, group in _bandwidth_groups(rows).items():
        if len({r["dram_bandwidth_bytes_per_s"] for r in group}) > 1:
            workload, buffer, bits, batch = key
            written += plot_vs_bandwidth(group, out / f"speed_vs_bandwidth_{workload}-B{buffer // 1024}KiB-w{bits}-b{batch}", f"{workload}, B = {buffer // 1024} KiB, {bits}-bit, batch {batch}")
    click.echo(f"{len(points)} points x {len(schedules)} schedules; wrote {len(written)} files to {out}:")
    for path in written:
        click.echo(f"  {path}")


def _groups(rows: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for row in rows:
        out.setdefault((row["workload"], row["dram_bandwidth_bytes_per_s"], row["weight_bits"], row["batch"]), []).append(row)
    return out


def _bandwidth_groups(rows: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = {}
    for row in rows:
        out.setdefault((row["workload"], row["weight_buffer_bytes"], row["weight_bits"], row["batch"]), []).append(row)
    return out
