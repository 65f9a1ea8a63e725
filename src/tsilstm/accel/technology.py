"""Technology tables: what a node changes in area, energy and leakage, each figure with its source.

Supported nodes: 45, 28 and 7 nm (``NODES_NM``); any other node is an error naming
``technology.node_nm``. The energies of ``energy_table`` (Horowitz, ISSCC 2014) are 45 nm, 0.9 V
figures; other nodes scale them by the ratio of the Stillmaker-Baas energy polynomials.

Sources:

* [SB17] A. Stillmaker, B. Baas, "Scaling equations for the accurate prediction of CMOS device
  performance from 180 nm to 7 nm", Integration 58 (2017) 74-81: per node, an energy polynomial
  E(V) = a V^2 + b V + c (relative units) and area factors between nodes. The paper has no 28 nm
  row: 28 nm is interpolated between its 32 and 20 nm rows, linearly in log(node) on log(value)
  (an interpolation between published points, never an extrapolation).
* [M07] K. Mistry et al. (Intel), "A 45nm logic technology with high-k + metal gate transistors",
  IEDM 2007: 6T SRAM bit cell 0.346 um^2.
* [T28] TSMC 28 nm high-density 6T SRAM bit cell, 0.127 um^2 (the foundry's published HD cell of
  its 28 nm platform, e.g. 28HPM).
* [C17] J. Chang et al. (TSMC), "A 7nm 256Mb SRAM in high-k metal-gate FinFET technology with
  write-assist circuitry for low-VMIN applications", ISSCC 2017: 6T bit cell 0.027 um^2.
* [K11] S. Keckler et al., "GPUs and the future of parallel computing", IEEE Micro 31(5), 2011,
  table 1: moving 256 bits over 10 mm of on-chip wire costs 310 pJ at 40 nm (0.121 pJ/bit/mm) and
  174 pJ at 10 nm (0.068 pJ/bit/mm). 45 nm uses the 40 nm figure, 7 nm the 10 nm figure (the
  nearest published points; wire energy changes little with the node), 28 nm is interpolated.
* Estimates (no published table in this model; every one is a config override): nominal supply
  voltages, the SRAM array efficiency, and the leakage figures. They are labelled ``estimate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tsilstm.errors import InvalidParameterError

NODES_NM = (45, 28, 7)
"""Technology nodes with every figure below, in nm."""
REFERENCE_NODE_NM = 45
REFERENCE_VDD_V = 0.9
"""The node and supply of the default energy tables (Horowitz, ISSCC 2014: 45 nm, 0.9 V)."""

_SB17_ENERGY_POLYNOMIAL = {  # node nm -> (a, b, c) of E(V) = a V^2 + b V + c, relative units [SB17]
    45: (1.103, -0.362, 0.2767),
    32: (0.9559, -0.7823, 0.471),
    20: (0.373, -0.1582, 0.04104),
    7: (0.1776, -0.09097, 0.02447),
}
_SB17_AREA_FROM_45 = {45: 1.0, 32: 0.46, 20: 0.21, 7: 0.059}
"""Area of a logic block at each node relative to 45 nm [SB17, area table, row 45 nm]."""

BITCELL_UM2 = {45: 0.346, 28: 0.127, 7: 0.027}
"""6T SRAM bit-cell area in um^2: 45 nm [M07], 28 nm [T28], 7 nm [C17]."""
BITCELL_SOURCE = {45: "Mistry et al., IEDM 2007", 28: "TSMC 28 nm HD 6T cell", 7: "Chang et al., ISSCC 2017"}

_K11_WIRE_PJ_PER_BIT_MM = {40: 310.0 / 256 / 10, 10: 174.0 / 256 / 10}
"""On-chip wire energy, pJ per bit per mm, at 40 and 10 nm [K11]."""

NOMINAL_VDD_V = {45: 0.9, 28: 0.9, 7: 0.75}
"""Supply used at each node unless ``technology.vdd_v`` is set (estimate: the usual nominal core
supply; 45 nm is the voltage of Horowitz's table)."""
SRAM_ARRAY_EFFICIENCY = 0.7
"""Share of an SRAM macro's area that is bit cells (estimate: typical of CACTI's large arrays; the
rest is decoders, sense amplifiers, drivers and wiring). Override ``technology.sram_array_efficiency``."""
SRAM_LEAKAGE_PW_PER_BIT = {45: 50.0, 28: 30.0, 7: 20.0}
"""SRAM leakage per bit at nominal supply and room temperature, pW (estimate: the order of
magnitude of low-power high-density macros; leakage rises steeply with temperature and with
high-performance devices). Override ``technology.sram_leakage_pw_per_bit``."""
LOGIC_LEAKAGE_W_PER_MM2 = {45: 0.02, 28: 0.02, 7: 0.02}
"""Leakage of logic (MAC array, cell unit) per mm^2 (estimate, low-power process; denser nodes pack
more leaking gates per mm^2 but use better devices). Override ``technology.logic_leakage_w_per_mm2``."""


@dataclass(frozen=True)
class NodeFigures:
    """Every technology figure of one node as used by the model."""

    node_nm: int
    vdd_v: float
    energy_scale: float
    logic_area_scale: float
    bitcell_um2: float
    wire_pj_per_bit_mm: float


def require_node(node_nm: float) -> int:
    """``node_nm`` as an int if it is one of ``NODES_NM``, else an error naming ``technology.node_nm``."""
    if node_nm not in NODES_NM:
        raise InvalidParameterError(
            "technology.node_nm", node_nm, "one of " + ", ".join(f"{n}" for n in NODES_NM) + " nm (the nodes with published tables here)"
        )
    return int(node_nm)


def _log_interpolate(table: dict[int, float], node_nm: float) -> float:
    """``table`` at ``node_nm``: exact at its points, else linear in log(node) on log(value) between
    the two points around it. Outside the table: an error (no extrapolation)."""
    if node_nm in table:
        return table[node_nm]
    nodes = sorted(table)
    if not nodes[0] < node_nm < nodes[-1]:
        raise InvalidParameterError("technology.node_nm", node_nm, f"within {nodes[0]}..{nodes[-1]} nm of the table")
    upper = min(n for n in nodes if n > node_nm)
    lower = max(n for n in nodes if n < node_nm)
    share = math.log(node_nm / lower) / math.log(upper / lower)
    return math.exp(math.log(table[lower]) + share * (math.log(table[upper]) - math.log(table[lower])))


def energy_polynomial(node_nm: int, vdd_v: float) -> float:
    """The [SB17] relative energy at ``node_nm`` and ``vdd_v`` (28 nm interpolated between 32 and 20)."""
    values = {n: a * vdd_v**2 + b * vdd_v + c for n, (a, b, c) in _SB17_ENERGY_POLYNOMIAL.items()}
    if min(values.values()) <= 0:
        raise InvalidParameterError("technology.vdd_v", vdd_v, "outside the range of the scaling polynomials (use 0.5..1.2 V)")
    return _log_interpolate(values, node_nm)


def node_figures(node_nm: int, vdd_v: float | None = None) -> NodeFigures:
    """The figures of ``node_nm`` (one of ``NODES_NM``) at ``vdd_v`` (default: ``NOMINAL_VDD_V``)."""
    node = require_node(node_nm)
    vdd = NOMINAL_VDD_V[node] if vdd_v is None else vdd_v
    if not 0.5 <= vdd <= 1.2:
        raise InvalidParameterError("technology.vdd_v", vdd, "within 0.5..1.2 V (the scaling polynomials' range)")
    scale = energy_polynomial(node, vdd) / energy_polynomial(REFERENCE_NODE_NM, REFERENCE_VDD_V)
    wire = _log_interpolate(_K11_WIRE_PJ_PER_BIT_MM, min(max(node, 10), 40))
    return NodeFigures(node, vdd, scale, _log_interpolate(_SB17_AREA_FROM_45, node), BITCELL_UM2[node], wire)


def sources_table() -> list[dict[str, object]]:
    """Every node's figures with their sources, for reports and ``--json``."""
    rows = []
    for node in NODES_NM:
        figures = node_figures(node)
        rows.append({
            "node_nm": node,
            "vdd_v": figures.vdd_v,
            "vdd_source": "estimate (nominal core supply)",
            "energy_scale_vs_45nm_0v9": figures.energy_scale,
            "energy_scale_source": "Stillmaker & Baas 2017" + (" (28 nm interpolated between 32 and 20 nm)" if node == 28 else ""),
            "logic_area_scale_vs_45nm": figures.logic_area_scale,
            "bitcell_um2": figures.bitcell_um2,
            "bitcell_source": BITCELL_SOURCE[node],
            "wire_pj_per_bit_mm": figures.wire_pj_per_bit_mm,
            "wire_source": "Keckler et al. 2011 (40 nm figure at 45 nm, 10 nm figure at 7 nm, 28 nm interpolated)",
            "sram_leakage_pw_per_bit": SRAM_LEAKAGE_PW_PER_BIT[node],
            "logic_leakage_w_per_mm2": LOGIC_LEAKAGE_W_PER_MM2[node],
            "leakage_source": "estimate (override in [technology])",
        })
    return rows
