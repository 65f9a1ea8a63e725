"""``tsilstm rtl``: generate the accelerator's Verilog, simulate a layer on it, synthesize it."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.cli.accel_options import arch_with_overrides
from tsilstm.cli.param_types import ARCH, BUFFER_BYTES, CELL, CONTEXT_SETTINGS, DRAM_RATE, POSITIVE_INT
from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights

_WEIGHT_KEYS = ("w_ih", "w_hh", "b_ih", "b_hh")


@click.group(context_settings=CONTEXT_SETTINGS)
def rtl() -> None:
    """The accelerator as hardware: Verilog from Amaranth, Verilator simulation, Yosys synthesis
    (needs `pip install 'tsilstm[rtl]'`)."""


def _capacity_options(function):  # type: ignore[no-untyped-def]
    for option in reversed((
        click.option("--max-hidden", type=POSITIVE_INT, default=256, show_default=True, help="Largest hidden size the design holds."),
        click.option("--max-input", type=POSITIVE_INT, default=256, show_default=True, help="Largest input size the design holds."),
        click.option("--max-steps", type=POSITIVE_INT, default=16, show_default=True, help="Most steps whose activations stay on chip."),
        click.option("--max-batch", type=POSITIVE_INT, default=16, show_default=True, help="Most sequences per batch."),
    )):
        function = option(function)
    return function


def _design(arch: ArchConfig, max_hidden: int, max_input: int, max_steps: int, max_batch: int):  # type: ignore[no-untyped-def]
    from tsilstm.rtl.params import design_for

    return design_for(arch, max_hidden=max_hidden, max_input=max_input, max_steps=max_steps, max_batch=max_batch)


def _design_summary(design) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from tsilstm.rtl.params import sram_banks

    return {
        "mac_array": f"{design.lanes} x {design.lanes}", "dram_port_bytes": design.dram_port_bytes,
        "formats": {"weight_frac_bits": design.formats.weight_frac, "activation_frac_bits": design.formats.act_frac,
                    "accumulator_frac_bits": design.formats.acc_frac},
        "memories": {name: bank.as_dict() for name, bank in sram_banks(design).items()},
    }


@rtl.command(context_settings=CONTEXT_SETTINGS)
@click.option("--arch", type=ARCH, default="edge", show_default=True, help="Preset (edge, server) or a TOML/YAML file.")
@_capacity_options
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="accel.v", show_default=True, help="Verilog file to write.")
@click.option("--diagram", "diagram_path", type=click.Path(dir_okay=False), default=None, help="Also draw the block diagram (PNG, SVG).")
@click.option("--json", "as_json", is_flag=True, help="Print the design summary as JSON.")
def generate(
    arch: ArchConfig, max_hidden: int, max_input: int, max_steps: int, max_batch: int, out_path: str, diagram_path: str | None, as_json: bool,
) -> None:
    """Write the accelerator of an architecture config as Verilog (module ``accel``) and print its
    MAC array, DRAM port and memories (width, depth, banks)."""
    from tsilstm.rtl.build import generate_verilog

    design = _design(arch, max_hidden, max_input, max_steps, max_batch)
    Path(out_path).write_text(generate_verilog(design, counters=False), encoding="utf-8")
    summary = {"verilog": out_path, **_design_summary(design)}
    if diagram_path:
        from tsilstm.rtl.diagram import block_diagram

        block_diagram(design).savefig(diagram_path, dpi=120, bbox_inches="tight")
        summary["diagram"] = diagram_path
    click.echo(json.dumps(summary, indent=2) if as_json else "\n".join(f"{k}: {v}" for k, v in summary.items()))


def _load_weights(path: str, cell: str, hidden: int, input_size: int) -> DirectionWeights:
    with np.load(path) as data:
        missing = [k for k in _WEIGHT_KEYS if k not in data]
        if missing:
            raise InvalidParameterError("--weights", path, f"must hold arrays {_WEIGHT_KEYS}; missing {missing}")
        return DirectionWeights(*(np.asarray(data[k], dtype=np.float64) for k in _WEIGHT_KEYS))


@rtl.command(context_settings=CONTEXT_SETTINGS)
@click.option("--arch", type=ARCH, default="edge", show_default=True, help="Preset (edge, server) or a TOML/YAML file.")
@click.option("--cell", type=CELL, default="lstm", show_default=True)
@click.option("--hidden", type=POSITIVE_INT, required=True, help="Hidden units H.")
@click.option("--input", "input_size", type=POSITIVE_INT, default=None, help="Input features X [default: hidden].")
@click.option("--batch", type=POSITIVE_INT, default=1, show_default=True)
@click.option("--steps", type=POSITIVE_INT, default=16, show_default=True)
@click.option("--schedule", type=click.Choice(("conventional", "snake", "pinned", "tsi", "tsi-pinned")), default="tsi", show_default=True)
@click.option("--buffer", type=BUFFER_BYTES, default=None, help="Weight buffer the program uses (at most the design's): 32KiB ...")
@click.option("--tile", type=POSITIVE_INT, default=None, help="Tile size in hidden units [default: the config's tile_units].")
@click.option("--bandwidth", type=DRAM_RATE, default=None, help="DRAM bandwidth of the testbench: 12.8GB/s ...")
@click.option("--weights", "weights_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="NPZ with w_ih (G*H, X), w_hh (G*H, H), b_ih, b_hh (G*H,) in torch's gate order.")
@click.option("--inputs", "inputs_path", type=click.Path(exists=True, dir_okay=False), default=None, help="NPY of shape (T, B, X).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random weights and inputs.")
@_capacity_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def run(
    arch: ArchConfig, cell: str, hidden: int, input_size: int | None, batch: int, steps: int, schedule: str, buffer: int | None,
    tile: int | None, bandwidth: float | None, weights_path: str | None, inputs_path: str | None, seed: int,
    max_hidden: int, max_input: int, max_steps: int, max_batch: int, as_json: bool,
) -> None:
    """Simulate one layer on the accelerator (built once per design, cached): cycles, DRAM bytes by
    kind, SRAM bytes per buffer, the outputs and their difference from the fixed-point reference."""
    from tsilstm.cli.size_checks import check_rtl_run_size
    from tsilstm.rtl.run import design_arch, random_inputs, run_layer

    input_size = input_size or hidden
    check_rtl_run_size(cell, hidden, input_size, steps, batch)
    run_arch = arch_with_overrides(arch, buffer=buffer, bandwidth=bandwidth, tile=tile)
    weights, x = random_inputs(cell, hidden, input_size, steps, batch, seed)
    if weights_path:
        weights = _load_weights(weights_path, cell, hidden, input_size)
    if inputs_path:
        x = np.load(inputs_path)
    design = _design(design_arch(run_arch, arch), max(max_hidden, hidden), max(max_input, input_size), max(max_steps, steps), max(max_batch, batch))
    result = run_layer(run_arch, cell, hidden, input_size, steps, batch, schedule, weights, x, design=design)
    if as_json:
        click.echo(json.dumps(result.as_dict()))
        return
    click.echo(f"{cell} hidden {hidden} input {input_size} steps {steps} batch {batch}: {result.executed_schedule}, "
               f"tile {result.tile}, buffer {result.buffer_bytes} bytes ({result.slots} tile slots)")
    click.echo(f"cycles: {result.cycles} (accelerator model: {result.model_cycles}, RTL / model {result.cycles_vs_model:.3f})")
    click.echo("DRAM bytes: " + ", ".join(f"{k} {v}" for k, v in result.dram_bytes.items()))
    click.echo("DRAM bytes, model: " + ", ".join(f"{k} {v}" for k, v in result.model_dram_bytes.items()))
    click.echo("SRAM bytes read: " + ", ".join(f"{k} {v}" for k, v in result.sram_read_bytes.items()))
    click.echo("SRAM bytes written: " + ", ".join(f"{k} {v}" for k, v in result.sram_write_bytes.items()))
    click.echo(f"max |output - fixed-point reference|: {result.max_abs_error_vs_fixed_point_reference:g}; "
               f"vs float {cell}: {result.max_abs_error_vs_float:.2e}")
    click.echo(f"outputs (T, B, H) = {result.outputs.shape}, h_T of sequence 0: {np.array2string(result.outputs[-1, 0, :8], precision=4)} ...")


@rtl.command(context_settings=CONTEXT_SETTINGS)
@click.option("--arch", type=ARCH, default="edge", show_default=True, help="Preset (edge, server) or a TOML/YAML file.")
@_capacity_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def synth(arch: ArchConfig, max_hidden: int, max_input: int, max_steps: int, max_batch: int, as_json: bool) -> None:
    """Synthesize the accelerator with Yosys to generic gates (memories left as macros) and print
    cells and area by block beside the accelerator model's area breakdown."""
    from tsilstm.rtl.synth import synthesize

    report = synthesize(arch, _design(arch, max_hidden, max_input, max_steps, max_batch))
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(f"node {report.node_nm} nm; logic area from Yosys generic cells, memories priced as SRAM macros")
    for block in report.blocks:
        click.echo(f"  {block.name:16s} cells {block.cells:9d}  area {block.area_mm2:9.4f} mm^2")
    click.echo(f"  {'total':16s} {'':15s}  area {report.total_area_mm2:9.4f} mm^2")
    click.echo("model's area_mm2 breakdown: " + ", ".join(f"{k} {v:.4f}" for k, v in report.model_area_mm2.items()))
