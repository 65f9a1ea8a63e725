"""The accelerator's compute units in Amaranth: the MAC array (one weight line times one input
vector per cycle) and the cell lanes (pointwise gate activations and the state update), used by
``hdl_top.Accelerator``."""

from __future__ import annotations

try:
    from amaranth.hdl import Cat, Elaboratable, Module, Mux, Signal, Value, signed
except ImportError:  # without the rtl extra the module imports; build.py names the missing package before use
    Elaboratable = Value = Module = object  # type: ignore[assignment,misc]

from tsilstm.rtl.hdl_arith import PwlTables, acc_to_act, mul_act, round_shift, saturate, tree_sum, wrap
from tsilstm.rtl.params import DesignParams


class MacArray(Elaboratable):
    """lanes x lanes multipliers and lanes adder trees: ``sums[r] = sum_c round(weights[r, c] *
    acts[c])`` wrapped to the accumulator width (combinational)."""

    def __init__(self, design: DesignParams) -> None:
        self.design = design
        self.weights = Signal(design.weight_line_bits)
        self.acts = Signal(design.act_line_bits)
        self.sums = Signal(design.acc_line_bits)

    def elaborate(self, platform: object) -> Module:
        d = self.design
        m = Module()
        lanes, wb, ab = d.lanes, d.weight_bits, d.activation_bits
        out = []
        for r in range(lanes):
            products = []
            for c in range(lanes):
                w = self.weights[(r * lanes + c) * wb : (r * lanes + c + 1) * wb].as_signed()
                a = self.acts[c * ab : (c + 1) * ab].as_signed()
                products.append(round_shift(w * a, d.formats.product_shift))
            out.append(wrap(tree_sum(products), d.accumulator_bits))
        m.d.comb += self.sums.eq(Cat(*out))
        return m


class CellLanes(Elaboratable):
    """The cell unit's lanes (combinational): each evaluates one sigmoid/tanh per cycle (``y``) on
    the gate selected by ``micro`` (LSTM 0..3: i, f, g, o from the accumulators, 4: tanh(c); GRU 0:
    r, 1: z, 2: n), and forms the new ``c`` and ``h`` from the gate registers ``gates``."""

    def __init__(self, design: DesignParams) -> None:
        self.design = design
        acc, act = design.acc_line_bits, design.act_line_bits
        self.acc_a, self.bias_a, self.acc_b, self.bias_b = Signal(acc), Signal(acc), Signal(acc), Signal(acc)
        self.c_prev, self.h_prev = Signal(act), Signal(act)
        self.gates = Signal(4 * act)
        self.micro = Signal(3)
        self.gru = Signal()
        self.y, self.h, self.c = Signal(act), Signal(act), Signal(act)

    def elaborate(self, platform: object) -> Module:
        d = self.design
        fmt = d.formats
        m = Module()
        tables = PwlTables(fmt)
        acc_bits, act_bits = d.accumulator_bits, d.activation_bits
        gru, micro = self.gru, self.micro
        ys, hs, cs = [], [], []
        for k in range(d.lanes):
            def lane(line: Value, bits: int) -> Value:
                return line[k * bits : (k + 1) * bits].as_signed()

            i_, f_, g_, o_ = (self.gates[(g * d.lanes + k) * act_bits : (g * d.lanes + k + 1) * act_bits].as_signed() for g in range(4))
            sum_a = wrap(lane(self.acc_a, acc_bits) + lane(self.bias_a, acc_bits), acc_bits)
            pre_a = acc_to_act(fmt, sum_a)
            c_new = saturate(mul_act(fmt, f_, lane(self.c_prev, act_bits)) + mul_act(fmt, i_, g_), act_bits)
            hn = wrap(lane(self.acc_b, acc_bits) + lane(self.bias_b, acc_bits), acc_bits)
            n_pre = wrap(sum_a + round_shift(i_ * hn, fmt.act_frac), acc_bits)  # GRU: gate register 0 holds r
            x_in = Mux(gru, Mux(micro == 2, acc_to_act(fmt, n_pre), pre_a), Mux(micro == 4, c_new, pre_a))
            use_tanh = Mux(gru, micro == 2, (micro == 2) | (micro == 4))
            y = Signal(signed(act_bits), name=f"pwl{k}")
            m.d.comb += y.eq(tables.evaluate(x_in, use_tanh))
            h_lstm = saturate(mul_act(fmt, o_, y), act_bits)
            h_gru = saturate(y + mul_act(fmt, f_, lane(self.h_prev, act_bits) - y), act_bits)  # gate register 1 holds z
            ys.append(y)
            hs.append(Mux(gru, h_gru, h_lstm))
            cs.append(c_new)
        m.d.comb += [self.y.eq(Cat(*ys)), self.h.eq(Cat(*hs)), self.c.eq(Cat(*cs))]
        return m
