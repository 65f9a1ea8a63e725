"""Amaranth expressions of fixed_point.py's arithmetic: the same rounding, wrapping, saturation and
piecewise-linear functions, as combinational logic."""

from __future__ import annotations

try:
    from amaranth.hdl import Array, Const, Mux, Value, signed
except ImportError:  # without the rtl extra the module imports; build.py names the missing package before use
    Value = object  # type: ignore[assignment,misc]

from tsilstm.rtl.fixed_point import PWL_INDEX_BITS, FixedFormats, pwl_table


def round_shift(x: Value, shift: int) -> Value:
    """``x / 2**shift`` rounded half up (x signed)."""
    return x if shift == 0 else (x + (1 << (shift - 1))) >> shift


def wrap(x: Value, bits: int) -> Value:
    """The low ``bits`` of ``x`` as a signed value."""
    return x[:bits].as_signed()


def saturate(x: Value, bits: int) -> Value:
    """``x`` clamped to the signed ``bits``-bit range, as a ``bits``-bit signed value."""
    high, low = (1 << (bits - 1)) - 1, -(1 << (bits - 1))
    return Mux(x > high, Const(high, signed(bits)), Mux(x < low, Const(low, signed(bits)), x[:bits].as_signed()))


def tree_sum(terms: list[Value]) -> Value:
    """The sum of ``terms`` as a balanced adder tree."""
    while len(terms) > 1:
        terms = [terms[i] + terms[i + 1] if i + 1 < len(terms) else terms[i] for i in range(0, len(terms), 2)]
    return terms[0]


def acc_to_act(fmt: FixedFormats, acc: Value) -> Value:
    """An accumulator-format value in the activation format (rounded, saturated)."""
    return saturate(round_shift(acc, fmt.acc_to_act_shift), fmt.activation_bits)


def mul_act(fmt: FixedFormats, a: Value, b: Value) -> Value:
    """The activation-format product of two activation-format values (rounded)."""
    return round_shift(a * b, fmt.act_frac)


class PwlTables:
    """The sigmoid and tanh breakpoint tables as ROMs (shared by the lanes that evaluate them)."""

    def __init__(self, fmt: FixedFormats) -> None:
        self.fmt = fmt
        self.sigmoid = Array(Const(int(v), signed(fmt.activation_bits)) for v in pwl_table(fmt, "sigmoid"))
        self.tanh = Array(Const(int(v), signed(fmt.activation_bits)) for v in pwl_table(fmt, "tanh"))

    def evaluate(self, x: Value, use_tanh: Value) -> Value:
        """tanh(x) when ``use_tanh`` else sigmoid(x), for an activation-format ``x``."""
        bits = self.fmt.pwl_offset_bits
        index = (x[bits:].as_signed() + (1 << (PWL_INDEX_BITS - 1)))[:PWL_INDEX_BITS]
        offset = x[:bits]
        y0 = Mux(use_tanh, self.tanh[index], self.sigmoid[index])
        y1 = Mux(use_tanh, self.tanh[index + 1], self.sigmoid[index + 1])
        return (y0 + round_shift((y1 - y0) * offset, bits))[: self.fmt.activation_bits].as_signed()
