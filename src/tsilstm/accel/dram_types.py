"""Named DRAM technologies for design-space exploration: bandwidth, latency and access energy of one
channel (or stack) of each, with sources. The presets' DRAM figures are the LPDDR4 and HBM2 rows."""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.errors import InvalidParameterError


@dataclass(frozen=True)
class DramType:
    """One DRAM interface: peak bandwidth (bytes/s), read latency (ns), energy per bit (pJ/bit)."""

    name: str
    bandwidth_bytes_per_s: float
    latency_ns: float
    energy_pj_per_bit: float
    source: str


DRAM_TYPES: dict[str, DramType] = {
    dram.name: dram
    for dram in (
        DramType("lpddr4", 12.8e9, 100.0, 8.0,
                 "LPDDR4-3200 x32 channel: 3200 MT/s x 4 B (JEDEC JESD209-4); ~8 pJ/bit incl. interface, ~100 ns loaded latency"),
        DramType("ddr4", 25.6e9, 90.0, 15.0,
                 "DDR4-3200 x64 DIMM channel: 3200 MT/s x 8 B (JEDEC JESD79-4); ~15 pJ/bit (estimate between LPDDR4 and "
                 "GDDR5 of O'Connor et al., MICRO 2017)"),
        DramType("gddr5", 32.0e9, 110.0, 14.0,
                 "GDDR5 x32 device at 8 Gb/s per pin; ~14 pJ/bit (O'Connor et al., \"Fine-grained DRAM\", MICRO 2017)"),
        DramType("hbm2", 256.0e9, 120.0, 3.9,
                 "one HBM2 stack: 1024-bit bus x 2 Gb/s per pin (JEDEC JESD235A); 3.9 pJ/bit (O'Connor et al., MICRO 2017)"),
    )
}
"""Every DRAM type by name."""


def get_dram_type(name: str) -> DramType:
    """The DRAM type called ``name``; raises ``InvalidParameterError`` naming ``dram`` and the choices."""
    if name not in DRAM_TYPES:
        raise InvalidParameterError("dram", name, "one of " + ", ".join(DRAM_TYPES))
    return DRAM_TYPES[name]
