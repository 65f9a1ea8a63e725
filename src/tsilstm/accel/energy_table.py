"""Default energies per event, each with its source. A config may override any of them.

Reference: M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
45 nm, 0.9 V (the table of docs/design.md section 5). Bit widths between the table's points are
interpolated with a power law through the two nearest points (multiplier energy grows roughly
with the product of the operand widths, adder energy roughly with the width).
"""

from __future__ import annotations

import math

from tsilstm.errors import InvalidParameterError

INT_MULT_PJ = {8: 0.2, 32: 3.1}  # Horowitz ISSCC 2014: 8-bit / 32-bit integer multiply
INT_ADD_PJ = {8: 0.03, 32: 0.1}  # Horowitz ISSCC 2014: 8-bit / 32-bit integer add
FLOAT_MULT_PJ = {16: 1.1, 32: 3.7}  # Horowitz ISSCC 2014: fp16 / fp32 multiply
FLOAT_ADD_PJ = {16: 0.4, 32: 0.9}  # Horowitz ISSCC 2014: fp16 / fp32 add

# Areas at 45 nm in um^2, same source (Horowitz ISSCC 2014, as tabulated by Sze et al., "Efficient
# processing of deep neural networks: a tutorial and survey", Proc. IEEE 2017):
INT_MULT_UM2 = {8: 282.0, 32: 3495.0}  # 8-bit / 32-bit integer multiply
INT_ADD_UM2 = {8: 36.0, 32: 137.0}  # 8-bit / 32-bit integer add
FLOAT_MULT_UM2 = {16: 1640.0, 32: 7700.0}  # fp16 / fp32 multiply
FLOAT_ADD_UM2 = {16: 1360.0, 32: 4184.0}  # fp16 / fp32 add

SRAM_READ_PJ_PER_64BIT = ((8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0))
"""(SRAM bytes, pJ per 64-bit read): Horowitz ISSCC 2014, 8 KB / 32 KB / 1 MB arrays. Writes are
counted at the read energy (the table gives reads only; writes of a 6T array are similar)."""


ACTIVATION_PJ = 1.0
"""Energy of one sigmoid/tanh evaluation by a piecewise-linear unit, in pJ: a segment lookup in a
small table (~0.2 pJ) plus one 16-bit multiply and one 32-bit add (~0.9 pJ, Horowitz by power
law). An estimate, not a measurement; override ``energy.activation_pj`` in the config."""


def power_law(table: dict[int, float], bits: float, name: str) -> float:
    """``table`` (bits -> value, two points) at ``bits`` by the power law through its points."""
    points = sorted(table.items())
    if bits <= 0:
        raise InvalidParameterError(name, bits, "must be > 0 bits")
    (b0, e0), (b1, e1) = points[0], points[-1]
    exponent = math.log(e1 / e0) / math.log(b1 / b0)
    return e0 * (bits / b0) ** exponent


def mac_energy_pj(weight_bits: int, activation_bits: int, accumulator_bits: int, arithmetic: str = "int") -> float:
    """Energy of one multiply-accumulate in pJ: a ``weight_bits`` x ``activation_bits`` multiply plus
    an ``accumulator_bits`` add, from Horowitz's table (integer or floating point), interpolated by
    a power law in the operand width (the multiplier at the geometric mean of the two widths)."""
    if arithmetic == "int":
        mult, add = INT_MULT_PJ, INT_ADD_PJ
    elif arithmetic == "float":
        mult, add = FLOAT_MULT_PJ, FLOAT_ADD_PJ
    else:
        raise InvalidParameterError("arithmetic", arithmetic, "one of int, float")
    width = math.sqrt(weight_bits * activation_bits)
    return power_law(mult, width, "weight_bits") + power_law(add, accumulator_bits, "accumulator_bits")


def multiply_energy_pj(bits: int, arithmetic: str = "int") -> float:
    """Energy of one ``bits`` x ``bits`` multiply in pJ (the cell update's element-wise products)."""
    return power_law(INT_MULT_PJ if arithmetic == "int" else FLOAT_MULT_PJ, bits, "activation_bits")
