"""``tsilstm sweep``: evaluate every schedule over a grid of buffer sizes, bandwidths, bit widths,
batches and workloads; write a CSV and plots (PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

import click

from tsilstm.accel.arch_config import load_arch
from tsilstm.accel.quantities import parse_quantity
from tsilstm.accel.sweep import evaluate_point, sweep_grid
from tsilstm.byte_sizes import parse_bytes
from tsilstm.errors import InvalidParameterError
from tsilstm.plan import SCHEDULES
from tsilstm.report.accel_plots import plot_energy_breakdown, plot_vs_bandwidth, plot_vs_buffer
from tsilstm.report.sweep_run import bind, run_parallel, write_csv

DEFAULT_BUFFERS = "128KiB,256KiB,512KiB,1MiB,2MiB,4MiB,8MiB,16MiB,32MiB"


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


@click.command()
@click.option("--workload", "workload_names", multiple=True, default=("deepbench-lstm-2048-b1",), show_default=True, help="Named workload (repeatable).")
@click.option("--arch", "arch_spec", default="edge", show_default=True, help="Preset (edge, server) or a TOML/YAML file.")
@click.option("--buffers", default=DEFAULT_BUFFERS, show_default=True, help="Comma-separated weight buffer sizes.")
@click.option("--bandwidths", default=None, help="Comma-separated DRAM bandwidths (e.g. 6.4GB/s,12.8GB/s) [default: the arch's].")
@click.option("--weight-bits", "bits_text", default=None, help="Comma-separated weight widths (8,16,32) [default: the arch's].")
@click.option("--batches", default=None, help="Comma-separated batch sizes [default: the workload's].")
@click.option("--schedules", default=",".join(SCHEDULES), show_default=True, help="Comma-separated schedules.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="sweep-out", show_default=True, help="Output directory.")
@click.option("--jobs", type=int, default=2, show_default=True, help="Worker processes.")
def sweep(
    workload_names: tuple[str, ...], arch_spec: str, buffers: str, bandwidths: str | None, bits_text: str | None,
    batches: str | None, schedules: str, out_dir: str, jobs: int,
) -> None:
    """Sweep the accelerator model; write sweep.csv, traffic/energy vs buffer plots (with the
    (M - B)/2 line), steps/s vs bandwidth plots and energy breakdown bars."""
    arch = load_arch(arch_spec)
    buffer_values = [parse_bytes(b, "--buffers") for b in _split(buffers)] or [None]
    bandwidth_values = [parse_quantity("--bandwidths", _num(b), "bytes_per_s") for b in _split(bandwidths)] or [None]
    bit_values = [_int("--weight-bits", b) for b in _split(bits_text)] or [None]
    batch_values = [_int("--batches", b) for b in _split(batches)] or [None]
    schedule_names = tuple(_split(schedules))
    for name in schedule_names:
        if name not in SCHEDULES:
            raise InvalidParameterError("--schedules", name, "one of " + ", ".join(SCHEDULES))
    if jobs < 1:
        raise InvalidParameterError("--jobs", jobs, "must be >= 1")
    points = sweep_grid(workload_names, buffers=buffer_values, bandwidths=bandwidth_values, weight_bits=bit_values, batches=batch_values)
    for point in points:  # validate every override before starting the workers
        point.arch(arch)
    rows = run_parallel(bind(evaluate_point, arch, schedule_names), points, jobs=jobs, label="sweep")
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
    click.echo(f"{len(points)} points x {len(schedule_names)} schedules; wrote {len(written)} files to {out}:")
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


def _num(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _int(name: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidParameterError(name, text, "comma-separated integers") from None
