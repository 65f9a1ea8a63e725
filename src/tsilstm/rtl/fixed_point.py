"""The fixed-point arithmetic of the generated accelerator, defined once for the hardware generator
and the numpy reference.

Formats (two's complement, ``Qi.f`` = i integer bits, f fraction bits, one sign bit):

* weights: ``weight_bits`` wide with ``weight_bits - 3`` fraction bits (Q2.13 at 16 bits, range +-4);
* activations (x, h, c, gate outputs, activation-function inputs): ``activation_bits`` wide with
  ``activation_bits - 4`` fraction bits (Q3.12 at 16 bits, range +-8);
* accumulators (partial sums, biases): ``accumulator_bits`` wide with
  ``min(w_frac + a_frac, accumulator_bits - 9)`` fraction bits (Q8.23 at 32 bits, range +-256).

A product ``w * a`` is rounded (half up) to the accumulator's fraction bits on its own, and sums
wrap modulo ``2**accumulator_bits``: both make the sum independent of the order the hardware adds
in, so every schedule gives bit-identical results. Conversions to the activation format round half
up and saturate. Sigmoid and tanh are piecewise linear over 128 equal segments of the activation
input range, interpolating between breakpoint values rounded to the activation format
(``pwl_table``): ``y = y[k] + round((y[k+1] - y[k]) * offset / 2**offset_bits)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tsilstm.cells.pointwise import sigmoid
from tsilstm.errors import InvalidParameterError

SUPPORTED_BITS = (8, 16, 32)
"""Widths of weights, activations and accumulators the generator supports (whole bytes, so DRAM
lines pack as numpy arrays)."""
PWL_INDEX_BITS = 7
"""log2 of the number of piecewise-linear segments of sigmoid and tanh (128 segments)."""
WEIGHT_INTEGER_BITS = 2
ACTIVATION_INTEGER_BITS = 3
ACCUMULATOR_INTEGER_BITS = 8


@dataclass(frozen=True)
class FixedFormats:
    """Bit widths and fraction bits of every quantity the accelerator stores."""

    weight_bits: int
    activation_bits: int
    accumulator_bits: int

    def __post_init__(self) -> None:
        for name in ("weight_bits", "activation_bits", "accumulator_bits"):
            if getattr(self, name) not in SUPPORTED_BITS:
                raise InvalidParameterError(name, getattr(self, name), f"the generated accelerator supports {SUPPORTED_BITS}")
        if self.accumulator_bits < self.activation_bits + 8:
            raise InvalidParameterError(
                "accumulator_bits", self.accumulator_bits,
                f"must be at least activation_bits + 8 = {self.activation_bits + 8} (room for sums of products)",
            )
        if self.activation_bits <= PWL_INDEX_BITS:
            raise InvalidParameterError("activation_bits", self.activation_bits, f"must exceed {PWL_INDEX_BITS} (the PWL index)")

    @property
    def weight_frac(self) -> int:
        """Fraction bits of a weight."""
        return self.weight_bits - 1 - WEIGHT_INTEGER_BITS

    @property
    def act_frac(self) -> int:
        """Fraction bits of an activation."""
        return self.activation_bits - 1 - ACTIVATION_INTEGER_BITS

    @property
    def acc_frac(self) -> int:
        """Fraction bits of an accumulator."""
        return min(self.weight_frac + self.act_frac, self.accumulator_bits - 1 - ACCUMULATOR_INTEGER_BITS)

    @property
    def product_shift(self) -> int:
        """Right shift (rounded) of each weight x activation product into the accumulator format."""
        return self.weight_frac + self.act_frac - self.acc_frac

    @property
    def acc_to_act_shift(self) -> int:
        """Right shift (rounded) of an accumulator into the activation format."""
        return self.acc_frac - self.act_frac

    @property
    def pwl_offset_bits(self) -> int:
        """Bits of the position inside one PWL segment."""
        return self.activation_bits - PWL_INDEX_BITS


def round_shift(x: np.ndarray, shift: int) -> np.ndarray:
    """``x / 2**shift`` rounded half up (an arithmetic shift after adding half an LSB); int64."""
    x = np.asarray(x, dtype=np.int64)
    return x if shift == 0 else (x + (1 << (shift - 1))) >> shift


def wrap(x: np.ndarray, bits: int) -> np.ndarray:
    """``x`` modulo ``2**bits`` as a signed ``bits``-bit value (what a register of that width keeps)."""
    x = np.asarray(x, dtype=np.int64)
    half = 1 << (bits - 1)
    return ((x + half) & ((1 << bits) - 1)) - half


def saturate(x: np.ndarray, bits: int) -> np.ndarray:
    """``x`` clamped to the signed ``bits``-bit range."""
    half = 1 << (bits - 1)
    return np.clip(np.asarray(x, dtype=np.int64), -half, half - 1)


def quantize(values: np.ndarray, frac: int, bits: int) -> np.ndarray:
    """Floats to ``bits``-bit fixed point with ``frac`` fraction bits: rounded half up, saturated."""
    scaled = np.floor(np.asarray(values, dtype=np.float64) * (1 << frac) + 0.5)
    half = 1 << (bits - 1)
    return np.clip(scaled, -half, half - 1).astype(np.int64)


def dequantize(values: np.ndarray, frac: int) -> np.ndarray:
    """Fixed point with ``frac`` fraction bits to float64."""
    return np.asarray(values, dtype=np.float64) / (1 << frac)


def pwl_table(fmt: FixedFormats, function: str) -> np.ndarray:
    """The 129 breakpoint values (activation format) of ``function`` (``sigmoid`` or ``tanh``) at
    ``-2**integer_bits + k * segment`` for k = 0..128, rounded half up."""
    reach = 1 << ACTIVATION_INTEGER_BITS
    points = np.linspace(-reach, reach, (1 << PWL_INDEX_BITS) + 1)
    exact = sigmoid(points) if function == "sigmoid" else np.tanh(points)
    return quantize(exact, fmt.act_frac, fmt.activation_bits)


def pwl(fmt: FixedFormats, table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The piecewise-linear function of ``table`` at activation-format inputs ``x``."""
    x = np.asarray(x, dtype=np.int64)
    bits = fmt.pwl_offset_bits
    index = (x >> bits) + (1 << (PWL_INDEX_BITS - 1))
    offset = x & ((1 << bits) - 1)
    y0, y1 = table[index], table[index + 1]
    return y0 + round_shift((y1 - y0) * offset, bits)


def acc_to_act(fmt: FixedFormats, acc: np.ndarray) -> np.ndarray:
    """An accumulator value converted to the activation format (rounded, saturated)."""
    return saturate(round_shift(acc, fmt.acc_to_act_shift), fmt.activation_bits)


def mul_act(fmt: FixedFormats, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The product of two activation-format values in the activation format (rounded, not saturated)."""
    return round_shift(np.asarray(a, dtype=np.int64) * np.asarray(b, dtype=np.int64), fmt.act_frac)


def pwl_max_error(fmt: FixedFormats, function: str) -> float:
    """The largest absolute error of the PWL ``function`` against the exact one over every
    activation-format input (the error the docs report)."""
    half = 1 << (fmt.activation_bits - 1)
    x = np.arange(-half, half, dtype=np.int64)
    approx = dequantize(pwl(fmt, pwl_table(fmt, function), x), fmt.act_frac)
    real = dequantize(x, fmt.act_frac)
    exact = sigmoid(real) if function == "sigmoid" else np.tanh(real)
    return float(np.max(np.abs(approx - exact)))
