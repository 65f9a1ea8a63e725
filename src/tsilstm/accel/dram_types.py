"""Named DRAM interfaces: bandwidth, latency and access energy of one channel (or stack) of each,
and what the interface costs on the accelerator die (PHY and controller area, static power), each
figure with its source or marked as an estimate.

Energy per bit: HBM2 and GDDR5 from O'Connor et al., "Fine-grained DRAM", MICRO 2017 (3.9 and
14 pJ/bit); DDR4 from Jouppi et al., ISCA 2021, table 2 ("DDR3/4: 1300 pJ per 64-bit access",
20.3 pJ/bit; the same table gives HBM2 250-450 pJ per 64 bits, 3.9-7.0 pJ/bit, consistent with
O'Connor's). LPDDR4: no published per-bit figure was confirmed with the tools used here; 8 pJ/bit is
an estimate (a low-swing LVSTL interface, above in-package HBM2 and below terminated DDR4).

Interface area and static power (PHY + memory controller on the accelerator die): estimates, none
confirmed against a published figure here. A PHY is analog and bump-limited, so its area is taken
as the same at every node. HBM2's figure is 8 channels x ~1 mm^2 (the per-channel PHY + controller
area an open chip-cost model uses at 7 nm); a x32 LPDDR4 channel's PHY is a few tenths of the
width of that, a x64 DDR4 channel about twice LPDDR4's. Static power: DLLs, bias and
(for DDR4/GDDR5) termination kept on while the interface is up. Every figure can be overridden
in the config (``[dram] interface_area_mm2``, ``interface_static_power_w``).
"""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.errors import InvalidParameterError


@dataclass(frozen=True)
class DramType:
    """One DRAM interface: peak bandwidth (bytes/s), read latency (ns), energy per bit (pJ/bit), the
    PHY + controller area on the die (mm^2) and its static power (W)."""

    name: str
    bandwidth_bytes_per_s: float
    latency_ns: float
    energy_pj_per_bit: float
    interface_area_mm2: float
    interface_static_power_w: float
    source: str


DRAM_TYPES: dict[str, DramType] = {
    dram.name: dram
    for dram in (
        DramType("lpddr4", 12.8e9, 100.0, 8.0, 2.0, 0.04,
                 "LPDDR4-3200 x32 channel: 3200 MT/s x 4 B (JEDEC JESD209-4); 8 pJ/bit, ~100 ns loaded latency, "
                 "2 mm^2 and 40 mW of PHY + controller: estimates"),
        DramType("ddr4", 25.6e9, 90.0, 20.3, 4.0, 0.15,
                 "DDR4-3200 x64 DIMM channel: 3200 MT/s x 8 B (JEDEC JESD79-4); 20.3 pJ/bit (Jouppi et al., ISCA 2021, "
                 "table 2: DDR3/4 1300 pJ per 64-bit access); 4 mm^2 and 150 mW of PHY + controller: estimates"),
        DramType("gddr5", 32.0e9, 110.0, 14.0, 3.0, 0.3,
                 "GDDR5 x32 device at 8 Gb/s per pin; 14 pJ/bit (O'Connor et al., \"Fine-grained DRAM\", MICRO 2017); "
                 "3 mm^2 and 300 mW of PHY + controller: estimates"),
        DramType("hbm2", 256.0e9, 120.0, 3.9, 8.3, 0.4,
                 "one HBM2 stack: 1024-bit bus x 2 Gb/s per pin (JEDEC JESD235A); 3.9 pJ/bit (O'Connor et al., MICRO 2017); "
                 "8.3 mm^2 (8 channels x ~1.04 mm^2) and 400 mW of PHY + controller: estimates"),
    )
}
"""Every DRAM type by name."""


def get_dram_type(name: str, key: str = "dram") -> DramType:
    """The DRAM type called ``name``; raises ``InvalidParameterError`` naming ``key`` and the choices."""
    if name not in DRAM_TYPES:
        raise InvalidParameterError(key, name, "one of " + ", ".join(DRAM_TYPES))
    return DRAM_TYPES[name]
