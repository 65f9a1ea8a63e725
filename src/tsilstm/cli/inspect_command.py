"""``tsilstm inspect FILE``: list the recurrent layers of a model file and where their W_h fits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from tsilstm.cli.inspect_weights_only import PIPE_WIDTH
from tsilstm.cell_spec import cell_spec
from tsilstm.cli.param_types import CONTEXT_SETTINGS
from tsilstm.hardware import CACHE_SYSFS, cache_sizes_bytes
from tsilstm.importers.onnx_graph import TSILSTM_DOMAIN
from tsilstm.model import RecurrentModel
from tsilstm.units import format_bytes

CACHE_LEVELS = ("L2", "L3")
"""The cache levels a layer's W_h is placed in (smallest first)."""
ACCELERATOR_PRESETS = ("edge", "server")



@click.command(context_settings=CONTEXT_SETTINGS)
@click.argument("model_file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON ({\"layers\": [...]}) instead of a table.")
@click.option("--trust-code", is_flag=True,
              help="Load TorchScript archives, which RUNS THE CODE THEY CONTAIN. Only for files you trust; refused without it.")
@click.option("--architecture", type=click.Path(dir_okay=False), default=None,
              help="TOML or JSON file describing the recurrent layers of a Keras weights-only file (save_weights output).")
def inspect(model_file: str, as_json: bool, trust_code: bool, architecture: str | None) -> None:
    """List the LSTM/GRU layers of MODEL_FILE (ONNX, PyTorch .pt/.pth, Keras .h5): cell, variant,
    directions, sizes, weight bytes, and where one direction's W_h fits (L2 / L3 / DRAM here; weight
    buffer or DRAM on the edge and server accelerator presets). No code from the file runs unless
    --trust-code is given (TorchScript archives only). A Keras weights-only file needs
    --architecture; without it, inspect lists the weight groups it found and prints an example."""
    from tsilstm.errors import ArchitectureNeededError
    from tsilstm.importers import load_models

    try:
        models = load_models(model_file, allow_code=trust_code, architecture=architecture)
    except ArchitectureNeededError:
        from tsilstm.cli.inspect_weights_only import print_weights_only, weights_only_json
        from tsilstm.importers.keras_weights_file import describe_weights_file

        summary = describe_weights_file(model_file)
        if as_json:
            click.echo(weights_only_json(summary))
        else:
            print_weights_only(summary)
        return
    caches = cache_bytes()
    buffers = accelerator_buffers()
    rows = [row for model in models for row in layer_rows(model, caches, buffers)]
    if as_json:
        click.echo(json.dumps({"file": model_file, "cache_bytes": caches, "layers": rows}, indent=2))
        return
    _print_table(model_file, rows, caches, buffers)


def cache_bytes(root: Path = CACHE_SYSFS) -> dict[str, int]:
    """The L2 and L3 cache bytes of this machine (``tsilstm.hardware``, sysfs folder ``root``); a
    level the system does not state is absent."""
    return {level: size for level, size in cache_sizes_bytes(root).items() if level in CACHE_LEVELS}


def accelerator_buffers() -> dict[str, tuple[int, int]]:
    """(weight buffer bytes, bytes per weight) of each accelerator preset, or {} when the
    accelerator model is not installed."""
    try:
        from tsilstm.accel.arch_file import load_arch
    except ImportError:
        return {}
    out = {}
    for name in ACCELERATOR_PRESETS:
        arch = load_arch(name)
        out[name] = (arch.weight_buffer_bytes, arch.weight_bytes)
    return out


def layer_rows(model: RecurrentModel, caches: dict[str, int], buffers: dict[str, tuple[int, int]]) -> list[dict[str, object]]:
    """One JSON-ready row per layer of ``model``: names, cell, variant, directions, sizes, weight
    bytes as stored, one direction's W_h bytes, where it fits here and on each accelerator preset,
    and ``converted``: an ONNX node ``tsilstm convert-onnx`` moved to its custom domain."""
    rows = []
    meta = model.metadata
    for layer in model.layers:
        first = layer.directions[0]
        itemsize = first.w_hh.dtype.itemsize
        arrays = [a for d in layer.directions for a in (d.w_ih, d.w_hh, d.b_ih, d.b_hh, d.w_hr) if a is not None]
        w_hh_bytes = layer.shape.recurrent_weight_bytes(itemsize)
        accel = {
            name: "buffer" if first.w_hh.size * weight_bytes <= buffer_bytes else "DRAM"
            for name, (buffer_bytes, weight_bytes) in buffers.items()
        }
        rows.append({
            "model": model.name, "layer": layer.name, "format": meta.get("format", ""), "cell": layer.cell,
            "variant": layer.variant, "directions": len(layer.directions), "direction": layer.direction,
            "input_size": layer.input_size, "hidden_size": layer.hidden_size, "proj_size": layer.proj_size,
            "weight_bytes": int(sum(a.size * a.dtype.itemsize for a in arrays)),
            "recurrent_weight_bytes": int(w_hh_bytes), "dtype": str(first.w_hh.dtype),
            "fits": fits_in(w_hh_bytes, caches), "accelerators": accel,
            "converted": meta.get("domain") == TSILSTM_DOMAIN,
        })
    return rows


def fits_in(num_bytes: int, caches: dict[str, int]) -> str:
    """The smallest of L2, L3 in ``caches`` that holds ``num_bytes``, else DRAM; ``unknown`` when
    ``caches`` states neither level."""
    known = [level for level in CACHE_LEVELS if level in caches]
    for level in known:
        if num_bytes <= caches[level]:
            return level
    return "DRAM" if known else "unknown"


def _print_table(path: str, rows: list[dict[str, object]], caches: dict[str, int], buffers: dict[str, tuple[int, int]]) -> None:
    console = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)
    here = ", ".join(f"{k} {format_bytes(v)}" for k, v in caches.items()) or "unknown"
    accel = "; ".join(f"{name} buffer {format_bytes(b)} at {8 * w} bit" for name, (b, w) in buffers.items())
    console.print(f"{path}: {len(rows)} recurrent layer(s). Caches here: {here}." + (f" Accelerators: {accel}." if accel else ""))
    table = Table()
    columns = ["layer", "cell", "dir", "input", "hidden", "weights", "W_h", "fits", *buffers]
    for column in columns:
        table.add_column(column, justify="right" if column in ("input", "hidden", "weights", "W_h") else "left")
    for row in rows:
        hidden = f"{row['hidden_size']}" + (f" (proj {row['proj_size']})" if row["proj_size"] else "")
        cell = f"{row['cell']} {row['variant']}" if len(cell_spec(str(row["cell"])).variants) > 1 else str(row["cell"])
        direction = {"bidirectional": "bi", "forward": "fwd", "reverse": "rev"}.get(str(row["direction"]), row["direction"])
        values = [row["layer"], cell, direction, str(row["input_size"]), hidden,
                  format_bytes(row["weight_bytes"]), format_bytes(row["recurrent_weight_bytes"]), row["fits"]]
        values += [row["accelerators"][name] for name in buffers]  # type: ignore[index]
        table.add_row(*[str(v) for v in values])
    console.print(table)
    converted = [str(row["layer"]) for row in rows if row["converted"]]
    if converted:
        console.print(f"Converted by tsilstm convert-onnx (domain {TSILSTM_DOMAIN}, run by tsilstm's kernel through "
                      f"tsilstm.onnx.InferenceSession): {', '.join(converted)}.")
