"""What a design costs in silicon, independent of the schedule: area (mm^2) and leakage (W) of the
weight and activation buffers, the MAC array and the cell unit, and the energy of one SRAM access
by capacity, banks and node. Figures and sources: ``energy_table`` (45 nm energies and areas) and
``technology`` (node scaling, bit cells, wires, leakage estimates).

SRAM model (CACTI-style, in three parts):

* area = bits x bit-cell area / array efficiency;
* energy of a 64-bit access = the SRAM table at the node (45 and 7 nm published, nodes between
  interpolated: ``energy_table.sram_table_at_node``) at the size of ONE BANK (interpolated in
  log2(size) between its points; below its smallest entry the smallest entry's energy, an upper
  bound, and banks never exceed its largest entry), plus, with more than one bank,
  64 bits carried over an H-tree of half the buffer's side (sqrt(area) / 2) at the node's wire
  energy: an access wakes one bank, not the whole buffer;
* banks (``sram_banks``): ``memory.*_banks`` or, by default, banks of at most
  ``memory.sram_bank_bytes`` (16 KiB), ``memory.sram_bank_width_bits`` (128) wide, and for the
  weight buffer at least as many as deliver the MAC array's read width per cycle side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from tsilstm.accel.energy_table import (
    FLOAT_ADD_UM2,
    FLOAT_MULT_UM2,
    INT_ADD_UM2,
    INT_MULT_UM2,
    SRAM_READ_PJ_PER_64BIT,
    power_law,
    sram_table_at_node,
)
from tsilstm.accel.sram_banks import BankLayout, bank_layout
from tsilstm.accel.technology import (
    LOGIC_LEAKAGE_W_PER_MM2,
    SRAM_LEAKAGE_PW_PER_BIT,
    NodeFigures,
    node_figures,
)
from tsilstm.errors import InvalidParameterError

COMPONENTS = ("weight_buffer", "activation_buffer", "mac_array", "cell_unit", "dram_interface")
"""The parts of a design whose area and leakage (static power) are priced; the DRAM interface is
its PHY and controller (``dram_types``), priced when the config names a ``[dram] type`` or sets
``interface_area_mm2`` / ``interface_static_power_w``."""


@dataclass(frozen=True)
class SramCost:
    """One buffer: its banks, area, leakage, energy per byte accessed, and how it was derived."""

    layout: BankLayout
    area_mm2: float
    leakage_w: float
    pj_per_byte: float
    note: str

    @property
    def capacity_bytes(self) -> int:
        """Bytes of the buffer."""
        return self.layout.capacity_bytes

    @property
    def banks(self) -> int:
        """Banks of the buffer."""
        return self.layout.banks

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary of the banks and the energy per access."""
        return {**self.layout.as_dict(), "pj_per_64bit": self.pj_per_byte * 8}


@dataclass(frozen=True)
class DesignCost:
    """Area (mm^2) and leakage (W) by component (``COMPONENTS``) and the SRAM energies of a design."""

    node_nm: int
    area_mm2: dict[str, float]
    leakage_w: dict[str, float]
    weight_sram: SramCost
    activation_sram: SramCost

    @property
    def total_area_mm2(self) -> float:
        """Area of all components, mm^2."""
        return sum(self.area_mm2.values())

    @property
    def total_leakage_w(self) -> float:
        """Leakage of all components, W."""
        return sum(self.leakage_w.values())

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "node_nm": self.node_nm,
            "area_mm2": self.total_area_mm2,
            "leakage_w": self.total_leakage_w,
            "area_breakdown_mm2": dict(self.area_mm2),
            "leakage_breakdown_w": dict(self.leakage_w),
            "sram_pj_per_64bit": {
                "weight_buffer": self.weight_sram.pj_per_byte * 8, "activation_buffer": self.activation_sram.pj_per_byte * 8,
            },
            "sram_banks": {"weight_buffer": self.weight_sram.as_dict(), "activation_buffer": self.activation_sram.as_dict()},
            "sram_notes": [n for n in (self.weight_sram.note, self.activation_sram.note) if n],
        }


def table_pj_per_64bit(bank_bytes: float, table: tuple[tuple[float, float], ...]) -> tuple[float, str]:
    """(pJ per 64-bit access of a bank of ``bank_bytes``, note): interpolated linearly in log2(size)
    between the table's points; below the smallest the smallest entry (said in the note); above the
    largest an error (banks must be used instead: no extrapolation)."""
    points = sorted(table)
    if bank_bytes <= 0:
        raise InvalidParameterError("buffer_bytes", bank_bytes, "must be > 0")
    if bank_bytes < points[0][0] or len(points) == 1:
        note = "" if bank_bytes == points[0][0] else f"bank of {bank_bytes:.0f} B priced at the table's smallest entry ({points[0][0]:.0f} B)"
        if len(points) == 1:
            note = ""
        return points[0][1], note
    if bank_bytes > points[-1][0] and len(points) > 1:
        raise InvalidParameterError(
            "banks", bank_bytes, f"a bank larger than the SRAM table's largest entry ({points[-1][0]:.0f} B) is not priced; use more banks"
        )
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 <= bank_bytes <= x1:
            share = math.log2(bank_bytes / x0) / math.log2(x1 / x0)
            return y0 + share * (y1 - y0), ""
    raise AssertionError("unreachable: bank within the table")


def sram_cost(
    layout: BankLayout, figures: NodeFigures, *, table: tuple[tuple[float, float], ...] | None,
    array_efficiency: float, leakage_pw_per_bit: float,
) -> SramCost:
    """Area, leakage and energy per byte of a buffer built as ``layout`` at the node of ``figures``.
    ``table`` None: the default tables at the node (``sram_table_at_node``); a table given in the config is
    taken as already at the node, and one of a single point as the flat energy of any access (no
    H-tree added)."""
    table = sram_table_at_node(figures) if table is None else table
    bits = layout.capacity_bytes * 8
    area = bits * figures.bitcell_um2 / array_efficiency / 1e6
    per_64, note = table_pj_per_64bit(layout.bank_bytes, table)
    if layout.banks > 1 and len(table) > 1:
        per_64 += 64 * figures.wire_pj_per_bit_mm * math.sqrt(area) / 2
    leakage = bits * leakage_pw_per_bit * 1e-12
    return SramCost(layout, area, leakage, per_64 / 8, note)


def buffer_layouts(arch) -> tuple[BankLayout, BankLayout]:  # type: ignore[no-untyped-def]
    """The banks of ``arch``'s weight and activation buffers (``sram_banks.bank_layout``): the
    weight buffer at least as wide, over its banks, as the MAC array reads per cycle."""
    common = {"width_bits": arch.sram_bank_width_bits, "max_bank_bytes": arch.sram_bank_bytes, "ports": arch.sram_ports_per_bank}
    weight = bank_layout(
        arch.weight_buffer_bytes, banks=arch.weight_buffer_banks, read_bits_per_cycle=arch.array_read_bits_per_cycle,
        banks_key="memory.weight_buffer_banks", **common,
    )
    activation = bank_layout(
        arch.activation_buffer_bytes, banks=arch.activation_buffer_banks, banks_key="memory.activation_buffer_banks", **common
    )
    return weight, activation


def mac_area_um2(weight_bits: int, activation_bits: int, accumulator_bits: int, arithmetic: str, figures: NodeFigures) -> float:
    """Area of one MAC at the node, um^2: a multiplier at the geometric mean of the widths plus an
    adder at the accumulator width (Horowitz's 45 nm areas by power law, scaled by [SB17])."""
    mult, add = (INT_MULT_UM2, INT_ADD_UM2) if arithmetic == "int" else (FLOAT_MULT_UM2, FLOAT_ADD_UM2)
    width = math.sqrt(weight_bits * activation_bits)
    area_45 = power_law(mult, width, "weight_bits") + power_law(add, accumulator_bits, "accumulator_bits")
    return area_45 * figures.logic_area_scale


@lru_cache(maxsize=256)
def design_cost(arch) -> DesignCost:  # type: ignore[no-untyped-def]
    """The schedule-independent cost of ``arch`` (an ``ArchConfig``): area and leakage by component,
    SRAM energies, the DRAM interface's PHY and controller. The cell unit is priced as ``activation_units`` MAC-sized evaluators (a lookup, a
    multiply and an add each: an estimate)."""
    figures = node_figures(arch.node_nm, arch.vdd_v)
    leak_bit = arch.sram_leakage_pw_per_bit if arch.sram_leakage_pw_per_bit is not None else SRAM_LEAKAGE_PW_PER_BIT[figures.node_nm]
    logic_leak = arch.logic_leakage_w_per_mm2 if arch.logic_leakage_w_per_mm2 is not None else LOGIC_LEAKAGE_W_PER_MM2[figures.node_nm]
    table = None if arch.sram_table == SRAM_READ_PJ_PER_64BIT else arch.sram_table
    common = {"table": table, "array_efficiency": arch.sram_array_efficiency, "leakage_pw_per_bit": leak_bit}
    weight_layout, activation_layout = buffer_layouts(arch)
    weight = sram_cost(weight_layout, figures, **common)
    activation = sram_cost(activation_layout, figures, **common)
    mac = mac_area_um2(arch.weight_bits, arch.activation_bits, arch.accumulator_bits, arch.arithmetic, figures)
    cell = mac_area_um2(arch.activation_bits, arch.activation_bits, arch.accumulator_bits, arch.arithmetic, figures)
    area = {
        "weight_buffer": weight.area_mm2, "activation_buffer": activation.area_mm2,
        "mac_array": arch.mac_units * mac / 1e6, "cell_unit": arch.activation_units * cell / 1e6,
        "dram_interface": arch.dram_interface_area_mm2 or 0.0,
    }
    leakage = {
        "weight_buffer": weight.leakage_w, "activation_buffer": activation.leakage_w,
        "mac_array": area["mac_array"] * logic_leak, "cell_unit": area["cell_unit"] * logic_leak,
        "dram_interface": arch.dram_interface_static_power_w or 0.0,
    }
    return DesignCost(figures.node_nm, area, leakage, weight, activation)
