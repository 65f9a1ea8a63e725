"""``tsilstm inspect FILE``: list the recurrent layers of a model file and where their W_h fits."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from tsilstm.byte_sizes import format_bytes
from tsilstm.model import RecurrentModel

_SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")  # Linux: one indexN folder per cache
FALLBACK_CACHE_BYTES = {"L2": 1024**2, "L3": 32 * 1024**2}
"""Used only when sysfs is unreadable: 1 MiB L2 per core and a 32 MiB shared L3, typical of current
x86 server parts (e.g. AMD Zen 3/4: 512 KiB-1 MiB L2, 32 MiB L3 per CCD)."""
ACCELERATOR_PRESETS = ("edge", "server")

_PIPE_WIDTH = 120  # columns of tables written to a pipe or file (rich uses 80 otherwise)


@click.command()
@click.argument("model_file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print JSON ({\"layers\": [...]}) instead of a table.")
@click.option("--trust-code", is_flag=True,
              help="Load TorchScript archives, which RUNS THE CODE THEY CONTAIN. Only for files you trust; refused without it.")
def inspect(model_file: str, as_json: bool, trust_code: bool) -> None:
    """List the LSTM/GRU layers of MODEL_FILE (ONNX, PyTorch .pt/.pth, Keras .h5): cell, variant,
    directions, sizes, weight bytes, and where one direction's W_h fits (L2 / L3 / DRAM here; weight
    buffer or DRAM on the edge and server accelerator presets). No code from the file runs unless
    --trust-code is given (TorchScript archives only)."""
    from tsilstm.importers import load_models

    models = load_models(model_file, allow_code=trust_code)
    caches = cache_bytes()
    buffers = accelerator_buffers()
    rows = [row for model in models for row in layer_rows(model, caches, buffers)]
    if as_json:
        click.echo(json.dumps({"file": model_file, "cache_bytes": caches, "layers": rows}, indent=2))
        return
    _print_table(model_file, rows, caches, buffers)


def cache_bytes(root: Path = _SYSFS_CACHE) -> dict[str, int]:
    """L2 and L3 (data or unified) cache bytes of CPU 0 from sysfs, falling back to
    ``FALLBACK_CACHE_BYTES`` for any level that cannot be read."""
    found: dict[str, int] = {}
    for index in sorted(root.glob("index*")) if root.is_dir() else []:
        try:
            if (index / "type").read_text().strip() == "Instruction":
                continue
            level = f"L{(index / 'level').read_text().strip()}"
            text = (index / "size").read_text().strip().upper()
        except OSError:
            continue
        scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
        digits = text[:-1] if text[-1:] in "KMG" else text
        if level in FALLBACK_CACHE_BYTES and digits.isdigit():
            found[level] = int(digits) * scale
    return {level: found.get(level, default) for level, default in FALLBACK_CACHE_BYTES.items()}


def accelerator_buffers() -> dict[str, tuple[int, int]]:
    """(weight buffer bytes, bytes per weight) of each accelerator preset, or {} when the
    accelerator model is not installed."""
    try:
        from tsilstm.accel.arch_config import load_arch
    except ImportError:
        return {}
    out = {}
    for name in ACCELERATOR_PRESETS:
        arch = load_arch(name)
        out[name] = (arch.weight_buffer_bytes, arch.weight_bytes)
    return out


def layer_rows(model: RecurrentModel, caches: dict[str, int], buffers: dict[str, tuple[int, int]]) -> list[dict[str, object]]:
    """One JSON-ready row per layer of ``model``: names, cell, variant, directions, sizes, weight
    bytes as stored, one direction's W_h bytes, where it fits here and on each accelerator preset."""
    rows = []
    meta = model.metadata
    for layer in model.layers:
        first = layer.directions[0]
        itemsize = first.w_hh.dtype.itemsize
        arrays = [a for d in layer.directions for a in (d.w_ih, d.w_hh, d.b_ih, d.b_hh, d.w_hr) if a is not None]
        w_hh_bytes = first.w_hh.size * itemsize + (0 if first.w_hr is None else first.w_hr.size * itemsize)
        direction = meta.get("direction") or ("bidirectional" if layer.bidirectional else "forward")
        accel = {
            name: "buffer" if first.w_hh.size * weight_bytes <= buffer_bytes else "DRAM"
            for name, (buffer_bytes, weight_bytes) in buffers.items()
        }
        rows.append({
            "model": model.name, "layer": layer.name, "format": meta.get("format", ""), "cell": layer.cell,
            "variant": layer.variant, "directions": len(layer.directions), "direction": direction,
            "input_size": layer.input_size, "hidden_size": layer.hidden_size, "proj_size": layer.proj_size,
            "weight_bytes": int(sum(a.size * a.dtype.itemsize for a in arrays)),
            "recurrent_weight_bytes": int(w_hh_bytes), "dtype": str(first.w_hh.dtype),
            "fits": fits_in(w_hh_bytes, caches), "accelerators": accel,
        })
    return rows


def fits_in(num_bytes: int, caches: dict[str, int]) -> str:
    """The smallest of L2, L3 that holds ``num_bytes``, else DRAM."""
    for level in ("L2", "L3"):
        if level in caches and num_bytes <= caches[level]:
            return level
    return "DRAM"


def _print_table(path: str, rows: list[dict[str, object]], caches: dict[str, int], buffers: dict[str, tuple[int, int]]) -> None:
    console = Console(width=None if sys.stdout.isatty() else _PIPE_WIDTH)
    here = ", ".join(f"{k} {format_bytes(v)}" for k, v in caches.items())
    accel = "; ".join(f"{name} buffer {format_bytes(b)} at {8 * w} bit" for name, (b, w) in buffers.items())
    console.print(f"{path}: {len(rows)} recurrent layer(s). Caches here: {here}." + (f" Accelerators: {accel}." if accel else ""))
    table = Table()
    columns = ["layer", "cell", "dir", "input", "hidden", "weights", "W_h", "fits", *buffers]
    for column in columns:
        table.add_column(column, justify="right" if column in ("input", "hidden", "weights", "W_h") else "left")
    for row in rows:
        hidden = f"{row['hidden_size']}" + (f" (proj {row['proj_size']})" if row["proj_size"] else "")
        cell = f"{row['cell']} {row['variant']}" if row["cell"] == "gru" else str(row["cell"])
        direction = {"bidirectional": "bi", "forward": "fwd", "reverse": "rev"}.get(str(row["direction"]), row["direction"])
        values = [row["layer"], cell, direction, str(row["input_size"]), hidden,
                  format_bytes(row["weight_bytes"]), format_bytes(row["recurrent_weight_bytes"]), row["fits"]]
        values += [row["accelerators"][name] for name in buffers]  # type: ignore[index]
        table.add_row(*[str(v) for v in values])
    console.print(table)
