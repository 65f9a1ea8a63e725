"""Technology tables: what a node changes in area, energy and leakage, each figure with its source.

Supported nodes: 45, 32, 28, 22, 16, 14, 10 and 7 nm (``NODES_NM``); any other node is an error
naming ``technology.node_nm``.

Energies come from two published per-node tables, logic and SRAM apart (``energy_table``): Horowitz
(ISSCC 2014) at 45 nm and Jouppi et al. (ISCA 2021) at 7 nm. At those two nodes the model uses the
tables as published. Between them no per-operation table was found (and none was confirmed with
the tools used here), so a node's figure is interpolated between the two tables in log(energy):

* logic (adds, multiplies, the activation unit): at the node's place along the energy curve of
  Stillmaker and Baas [SB17] from 45 to 7 nm, ``logic_share`` = log(E(node)/E(45)) / log(E(7)/E(45)),
  E the [SB17] energy polynomial at the node's nominal supply (28 and 22 nm between its 32 and
  20 nm rows). [SB17] alone, applied to Horowitz's 45 nm table, would put 7 nm logic 5-10x below
  Jouppi's table (its devices, not a whole design's wires and clocking); the anchors keep both
  published tables.
* SRAM: linear in log(node) (``sram_share`` = log(node/45) / log(7/45)): SRAM access energy is bit
  lines and wires, which do not follow a logic polynomial.

A supply other than the nominal (``technology.vdd_v``) scales both by the [SB17] polynomial's ratio.

Sources:

* [SB17] A. Stillmaker, B. Baas, "Scaling equations for the accurate prediction of CMOS device
  performance from 180 nm to 7 nm", Integration 58 (2017) 74-81: per node, an energy polynomial
  E(V) = a V^2 + b V + c (relative units, high-performance rows) and area factors between nodes.
  The paper has no 28 or 22 nm row: they are interpolated between its 32 and 20 nm rows, linearly
  in log(node) on log(value).
* 6T SRAM bit cells (high-density cells of published logic processes): 45 nm 0.346 um^2 (Mistry et
  al., Intel, IEDM 2007); 32 nm 0.171 um^2 (Natarajan et al., Intel, IEDM 2008); 28 nm 0.127 um^2
  (TSMC's 28 nm HD cell); 22 nm 0.092 um^2 (Auth et al., Intel, VLSI 2012); 16 nm 0.070 um^2 (Wu et
  al., TSMC, IEDM 2013); 14 nm 0.0588 um^2 (Natarajan et al., Intel, IEDM 2014); 10 nm 0.0312 um^2
  (Auth et al., Intel, IEDM 2017); 7 nm 0.027 um^2 (Chang et al., TSMC, ISSCC 2017). The 32, 22, 16,
  14 and 10 nm figures are as recalled from those papers and were not confirmed with the tools used
  here.
* [K11] S. Keckler et al., "GPUs and the future of parallel computing", IEEE Micro 31(5), 2011,
  table 1: moving 256 bits over 10 mm of on-chip wire costs 310 pJ at 40 nm (0.121 pJ/bit/mm) and
  174 pJ at 10 nm (0.068 pJ/bit/mm). 45 nm uses the 40 nm figure, 7 nm the 10 nm figure (the
  nearest published points; wire energy changes little with the node), nodes between interpolated.
* Estimates (no published table in this model; every one is a config override): nominal supply
  voltages, the SRAM array efficiency, and the leakage figures. They are labelled ``estimate``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tsilstm.errors import InvalidParameterError

NODES_NM = (45, 32, 28, 22, 16, 14, 10, 7)
"""Technology nodes with every figure below, in nm."""
REFERENCE_NODE_NM = 45
REFERENCE_VDD_V = 0.9
"""The node and supply of the 45 nm energy table (Horowitz, ISSCC 2014: 45 nm, 0.9 V)."""
TABLE_NODES_NM = (45, 7)
"""The nodes with a published per-operation energy table (Horowitz 2014; Jouppi et al. 2021)."""

_SB17_ENERGY_POLYNOMIAL = {  # node nm -> (a, b, c) of E(V) = a V^2 + b V + c, relative units [SB17, HP rows]
    45: (1.018, -0.3107, 0.1539),
    32: (0.8367, -0.4341, 0.1701),
    20: (0.373, -0.1582, 0.04104),
    16: (0.2958, -0.1241, 0.03024),
    14: (0.2363, -0.09675, 0.02239),
    10: (0.2068, -0.09311, 0.02375),
    7: (0.1776, -0.09097, 0.02447),
}
_SB17_AREA_FROM_45 = {45: 1.0, 32: 0.46, 20: 0.21, 16: 0.19, 14: 0.17, 10: 0.1, 7: 0.059}
"""Area of a logic block at each node relative to 45 nm [SB17, area table, row 45 nm]."""

BITCELL_UM2 = {45: 0.346, 32: 0.171, 28: 0.127, 22: 0.092, 16: 0.070, 14: 0.0588, 10: 0.0312, 7: 0.027}
"""6T SRAM bit-cell area in um^2 (sources in the module doc; 32/22/16/14/10 nm as recalled, unconfirmed)."""
BITCELL_SOURCE = {
    45: "Mistry et al. (Intel), IEDM 2007", 32: "Natarajan et al. (Intel), IEDM 2008 (recalled, unconfirmed)",
    28: "TSMC 28 nm HD 6T cell", 22: "Auth et al. (Intel), VLSI 2012 (recalled, unconfirmed)",
    16: "Wu et al. (TSMC), IEDM 2013 (recalled, unconfirmed)", 14: "Natarajan et al. (Intel), IEDM 2014 (recalled, unconfirmed)",
    10: "Auth et al. (Intel), IEDM 2017 (recalled, unconfirmed)", 7: "Chang et al. (TSMC), ISSCC 2017",
}

_K11_WIRE_PJ_PER_BIT_MM = {40: 310.0 / 256 / 10, 10: 174.0 / 256 / 10}
"""On-chip wire energy, pJ per bit per mm, at 40 and 10 nm [K11]."""

NOMINAL_VDD_V = {45: 0.9, 32: 0.9, 28: 0.9, 22: 0.85, 16: 0.8, 14: 0.8, 10: 0.75, 7: 0.75}
"""Supply used at each node unless ``technology.vdd_v`` is set (estimate: the usual nominal core
supply; 45 nm is the voltage of Horowitz's table)."""
SRAM_ARRAY_EFFICIENCY = 0.7
"""Share of an SRAM macro's area that is bit cells (estimate: typical of CACTI's large arrays; the
rest is decoders, sense amplifiers, drivers and wiring). Override ``technology.sram_array_efficiency``."""
SRAM_LEAKAGE_PW_PER_BIT = {45: 50.0, 32: 40.0, 28: 30.0, 22: 30.0, 16: 25.0, 14: 25.0, 10: 20.0, 7: 20.0}
"""SRAM leakage per bit at nominal supply and room temperature, pW (estimate: the order of
magnitude of low-power high-density macros; leakage rises steeply with temperature and with
high-performance devices). Override ``technology.sram_leakage_pw_per_bit``."""
LOGIC_LEAKAGE_W_PER_MM2 = dict.fromkeys(NODES_NM, 0.02)
"""Leakage of logic (MAC array, cell unit) per mm^2 (estimate, low-power process; denser nodes pack
more leaking gates per mm^2 but use better devices). Override ``technology.logic_leakage_w_per_mm2``."""


@dataclass(frozen=True)
class NodeFigures:
    """Every technology figure of one node as used by the model: where the node lies between the
    45 and 7 nm energy tables (``logic_share``, ``sram_share``: 0 at 45 nm, 1 at 7 nm), the factor
    of a supply other than nominal, areas and wire energy."""

    node_nm: int
    vdd_v: float
    logic_share: float
    sram_share: float
    vdd_factor: float
    logic_area_scale: float
    bitcell_um2: float
    wire_pj_per_bit_mm: float

    def logic_pj(self, at_45nm_pj: float, at_7nm_pj: float) -> float:
        """A logic energy at this node and supply, pJ, from its values in the 45 and 7 nm tables."""
        return at_45nm_pj * (at_7nm_pj / at_45nm_pj) ** self.logic_share * self.vdd_factor

    def sram_pj(self, at_45nm_pj: float, at_7nm_pj: float) -> float:
        """An SRAM access energy at this node and supply, pJ, from its values in the 45 and 7 nm tables."""
        return at_45nm_pj * (at_7nm_pj / at_45nm_pj) ** self.sram_share * self.vdd_factor


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
    """The [SB17] relative energy at ``node_nm`` and ``vdd_v`` (28 and 22 nm interpolated between 32 and 20)."""
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
    nominal = {n: energy_polynomial(n, NOMINAL_VDD_V[n]) for n in (node, *TABLE_NODES_NM)}
    logic_share = math.log(nominal[node] / nominal[45]) / math.log(nominal[7] / nominal[45])
    sram_share = math.log(node / 45) / math.log(7 / 45)
    vdd_factor = energy_polynomial(node, vdd) / nominal[node]
    wire = _log_interpolate(_K11_WIRE_PJ_PER_BIT_MM, min(max(node, 10), 40))
    return NodeFigures(
        node, vdd, logic_share, sram_share, vdd_factor, _log_interpolate(_SB17_AREA_FROM_45, node), BITCELL_UM2[node], wire
    )


def sources_table() -> list[dict[str, object]]:
    """Every node's figures with their sources, for reports and ``--json``."""
    rows = []
    for node in NODES_NM:
        figures = node_figures(node)
        rows.append({
            "node_nm": node,
            "vdd_v": figures.vdd_v,
            "vdd_source": "estimate (nominal core supply)",
            "logic_share_45_to_7nm": figures.logic_share,
            "sram_share_45_to_7nm": figures.sram_share,
            "energy_source": (
                "Horowitz, ISSCC 2014 (45 nm table)" if node == 45 else "Jouppi et al., ISCA 2021, table 2 (7 nm)" if node == 7
                else "interpolated between the 45 and 7 nm tables (logic along Stillmaker & Baas 2017, SRAM in log(node))"
            ),
            "logic_area_scale_vs_45nm": figures.logic_area_scale,
            "bitcell_um2": figures.bitcell_um2,
            "bitcell_source": BITCELL_SOURCE[node],
            "wire_pj_per_bit_mm": figures.wire_pj_per_bit_mm,
            "wire_source": "Keckler et al. 2011 (40 nm figure at 45 nm, 10 nm figure at 10 and 7 nm, between interpolated)",
            "sram_leakage_pw_per_bit": SRAM_LEAKAGE_PW_PER_BIT[node],
            "logic_leakage_w_per_mm2": LOGIC_LEAKAGE_W_PER_MM2[node],
            "leakage_source": "estimate (override in [technology])",
        })
    return rows
