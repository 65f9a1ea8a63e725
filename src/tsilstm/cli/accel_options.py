"""Options shared by ``tsilstm simulate`` and ``tsilstm sweep``: the accelerator and its overrides."""

from __future__ import annotations

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.units import parse_bytes, parse_quantity


def arch_with_overrides(
    arch: ArchConfig, *, buffer: int | str | None = None, bandwidth: float | str | None = None, tile: int | None = None,
    weight_bits: int | None = None, activation_buffer: int | str | None = None,
) -> ArchConfig:
    """``arch`` with the command-line overrides applied: ``buffer`` and
    ``activation_buffer`` in bytes, ``bandwidth`` in bytes/s (numbers, or strings with a unit as in
    ``tsilstm.units``); each is validated and an error names the option."""
    changes: dict[str, object] = {}
    if buffer is not None:
        changes["weight_buffer_bytes"] = parse_bytes(buffer, "--buffer")
    if activation_buffer is not None:
        changes["activation_buffer_bytes"] = parse_bytes(activation_buffer, "--activation-buffer")
    if bandwidth is not None:
        changes["dram_bandwidth_bytes_per_s"] = parse_quantity("--bandwidth", bandwidth, "bytes_per_s")
    if tile is not None:
        changes["tile_units"] = tile
    if weight_bits is not None:
        changes["weight_bits"] = weight_bits
    return arch.with_overrides(**changes) if changes else arch
