"""The accelerator description (``ArchConfig``): every figure the model uses, with its checks
(bit widths, physical ranges, SRAM tables) and the figures derived from it. Read from files and
presets by ``accel/arch_file.py`` (the file layout is described there)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from tsilstm.accel.energy_table import (
    SRAM_READ_PJ_PER_64BIT,
    activation_energy_pj,
    mac_energy_pj,
    multiply_energy_pj,
)
from tsilstm.accel.dram_types import get_dram_type
from tsilstm.accel.sram_banks import SRAM_BANK_BYTES, SRAM_BANK_WIDTH_BITS, SRAM_PORTS_PER_BANK, bank_layout
from tsilstm.accel.technology import REFERENCE_NODE_NM, SRAM_ARRAY_EFFICIENCY, NodeFigures, node_figures, require_node
from tsilstm.errors import InvalidParameterError

DRAM_TYPE_FIELDS = {
    "dram_bandwidth_bytes_per_s": "bandwidth_bytes_per_s", "dram_latency_ns": "latency_ns", "dram_pj_per_bit": "energy_pj_per_bit",
    "dram_interface_area_mm2": "interface_area_mm2", "dram_interface_static_power_w": "interface_static_power_w",
}
"""Config fields a ``[dram] type`` fills (field -> attribute of ``dram_types.DramType``)."""
BIT_WIDTHS = (8, 16, 32)
"""Weight and activation widths the accelerator model supports, in bits."""
PHYSICAL_RANGES: dict[str, tuple[float, float]] = {
    "clock_hz": (1e3, 1e12),
    "dram_bandwidth_bytes_per_s": (1e3, 1e16),
    "dram_latency_ns": (0.0, 1e9),
    "dram_pj_per_bit": (0.0, 1e6),
    "static_power_w": (0.0, 1e6),
    "activation_pj": (0.0, 1e6),
    "mac_pj": (0.0, 1e6),
    "multiply_pj": (0.0, 1e6),
    "mac_units": (1, 2**40),
    "activation_units": (1, 2**40),
    "weight_buffer_bytes": (1, 2**50),
    "activation_buffer_bytes": (1, 2**50),
    "tile_units": (1, 2**20),
    "sram_bank_bytes": (8, 2**30),
    "sram_bank_width_bits": (8, 4096),
    "sram_ports_per_bank": (1, 4),
    "issue_window": (1, 2**20),
    "sequencer_cycles_per_op": (0, 2**10),
    "dram_port_bytes": (1, 2**16),
    "mac_pipeline_cycles": (0, 2**20),
    "cell_pipeline_cycles": (0, 2**20),
    "prefetch_tiles": (0, 2**20),
    "sram_array_efficiency": (0.05, 1.0),
    "sram_leakage_pw_per_bit": (0.0, 1e6),
    "logic_leakage_w_per_mm2": (0.0, 1e3),
    "dram_interface_area_mm2": (0.0, 1e4),
    "dram_interface_static_power_w": (0.0, 1e3),
}
"""Physically plausible bounds of each quantity (1 kHz..1 THz, 1 kB/s..10 PB/s, ...): within them
every cycle, byte and energy figure the model computes stays finite and no divisor is ~0."""
_ACC_WIDTHS = (16, 24, 32, 48, 64)
SEQUENCER_CYCLES_PER_OP = 1
"""Cycles the sequencer (and the load engine walking the same program) spends on each op by
default: one instruction decoded per cycle, the rate of a simple in-order control unit (and of the
generated accelerator's sequencer)."""
MIN_DRAM_PORT_BYTES = 16
"""Narrowest DRAM data port by default, bytes: 128 bits, a common AXI data width and the narrowest
port the generated accelerator builds (every buffer line of it is a whole number of such
beats)."""


def default_dram_port_bytes(bytes_per_cycle: float) -> int:
    """The default DRAM port width for ``bytes_per_cycle`` of bandwidth, bytes: the narrowest power
    of two, at least ``MIN_DRAM_PORT_BYTES``, that moves a cycle's bytes in one beat."""
    return max(MIN_DRAM_PORT_BYTES, 1 << max(0, math.ceil(math.log2(bytes_per_cycle))))


@dataclass(frozen=True)
class ArchConfig:
    """A validated accelerator description; every quantity carries its unit in its name."""

    name: str
    clock_hz: float
    mac_units: int
    weight_bits: int
    activation_bits: int
    accumulator_bits: int
    activation_units: int
    weight_buffer_bytes: int
    activation_buffer_bytes: int
    dram_bandwidth_bytes_per_s: float
    dram_latency_ns: float
    dram_pj_per_bit: float
    static_power_w: float | None = None
    arithmetic: str = "int"
    mac_pipeline_cycles: int = 8
    cell_pipeline_cycles: int = 8
    issue_window: int = 2
    sequencer_cycles_per_op: int = SEQUENCER_CYCLES_PER_OP
    dram_port_bytes: int | None = None
    tile_units: int = 64
    prefetch_tiles: int = 1
    mac_pj: float | None = None
    multiply_pj: float | None = None
    activation_pj: float | None = None
    sram_table: tuple[tuple[float, float], ...] = SRAM_READ_PJ_PER_64BIT
    weight_buffer_banks: int | None = None
    activation_buffer_banks: int | None = None
    dram_type: str | None = None
    dram_interface_area_mm2: float | None = None
    dram_interface_static_power_w: float | None = None
    sram_bank_bytes: int = SRAM_BANK_BYTES
    sram_bank_width_bits: int = SRAM_BANK_WIDTH_BITS
    sram_ports_per_bank: int = SRAM_PORTS_PER_BANK
    node_nm: int = REFERENCE_NODE_NM
    vdd_v: float | None = None
    sram_array_efficiency: float = SRAM_ARRAY_EFFICIENCY
    sram_leakage_pw_per_bit: float | None = None
    logic_leakage_w_per_mm2: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        _check_fields(self)

    @property
    def weight_bytes(self) -> int:
        """Bytes per weight."""
        return self.weight_bits // 8

    @property
    def activation_bytes(self) -> int:
        """Bytes per activation (x, h, c)."""
        return self.activation_bits // 8

    @property
    def accumulator_bytes(self) -> int:
        """Bytes per partial sum / gate pre-activation."""
        return self.accumulator_bits // 8

    @property
    def array_read_bits_per_cycle(self) -> int:
        """Weight bits the MAC array consumes per cycle: one weight per MAC (a one-step pass of one
        batch column uses every weight of a tile once), ``mac_units x weight_bits``."""
        return self.mac_units * self.weight_bits

    @property
    def dram_bytes_per_cycle(self) -> float:
        """DRAM bandwidth in bytes per clock cycle."""
        return self.dram_bandwidth_bytes_per_s / self.clock_hz

    @property
    def dram_beat_bytes(self) -> int:
        """Bytes of one DRAM beat (the data port's width): ``dram_port_bytes``, or by default the
        narrowest power of two >= ``MIN_DRAM_PORT_BYTES`` that carries a cycle's bandwidth."""
        if self.dram_port_bytes is not None:
            return self.dram_port_bytes
        return default_dram_port_bytes(self.dram_bytes_per_cycle)

    @property
    def dram_latency_cycles(self) -> float:
        """DRAM latency in clock cycles."""
        return self.dram_latency_ns * 1e-9 * self.clock_hz

    @property
    def node(self) -> NodeFigures:
        """The technology figures of this config's node and supply."""
        return node_figures(self.node_nm, self.vdd_v)

    @property
    def mac_energy_pj(self) -> float:
        """Energy per MAC in pJ: the config's ``mac_pj`` or the tables at these bit widths and node."""
        if self.mac_pj is not None:
            return self.mac_pj
        return mac_energy_pj(self.weight_bits, self.activation_bits, self.accumulator_bits, self.arithmetic, self.node)

    @property
    def multiply_energy_pj(self) -> float:
        """Energy per element-wise multiply of the cell update in pJ (activation width) at the node."""
        if self.multiply_pj is not None:
            return self.multiply_pj
        return multiply_energy_pj(self.activation_bits, self.arithmetic, self.node)

    @property
    def activation_energy_pj(self) -> float:
        """Energy per sigmoid/tanh evaluation in pJ: ``activation_pj`` or the default at the node."""
        if self.activation_pj is not None:
            return self.activation_pj
        return activation_energy_pj(self.node)

    def with_overrides(self, **changes: Any) -> "ArchConfig":
        """A copy with fields replaced (validated again), e.g. ``weight_buffer_bytes=2**20``."""
        unknown = sorted(set(changes) - set(asdict(self)))
        if unknown:
            raise InvalidParameterError(unknown[0], changes[unknown[0]], "not a field of the accelerator config")
        return replace(self, **changes)

    def with_dram_type(self, name: str) -> "ArchConfig":
        """A copy whose DRAM is the interface ``name`` of ``dram_types`` (bandwidth, latency, energy
        per bit, interface area and static power)."""
        dram = get_dram_type(name)
        return self.with_overrides(dram_type=dram.name, **{field: getattr(dram, attr) for field, attr in DRAM_TYPE_FIELDS.items()})

    def as_dict(self) -> dict[str, Any]:
        """The config as a JSON-ready dict (field names carry units)."""
        out = asdict(self)
        out["sram_table"] = [list(point) for point in self.sram_table]
        out["mac_energy_pj"] = self.mac_energy_pj
        out["multiply_energy_pj"] = self.multiply_energy_pj
        out["activation_energy_pj"] = self.activation_energy_pj
        return out


def _check_fields(arch: ArchConfig) -> None:
    for key in ("weight_bits", "activation_bits"):
        value = getattr(arch, key)
        if value not in BIT_WIDTHS:
            raise InvalidParameterError(key, value, "one of 8, 16, 32 bits")
    if arch.accumulator_bits not in _ACC_WIDTHS:
        raise InvalidParameterError("accumulator_bits", arch.accumulator_bits, "one of 16, 24, 32, 48, 64 bits")
    if arch.arithmetic not in ("int", "float"):
        raise InvalidParameterError("arithmetic", arch.arithmetic, "one of int, float")
    if arch.arithmetic == "float" and arch.weight_bits == 8:
        raise InvalidParameterError("weight_bits", 8, "float arithmetic needs 16 or 32 bits")
    for key in ("clock_hz", "dram_bandwidth_bytes_per_s"):
        value = getattr(arch, key)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InvalidParameterError(key, value, "must be a finite number > 0")
    for key, (low, high) in PHYSICAL_RANGES.items():
        value = getattr(arch, key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and not low <= value <= high:
            raise InvalidParameterError(
                key, value, f"must be in [{low:g}, {high:g}] (values outside make the model's arithmetic overflow or divide by ~0)"
            )
    for key in ("dram_latency_ns", "dram_pj_per_bit"):
        value = getattr(arch, key)
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise InvalidParameterError(key, value, "must be a finite number >= 0")
    if arch.dram_type is not None:
        get_dram_type(arch.dram_type, "dram_type")
    for key in (
        "mac_pj", "multiply_pj", "static_power_w", "activation_pj", "sram_leakage_pw_per_bit", "logic_leakage_w_per_mm2",
        "dram_interface_area_mm2", "dram_interface_static_power_w",
    ):
        value = getattr(arch, key)
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise InvalidParameterError(key, value, "must be a finite number >= 0")
    for key in (
        "mac_units", "activation_units", "weight_buffer_bytes", "activation_buffer_bytes", "tile_units", "issue_window",
        "sram_bank_bytes", "sram_bank_width_bits", "sram_ports_per_bank",
    ):
        value = getattr(arch, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidParameterError(key, value, "must be an integer >= 1")
    for key in ("weight_buffer_banks", "activation_buffer_banks", "dram_port_bytes"):
        value = getattr(arch, key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise InvalidParameterError(key, value, "must be an integer >= 1")
    node_figures(require_node(arch.node_nm), arch.vdd_v)  # raises naming technology.node_nm / vdd_v
    for key, capacity in (("weight_buffer_banks", arch.weight_buffer_bytes), ("activation_buffer_banks", arch.activation_buffer_bytes)):
        bank_layout(capacity, width_bits=arch.sram_bank_width_bits, max_bank_bytes=arch.sram_bank_bytes,
                    ports=arch.sram_ports_per_bank, banks=getattr(arch, key), banks_key=key)
    for key in ("mac_pipeline_cycles", "cell_pipeline_cycles", "prefetch_tiles", "sequencer_cycles_per_op"):
        value = getattr(arch, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidParameterError(key, value, "must be an integer >= 0")
    if not arch.sram_table:
        raise InvalidParameterError("sram_pj_per_64bit", [], "needs at least one [bytes, pJ] point")
    _check_sram_table(arch.sram_table)


def _check_sram_table(table: tuple[tuple[float, float], ...]) -> None:
    """Sizes strictly increasing (no duplicate rows) and energies not decreasing with the size."""
    points = sorted(table)
    for (size0, pj0), (size1, pj1) in zip(points, points[1:]):
        if size1 == size0:
            raise InvalidParameterError("sram_pj_per_64bit", [list(p) for p in table], f"has two rows for {size0:g} bytes; one row per size")
        if pj1 < pj0:
            raise InvalidParameterError(
                "sram_pj_per_64bit", [list(p) for p in table],
                f"energy falls from {pj0:g} pJ at {size0:g} B to {pj1:g} pJ at {size1:g} B; a larger SRAM never costs less per access",
            )
