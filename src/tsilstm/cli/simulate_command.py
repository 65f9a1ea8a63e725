"""``tsilstm simulate``: traffic, energy and time of every schedule of a workload on an accelerator."""

from __future__ import annotations

import json

import click
from rich.console import Console

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.baselines import BASELINE_SCHEDULES, baseline_schedules_for, with_baselines
from tsilstm.accel.iso_traffic import iso_traffic_view
from tsilstm.accel.evaluate import WEIGHTS_MEANING, ScheduleResult, evaluate_workload
from tsilstm.accel.workloads import Workload, get_workload, single_layer_workload
from tsilstm.cli.accel_options import arch_with_overrides
from tsilstm.units import format_bytes
from tsilstm.cli.param_types import (
    ARCH, BUFFER_BYTES, DRAM_RATE, CELL, CONTEXT_SETTINGS, NON_NEGATIVE_INT, POSITIVE_INT, WEIGHT_BITS, WORKLOAD_NAME,
)
from tsilstm.cli.size_checks import check_simulated_layers
from tsilstm.errors import InvalidParameterError
from tsilstm.plan import SCHEDULES
from tsilstm.report.accel_tables import gain_cause_notes, result_rows, rich_table


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--workload", "workload_name", type=WORKLOAD_NAME, default=None, help="A named workload (see `tsilstm workloads`).")
@click.option("--model", "model_file", type=click.Path(dir_okay=False), default=None,
              help="A model file (ONNX, PyTorch, Keras .h5): simulate its recurrent layers (see `tsilstm inspect`).")
@click.option("--hidden", type=POSITIVE_INT, default=None, help="Hidden units H of a custom layer (instead of --workload).")
@click.option("--input", "input_size", type=POSITIVE_INT, default=None, help="Input features X of a custom layer [default: hidden].")
@click.option("--cell", type=CELL, default="lstm", show_default=True, help="Cell of a custom layer.")
@click.option("--proj-size", type=NON_NEGATIVE_INT, default=0, show_default=True, help="LSTM projection size (custom layer).")
@click.option("--layers", "num_layers", type=POSITIVE_INT, default=1, show_default=True, help="Stacked layers (custom).")
@click.option("--bidirectional", is_flag=True, help="Bidirectional layers (custom).")
@click.option("--steps", type=POSITIVE_INT, default=None, help="Time steps T [default: the workload's, 25 for a custom layer].")
@click.option("--batch", type=POSITIVE_INT, default=None, help="Sequences per batch [default: the workload's, 1 for a custom layer].")
@click.option("--arch", type=ARCH, default="edge", show_default=True, help="Preset (edge, server) or a TOML/YAML file.")
@click.option("--buffer", type=BUFFER_BYTES, default=None, help="Override the weight buffer: bytes, or 512KiB, 2MiB ...")
@click.option("--activation-buffer", type=BUFFER_BYTES, default=None, help="Override the activation buffer: bytes, or 256KiB ...")
@click.option("--bandwidth", type=DRAM_RATE, default=None, help="Override the DRAM bandwidth: bytes/s, or 12.8GB/s, 25.6 GB/s ...")
@click.option("--tile", type=POSITIVE_INT, default=None, help="Override the tile size in hidden units.")
@click.option("--weight-bits", type=WEIGHT_BITS, default=None, help="Override the weight width in bits.")
@click.option("--schedule", type=click.Choice((*SCHEDULES, "all")), default="all", show_default=True, help="A schedule, or all.")
@click.option("--full-timing", is_flag=True, help="Simulate every step instead of extending the steady state (slow).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def simulate(
    workload_name: str | None, model_file: str | None, hidden: int | None, input_size: int | None, cell: str, proj_size: int,
    num_layers: int, bidirectional: bool, steps: int | None, batch: int | None, arch: ArchConfig,
    buffer: int | None, activation_buffer: int | None, bandwidth: float | None, tile: int | None,
    weight_bits: int | None, schedule: str, full_timing: bool, as_json: bool,
) -> None:
    """Model every schedule of a workload on an accelerator: DRAM/SRAM traffic, energy with its
    breakdown, cycles, steps/s, and the gain against the conventional schedule."""
    if model_file is not None:
        if workload_name or hidden:
            raise InvalidParameterError("--model", model_file, "give one of --model, --workload or --hidden")
        workload = model_file_workload(model_file, steps, batch)
    else:
        workload = options_workload(workload_name, hidden, input_size, cell, proj_size, num_layers, bidirectional, steps, batch)
    arch = arch_with_overrides(
        arch, buffer=buffer, bandwidth=bandwidth, tile=tile, weight_bits=weight_bits, activation_buffer=activation_buffer
    )
    names = schedules_to_run(schedule)
    results = with_baselines(evaluate_workload(workload, arch, names, full_timing=full_timing))
    echo_results(workload, arch, results, schedule, as_json)


def schedules_to_run(schedule: str) -> tuple[str, ...]:
    """The schedules ``--schedule`` asks for, with the non-interleaved ones added as baselines."""
    if schedule == "all":
        return SCHEDULES
    if schedule not in SCHEDULES:
        raise InvalidParameterError("--schedule", schedule, "one of " + ", ".join(SCHEDULES) + ", or all")
    return baseline_schedules_for(schedule)


def echo_results(workload: Workload, arch: ArchConfig, results: list[ScheduleResult], schedule: str, as_json: bool) -> None:
    """Print ``results`` as ``tsilstm simulate`` does: a table with gains against conventional, or
    JSON (``{"workload", "arch", "weights_meaning", "results": [...]}``) with ``as_json``. The rows
    shown are those of ``schedule`` (or all); ``--model`` front ends call this after
    ``tsilstm.accel.evaluate_model``."""
    shown = [r for r in results if schedule == "all" or r.schedule in (*BASELINE_SCHEDULES, schedule)]
    if as_json:
        names = {r.schedule for r in shown}
        payload = {
            "workload": {"name": workload.name, "layers": workload.describe(), "steps": workload.steps, "batch": workload.batch},
            "arch": arch.as_dict(),
            "weights_meaning": WEIGHTS_MEANING,
            "results": [_with_iso_traffic(row, workload, arch) for row in result_rows(results) if row["schedule"] in names],
        }
        click.echo(json.dumps(payload, indent=2))
        return
    console = Console(width=max(Console().width, 220))  # the table needs ~200 columns; never truncate names
    console.print(
        f"{workload.name}: {workload.describe()}, {workload.steps} steps, batch {workload.batch} on {arch.name}: "
        f"{arch.mac_units} MACs at {arch.clock_hz / 1e6:.0f} MHz, {arch.weight_bits}-bit weights, weight buffer "
        f"{format_bytes(arch.weight_buffer_bytes)}, DRAM {arch.dram_bandwidth_bytes_per_s / 1e9:.1f} GB/s"
    )
    console.print(rich_table(shown))
    console.print(
        "W_h MB: recurrent weights (W_h, W_hr) read from DRAM; W_x is counted in DRAM MB (input_weights). conv = "
        "conventional; best = best-non-interleaved, the least-energy of conventional, snake and pinned on this design."
    )
    for note in gain_cause_notes(results):
        console.print(f"[bold]{note}[/bold]")
    for result in shown:
        for note in result.notes:
            console.print(f"[dim]{result.schedule}: {note}[/dim]")


def _with_iso_traffic(row: dict, workload: Workload, arch: ArchConfig) -> dict:
    """``row`` with, for tsi and tsi-pinned, the buffer each non-interleaved schedule needs to match
    its recurrent-weight traffic and the area and leakage that buffer adds (``iso_traffic``)."""
    if row["schedule"] in ("tsi", "tsi-pinned"):
        row["iso_traffic"] = iso_traffic_view(workload, arch, row["schedule"], row["dram_bytes"]["weights"])
    return row


def model_file_workload(path: str, steps: int | None, batch: int | None) -> Workload:
    """Every recurrent layer found in the file at ``path``, run one after the other, as one workload."""
    from pathlib import Path

    from tsilstm.accel.workloads import workload_from_models
    from tsilstm.importers import load_models

    return workload_from_models(tuple(load_models(path)), steps=steps or 25, batch=batch or 1,
                                name=Path(path).name, source=str(path))


def options_workload(
    name: str | None, hidden: int | None, input_size: int | None, cell: str, proj_size: int, num_layers: int,
    bidirectional: bool, steps: int | None, batch: int | None,
) -> Workload:
    """The workload of the options: the named one (with ``steps`` / ``batch`` replaced when given),
    or a custom stack of ``hidden``-unit layers; raises naming ``--workload`` when neither or both."""
    if name and hidden:
        raise InvalidParameterError("--workload", name, "give either --workload or --hidden, not both")
    if name:
        base = get_workload(name)
        if steps is None and batch is None:
            return base
        return Workload(base.name, base.layers, steps or base.steps, batch or base.batch, base.family, base.source)
    if hidden is None:
        raise InvalidParameterError("--workload", None, "give --workload NAME or --hidden H (see `tsilstm workloads`)")
    check_simulated_layers(num_layers)
    return single_layer_workload(
        hidden, input_size, steps=steps or 25, batch=batch or 1, cell=cell, proj_size=proj_size,
        layers=num_layers, bidirectional=bidirectional,
    )
