"""Options shared by ``tsilstm simulate`` and ``tsilstm sweep``: the accelerator and its overrides."""

from __future__ import annotations

from tsilstm.accel.arch_config import ArchConfig, load_arch
from tsilstm.accel.quantities import parse_quantity
from tsilstm.byte_sizes import parse_bytes


def arch_with_overrides(
    spec: str, *, buffer: str | None = None, bandwidth: str | None = None, tile: int | None = None,
    weight_bits: int | None = None, activation_buffer: str | None = None,
) -> ArchConfig:
    """Load ``spec`` (preset or file) and apply the command-line overrides (each validated, errors
    name the option)."""
    arch = load_arch(spec)
    changes: dict[str, object] = {}
    if buffer is not None:
        changes["weight_buffer_bytes"] = parse_bytes(buffer, "--buffer")
    if activation_buffer is not None:
        changes["activation_buffer_bytes"] = parse_bytes(activation_buffer, "--activation-buffer")
    if bandwidth is not None:
        changes["dram_bandwidth_bytes_per_s"] = parse_quantity("--bandwidth", _number_or_text(bandwidth), "bytes_per_s")
    if tile is not None:
        changes["tile_units"] = tile
    if weight_bits is not None:
        changes["weight_bits"] = weight_bits
    return arch.with_overrides(**changes) if changes else arch


def _number_or_text(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text
