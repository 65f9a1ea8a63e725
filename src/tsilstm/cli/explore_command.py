"""``tsilstm explore``: design-space exploration on Dask: every design of a grid (weight buffer,
tile, MAC count, clock, weight width, DRAM type, node) runs a workload under every schedule; the
Pareto front of energy per step, latency per step and area per schedule is written as CSV, JSON
and plots. Finished chunks are kept in the output directory, so a rerun resumes."""

from __future__ import annotations

import os
import time
from functools import partial
from pathlib import Path

import click

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.design_space import OBJECTIVES, DRAM_NAMES, DesignSpace, evaluate_designs, fronts_by_schedule, iso_area_view, split_valid
from tsilstm.accel.technology import NODES_NM
from tsilstm.cli.param_types import (
    ARCH, BUFFER_BYTES, CONTEXT_SETTINGS, POSITIVE_INT, SCHEDULER_ADDRESS, WEIGHT_BITS, WORKLOAD_NAME, CommaListType, IntChoiceType, QuantityType,
)
from tsilstm.cli.simulate_command import model_file_workload, options_workload
from tsilstm.errors import InvalidParameterError
from tsilstm.plan import SCHEDULES
from tsilstm.report.explore_outputs import front_summary, plot_fronts, write_summary, write_tables
from tsilstm.report.explore_run import CONNECT_TIMEOUT_S, run_chunks
from tsilstm.report.explore_store import ChunkStore, fingerprint

DEFAULT_WORKERS = min(2, os.cpu_count() or 1)
"""Local-cluster workers by default: at most two (the model is single-threaded per design)."""
MAX_REASONS_SHOWN = 5


@click.command(context_settings=CONTEXT_SETTINGS)
@click.option("--workload", "workload_name", type=WORKLOAD_NAME, default=None, help="A named workload (see `tsilstm workloads`).")
@click.option("--model", "model_file", type=click.Path(dir_okay=False), default=None,
              help="A model file (ONNX, PyTorch, Keras .h5): explore for its recurrent layers.")
@click.option("--steps", type=POSITIVE_INT, default=None, help="Time steps [default: the workload's, 25 for a model file].")
@click.option("--batch", type=POSITIVE_INT, default=None, help="Sequences per batch [default: the workload's, 1 for a model file].")
@click.option("--arch", type=ARCH, default="edge", show_default=True,
              help="Base design (preset or TOML/YAML file): what the axes below do not set.")
@click.option("--buffers", type=CommaListType(BUFFER_BYTES), default="256KiB,1MiB,4MiB", show_default=True,
              help="Weight buffer sizes.")
@click.option("--tiles", type=CommaListType(POSITIVE_INT), default="64", show_default=True, help="Tile sizes in hidden units.")
@click.option("--macs", type=CommaListType(POSITIVE_INT), default="256,1024", show_default=True, help="MAC unit counts.")
@click.option("--clocks", type=CommaListType(QuantityType("hz", plausible_field="clock_hz")), default="800MHz", show_default=True,
              help="Clock frequencies (800MHz, 1GHz, ...).")
@click.option("--weight-bits", type=CommaListType(WEIGHT_BITS), default="8,16", show_default=True, help="Weight widths in bits.")
@click.option("--drams", type=CommaListType(click.Choice(DRAM_NAMES)), default="lpddr4,hbm2", show_default=True,
              help="DRAM types (" + ", ".join(DRAM_NAMES) + "; see src/tsilstm/accel/dram_types.py).")
@click.option("--nodes", type=CommaListType(IntChoiceType(NODES_NM)), default="28,7", show_default=True,
              help="Technology nodes in nm (" + ", ".join(map(str, NODES_NM)) + ").")
@click.option("--schedules", type=CommaListType(click.Choice(SCHEDULES)), default=",".join(SCHEDULES), show_default=True,
              help="Schedules to evaluate on every design.")
@click.option("--chunk-size", type=POSITIVE_INT, default=4, show_default=True,
              help="Designs per task; each finished task is saved (the unit of resume).")
@click.option("--scheduler", type=SCHEDULER_ADDRESS, default=None,
              help="Address of a running Dask scheduler (tcp://HOST:8786) [default: start a local cluster].")
@click.option("--scheduler-timeout", type=click.FloatRange(min=0, min_open=True), default=CONNECT_TIMEOUT_S, show_default=True,
              help="Seconds to wait for --scheduler before giving up.")
@click.option("--workers", type=POSITIVE_INT, default=DEFAULT_WORKERS, show_default=True, help="Local cluster: worker processes.")
@click.option("--threads", "use_threads", is_flag=True,
              help="Local cluster: workers as threads of this process (lighter to start; no parallel speed-up).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="explore-out", show_default=True,
              help="Output directory (also holds the finished chunks a rerun resumes from).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def explore(
    workload_name: str | None, model_file: str | None, steps: int | None, batch: int | None, arch: ArchConfig,
    buffers: tuple[int, ...], tiles: tuple[int, ...], macs: tuple[int, ...], clocks: tuple[float, ...], weight_bits: tuple[int, ...],
    drams: tuple[str, ...], nodes: tuple[int, ...], schedules: tuple[str, ...], chunk_size: int, scheduler: str | None,
    scheduler_timeout: float, workers: int, use_threads: bool, out_dir: str, quiet: bool,
) -> None:
    """Explore accelerator designs for a workload on Dask and write the Pareto front (energy per
    step, latency per step, area) of every schedule: designs.csv, pareto_front.csv, explore.json
    and plots. Rerun with the same options and --out to resume an interrupted run."""
    started = time.perf_counter()
    if model_file is not None:
        if workload_name:
            raise InvalidParameterError("--model", model_file, "give one of --model or --workload")
        workload = model_file_workload(model_file, steps, batch)
    else:
        if workload_name is None:
            raise InvalidParameterError("--workload", None, "give --workload NAME (see `tsilstm workloads`) or --model FILE")
        workload = options_workload(workload_name, None, None, "lstm", 0, 1, False, steps, batch)
    if not schedules:
        raise InvalidParameterError("--schedules", "", "at least one of " + ", ".join(SCHEDULES))
    space = DesignSpace(buffers, tiles, macs, clocks, weight_bits, drams, nodes)
    valid, invalid = split_valid(space.points(), workload, arch)
    if not valid:
        reasons = sorted({reason for _, reason in invalid})
        raise InvalidParameterError(
            "--buffers/--tiles/--macs/--clocks/--weight-bits/--drams/--nodes", f"{len(invalid)} designs",
            "a space with at least one design that can run the workload; every design is impossible: "
            + "; ".join(reasons[:MAX_REASONS_SHOWN]) + (" ..." if len(reasons) > MAX_REASONS_SHOWN else ""),
        )
    out = Path(out_dir)
    description = {
        "workload": {"name": workload.name, "layers": workload.describe(), "steps": workload.steps, "batch": workload.batch},
        "base_arch": arch.as_dict(), "space": space.as_dict(), "schedules": list(schedules), "chunk_size": chunk_size,
    }
    store = ChunkStore(out, fingerprint(description))
    chunks = [valid[start : start + chunk_size] for start in range(0, len(valid), chunk_size)]
    click.echo(
        f"{len(valid)} designs ({len(invalid)} impossible, skipped) x {len(schedules)} schedules of {workload.name} "
        f"in {len(chunks)} chunks" + (f" on {scheduler}" if scheduler else f" on a local Dask cluster of {workers} workers")
    )
    evaluate = partial(evaluate_designs, workload=workload, base=arch, schedules=schedules)
    rows, resumed = run_chunks(
        evaluate, chunks, store, scheduler=scheduler, workers=workers, processes=not use_threads, show_progress=not quiet,
        connect_timeout_s=scheduler_timeout,
    )
    fronts = fronts_by_schedule(rows)
    written = write_tables(rows, fronts, out)
    title = f"{workload.name}: Pareto fronts over {len(valid)} designs (base {arch.name})"
    written += plot_fronts(rows, fronts, out, title)
    summary = {
        **description,
        "objectives": list(OBJECTIVES),
        "designs": len(valid) + len(invalid),
        "valid_designs": len(valid),
        "impossible_designs": [{"design": point.__dict__, "reason": reason} for point, reason in invalid],
        "chunks": {"total": len(chunks), "resumed": resumed, "computed": len(chunks) - resumed},
        "fronts": front_summary(fronts),
        "pareto_front": fronts,
        "iso_area": iso_area_view(rows),
    }
    written.append(write_summary(summary, out))
    click.echo(
        f"{len(chunks) - resumed} chunks computed, {resumed} resumed from {store.directory}; "
        f"front sizes: " + ", ".join(f"{s} {len(f)}" for s, f in fronts.items())
        + f"; wrote {len(written)} files to {out} in {time.perf_counter() - started:.1f} s"
    )
