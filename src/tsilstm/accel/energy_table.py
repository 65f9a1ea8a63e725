"""Default energies per event, each with its source. A config may override any of them.

Two published per-node tables, logic and SRAM apart:

* [H14] M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
  45 nm, 0.9 V (the table of docs/design.md section 5).
* [J21] N. Jouppi et al., "Ten lessons from three generations shaped Google's TPUv4i", ISCA 2021,
  table 2: the same operations at 7 nm. Confirmed with the search tools used here (two
  independent quotations of the table): int8 multiply 0.07 pJ and add 0.007 pJ; fp32 multiply
  1.31 pJ and add 0.38 pJ; SRAM 64-bit reads of 8 KB / 32 KB / 1 MB arrays 7.5 / 8.5 / 14 pJ;
  from one quotation: fp16 multiply 0.34 pJ and add 0.16 pJ. As recalled and NOT confirmed here:
  int32 multiply 1.48 pJ and add 0.03 pJ.

Nodes between 45 and 7 nm interpolate between the two tables (``technology.NodeFigures``). Bit
widths between a table's points are interpolated with a power law through the two nearest points
(multiplier energy grows roughly with the product of the operand widths, adder energy roughly with
the width).
"""

from __future__ import annotations

import math

from tsilstm.accel.technology import NodeFigures
from tsilstm.errors import InvalidParameterError

INT_MULT_PJ = {8: 0.2, 32: 3.1}  # Horowitz ISSCC 2014: 8-bit / 32-bit integer multiply
INT_ADD_PJ = {8: 0.03, 32: 0.1}  # Horowitz ISSCC 2014: 8-bit / 32-bit integer add
FLOAT_MULT_PJ = {16: 1.1, 32: 3.7}  # Horowitz ISSCC 2014: fp16 / fp32 multiply
FLOAT_ADD_PJ = {16: 0.4, 32: 0.9}  # Horowitz ISSCC 2014: fp16 / fp32 add

INT_MULT_PJ_7NM = {8: 0.07, 32: 1.48}  # Jouppi et al. ISCA 2021 table 2: int8 (confirmed) / int32 (recalled, unconfirmed)
INT_ADD_PJ_7NM = {8: 0.007, 32: 0.03}  # Jouppi et al. ISCA 2021 table 2: int8 (confirmed) / int32 (recalled, unconfirmed)
FLOAT_MULT_PJ_7NM = {16: 0.34, 32: 1.31}  # Jouppi et al. ISCA 2021 table 2: fp16 (one quotation) / fp32 (confirmed)
FLOAT_ADD_PJ_7NM = {16: 0.16, 32: 0.38}  # Jouppi et al. ISCA 2021 table 2: fp16 (one quotation) / fp32 (confirmed)

# Areas at 45 nm in um^2, same source (Horowitz ISSCC 2014, as tabulated by Sze et al., "Efficient
# processing of deep neural networks: a tutorial and survey", Proc. IEEE 2017):
INT_MULT_UM2 = {8: 282.0, 32: 3495.0}  # 8-bit / 32-bit integer multiply
INT_ADD_UM2 = {8: 36.0, 32: 137.0}  # 8-bit / 32-bit integer add
FLOAT_MULT_UM2 = {16: 1640.0, 32: 7700.0}  # fp16 / fp32 multiply
FLOAT_ADD_UM2 = {16: 1360.0, 32: 4184.0}  # fp16 / fp32 add

SRAM_READ_PJ_PER_64BIT = ((8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0))
"""(SRAM bytes, pJ per 64-bit read): Horowitz ISSCC 2014, 8 KB / 32 KB / 1 MB arrays. Writes are
counted at the read energy (the table gives reads only; writes of a 6T array are similar)."""
SRAM_READ_PJ_PER_64BIT_7NM = ((8 * 1024, 7.5), (32 * 1024, 8.5), (1024 * 1024, 14.0))
"""(SRAM bytes, pJ per 64-bit read) at 7 nm: Jouppi et al., ISCA 2021, table 2 (confirmed)."""


ACTIVATION_PJ = 1.0
"""Energy of one sigmoid/tanh evaluation by a piecewise-linear unit at 45 nm, in pJ: a segment
lookup in a small table (~0.2 pJ) plus one 16-bit multiply and one 32-bit add (~0.9 pJ, Horowitz
by power law). An estimate, not a measurement; at other nodes scaled as that multiply and add are;
override ``energy.activation_pj`` in the config."""

_TABLES = {
    "int": ((INT_MULT_PJ, INT_MULT_PJ_7NM), (INT_ADD_PJ, INT_ADD_PJ_7NM)),
    "float": ((FLOAT_MULT_PJ, FLOAT_MULT_PJ_7NM), (FLOAT_ADD_PJ, FLOAT_ADD_PJ_7NM)),
}


def power_law(table: dict[int, float], bits: float, name: str) -> float:
    """``table`` (bits -> value, two points) at ``bits`` by the power law through its points."""
    points = sorted(table.items())
    if bits <= 0:
        raise InvalidParameterError(name, bits, "must be > 0 bits")
    (b0, e0), (b1, e1) = points[0], points[-1]
    exponent = math.log(e1 / e0) / math.log(b1 / b0)
    return e0 * (bits / b0) ** exponent


def _logic_pj(tables: tuple[dict[int, float], dict[int, float]], bits: float, name: str, figures: NodeFigures) -> float:
    return figures.logic_pj(power_law(tables[0], bits, name), power_law(tables[1], bits, name))


def _arithmetic_tables(arithmetic: str) -> tuple:
    if arithmetic not in _TABLES:
        raise InvalidParameterError("arithmetic", arithmetic, "one of int, float")
    return _TABLES[arithmetic]


def mac_energy_pj(weight_bits: int, activation_bits: int, accumulator_bits: int, arithmetic: str, figures: NodeFigures) -> float:
    """Energy of one multiply-accumulate in pJ at the node of ``figures``: a ``weight_bits`` x
    ``activation_bits`` multiply (at the geometric mean of the two widths) plus an
    ``accumulator_bits`` add, integer or floating point, each by power law in the width."""
    mult, add = _arithmetic_tables(arithmetic)
    width = math.sqrt(weight_bits * activation_bits)
    return _logic_pj(mult, width, "weight_bits", figures) + _logic_pj(add, accumulator_bits, "accumulator_bits", figures)


def multiply_energy_pj(bits: int, arithmetic: str, figures: NodeFigures) -> float:
    """Energy of one ``bits`` x ``bits`` multiply in pJ at the node (the cell update's element-wise products)."""
    return _logic_pj(_arithmetic_tables(arithmetic)[0], bits, "activation_bits", figures)


def activation_energy_pj(figures: NodeFigures) -> float:
    """Energy of one sigmoid/tanh evaluation at the node, pJ: ``ACTIVATION_PJ`` scaled as its 16-bit
    integer multiply and 32-bit add scale from 45 nm."""
    reference = power_law(INT_MULT_PJ, 16, "bits") + power_law(INT_ADD_PJ, 32, "bits")
    at_node = _logic_pj(_TABLES["int"][0], 16, "bits", figures) + _logic_pj(_TABLES["int"][1], 32, "bits", figures)
    return ACTIVATION_PJ * at_node / reference


def sram_table_at_node(figures: NodeFigures) -> tuple[tuple[float, float], ...]:
    """The (bytes, pJ per 64-bit read) table at the node of ``figures``: each size's 45 and 7 nm
    figures interpolated (the two tables list the same sizes)."""
    return tuple(
        (size, figures.sram_pj(pj45, pj7)) for (size, pj45), (_, pj7) in zip(SRAM_READ_PJ_PER_64BIT, SRAM_READ_PJ_PER_64BIT_7NM)
    )


def key_energies_pj(figures: NodeFigures) -> dict[str, float]:
    """The figures a node is checked by, pJ: int8 and fp32 multiply, int8 add, 8 KB / 1 MB SRAM 64-bit reads."""
    table = dict(sram_table_at_node(figures))
    return {
        "int8_multiply_pj": multiply_energy_pj(8, "int", figures),
        "int8_add_pj": _logic_pj(_TABLES["int"][1], 8, "bits", figures),
        "fp32_multiply_pj": multiply_energy_pj(32, "float", figures),
        "sram_8kb_read_64bit_pj": table[8 * 1024],
        "sram_1mb_read_64bit_pj": table[1024 * 1024],
    }
