"""The accelerator in Amaranth: program memory, sequencer, load engine, DRAM read/write ports, the
MAC array with its accumulator buffer, the cell unit and the on-chip buffers (see isa.py for the
ops and params.py for the sizes). ``Accelerator(design).ports()`` lists the top-level ports in the
order the Verilog and the testbench use."""

from __future__ import annotations

try:
    from amaranth.hdl import Cat, Elaboratable, Module, Mux, Signal, Value, signed
    from amaranth.lib.fifo import SyncFIFOBuffered
    from amaranth.lib.memory import Memory
except ImportError:  # without the rtl extra the module imports; build.py names the missing package before use
    Elaboratable = Value = Module = Memory = object  # type: ignore[assignment,misc]

from tsilstm.cell_spec import GRU_SPEC, LSTM_SPEC
from tsilstm.rtl.hdl_arith import wrap
from tsilstm.rtl.hdl_units import CellLanes, MacArray
from tsilstm.rtl.isa import FETCH_BIAS, FIELDS, OPCODES, WORD_BITS
from tsilstm.rtl.params import DesignParams
from tsilstm.rtl.reference import ACC_GATES

COUNTERS = (
    "weight_buffer_reads", "weight_buffer_writes", "input_buffer_reads", "input_buffer_writes",
    "h_buffer_reads", "h_buffer_writes", "c_buffer_reads", "c_buffer_writes",
    "acc_buffer_reads", "acc_buffer_writes", "bias_buffer_reads", "bias_buffer_writes",
)
"""Line accesses the design counts per on-chip buffer (simulation statistics, ``counters=True``)."""
COUNTER_BITS = 48
MAX_SLOTS = 1 << FIELDS["slot"].width


def field(word: Value, name: str) -> Value:
    """The bits of field ``name`` of an instruction word."""
    offset, width = FIELDS[name]
    return word[offset : offset + width]


class Accelerator(Elaboratable):
    """The generated accelerator for ``design``; with ``counters`` it counts buffer line accesses."""

    def __init__(self, design: DesignParams, *, counters: bool = True) -> None:
        self.design = design
        self.counters = counters
        beat = design.beat_bits
        self.prog_we = Signal()
        self.prog_addr = Signal(range(design.program_words))
        self.prog_data = Signal(WORD_BITS)
        self.start = Signal()
        self.done = Signal()
        self.rd_req_valid = Signal()
        self.rd_req_ready = Signal()
        self.rd_req_addr = Signal(32)
        self.rd_req_tag = Signal()
        self.rd_rsp_valid = Signal()
        self.rd_rsp_data = Signal(beat)
        self.rd_rsp_tag = Signal()
        self.wr_valid = Signal()
        self.wr_ready = Signal()
        self.wr_addr = Signal(32)
        self.wr_data = Signal(beat)
        self.count = {name: Signal(COUNTER_BITS, name=f"cnt_{name}") for name in COUNTERS} if counters else {}

    def ports(self) -> list[Signal]:
        """Every top-level port."""
        return [
            self.prog_we, self.prog_addr, self.prog_data, self.start, self.done, self.rd_req_valid, self.rd_req_ready,
            self.rd_req_addr, self.rd_req_tag, self.rd_rsp_valid, self.rd_rsp_data, self.rd_rsp_tag, self.wr_valid,
            self.wr_ready, self.wr_addr, self.wr_data, *self.count.values(),
        ]

    def _bump(self, m: Module, name: str, condition: Value, amount: Value | int = 1) -> None:
        if self.counters:
            with m.If(condition):
                m.d.sync += self.count[name].eq(self.count[name] + amount)

    def elaborate(self, platform: object) -> Module:  # noqa: C901 - one design, read top to bottom
        d = self.design
        m = Module()
        lanes, hc_max, vectors = d.lanes, d.hidden_chunks, d.vectors
        beat = d.beat_bits
        beats_wline = d.weight_line_bits // beat
        beats_aline = d.act_line_bits // beat
        beats_accline = d.acc_line_bits // beat

        # -- memories -------------------------------------------------------------------------
        def memory(name: str, width: int, depth: int) -> Memory:
            mem = Memory(shape=width, depth=depth, init=[])
            m.submodules[name] = mem
            return mem

        prog = memory("program_memory", WORD_BITS, d.program_words)
        wbuf = memory("weight_buffer", d.weight_line_bits, d.weight_lines)
        ibuf = memory("input_buffer", d.act_line_bits, d.input_lines)
        hbuf = memory("h_buffer", d.act_line_bits, d.h_lines)
        cbuf = memory("c_buffer", d.act_line_bits, d.c_lines)
        abuf = memory("acc_buffer", d.acc_line_bits, d.acc_lines)
        bbuf = memory("bias_buffer", d.acc_line_bits, d.bias_lines)
        prog_w = prog.write_port()
        m.d.comb += [prog_w.addr.eq(self.prog_addr), prog_w.data.eq(self.prog_data), prog_w.en.eq(self.prog_we)]
        exec_r, load_r = prog.read_port(), prog.read_port()
        wbuf_w, wbuf_r = wbuf.write_port(), wbuf.read_port()
        ibuf_w, ibuf_r = ibuf.write_port(), ibuf.read_port()
        hbuf_w, hbuf_r, hbuf_prev = hbuf.write_port(), hbuf.read_port(), hbuf.read_port(domain="comb")
        cbuf_w, cbuf_r = cbuf.write_port(), cbuf.read_port(domain="comb")
        abuf_w, abuf_rmw = abuf.write_port(), abuf.read_port(domain="comb")
        abuf_ca, abuf_cb = abuf.read_port(domain="comb"), abuf.read_port(domain="comb")
        bbuf_w, bbuf_ca, bbuf_cb = bbuf.write_port(), bbuf.read_port(domain="comb"), bbuf.read_port(domain="comb")

        # -- shared state ---------------------------------------------------------------------
        slot_valid = Signal(MAX_SLOTS)
        slot_busy = Signal(MAX_SLOTS)
        done_bits = Signal(d.max_steps * hc_max)
        batch = Signal(8)
        gru = Signal()
        hidden_chunks = Signal(8)
        out_base = Signal(32)

        # -- DRAM read port: two requesters, responses routed by tag --------------------------
        wreq_valid, wreq_addr = Signal(), Signal(32)
        areq_valid, areq_addr = Signal(), Signal(32)
        m.d.comb += [
            self.rd_req_valid.eq(wreq_valid | areq_valid),
            self.rd_req_addr.eq(Mux(areq_valid, areq_addr, wreq_addr)),
            self.rd_req_tag.eq(areq_valid),
        ]
        a_granted = areq_valid & self.rd_req_ready
        w_granted = wreq_valid & ~areq_valid & self.rd_req_ready
        w_rsp = self.rd_rsp_valid & ~self.rd_rsp_tag
        a_rsp = self.rd_rsp_valid & self.rd_rsp_tag

        # -- load engine: runs ahead over the program, one word per cycle, issuing the loads -----
        m.submodules.load_jobs = jobs = SyncFIFOBuffered(width=8 + 16 + 16, depth=4)
        lpc = Signal(range(d.program_words))
        l_word = load_r.data
        req_left = Signal(32)
        l_advance = Signal()  # the word in DECODE is done: the next one is read now, decoded next cycle
        m.d.comb += load_r.addr.eq(Mux(l_advance, lpc + 1, lpc))
        with m.If(l_advance):
            m.d.sync += lpc.eq(lpc + 1)
        with m.FSM(name="load_engine"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += lpc.eq(0)
                    m.next = "FETCH"
            with m.State("FETCH"):
                m.next = "DECODE"
            with m.State("DECODE"):
                op = field(l_word, "op")
                slot = field(l_word, "slot")
                with m.If(op == OPCODES["end"]):
                    m.next = "IDLE"
                with m.Elif(op == OPCODES["load"]):
                    with m.If(~slot_busy.bit_select(slot, 1) & jobs.w_rdy):
                        m.d.comb += [jobs.w_en.eq(1), jobs.w_data.eq(Cat(slot, field(l_word, "line_base"), field(l_word, "n_lines")))]
                        m.d.sync += [
                            slot_busy.bit_select(slot, 1).eq(1),
                            wreq_addr.eq(field(l_word, "dram_addr")),
                            req_left.eq(field(l_word, "n_lines") * beats_wline),
                        ]
                        m.next = "REQUEST"
                with m.Else():
                    m.d.comb += l_advance.eq(1)
            with m.State("REQUEST"):
                m.d.comb += wreq_valid.eq(1)
                with m.If(w_granted):
                    m.d.sync += [wreq_addr.eq(wreq_addr + 1), req_left.eq(req_left - 1)]
                    with m.If(req_left == 1):
                        m.d.comb += l_advance.eq(1)
                        m.next = "DECODE"
        job_slot, job_base, job_lines = jobs.r_data[:8], jobs.r_data[8:24], jobs.r_data[24:40]
        w_line_off = Signal(16)
        w_beats = Signal(range(max(beats_wline, 2)))
        w_shift = Signal(d.weight_line_bits)
        w_full = Cat(w_shift[beat:], self.rd_rsp_data)
        with m.If(w_rsp):
            m.d.sync += w_shift.eq(w_full)
            if beats_wline > 1:
                m.d.sync += w_beats.eq(w_beats + 1)
            with m.If(w_beats == beats_wline - 1):
                m.d.sync += w_beats.eq(0)
                m.d.comb += [wbuf_w.addr.eq(job_base + w_line_off), wbuf_w.data.eq(w_full), wbuf_w.en.eq(1)]
                self._bump(m, "weight_buffer_writes", 1)
                with m.If(w_line_off == job_lines - 1):
                    m.d.sync += [w_line_off.eq(0), slot_valid.bit_select(job_slot, 1).eq(1)]
                    m.d.comb += jobs.r_en.eq(1)
                with m.Else():
                    m.d.sync += w_line_off.eq(w_line_off + 1)

        # -- activation reader: fetches of inputs and biases ----------------------------------
        a_busy = Signal()
        a_target = Signal(2)
        a_req_left = Signal(32)
        a_lines_left = Signal(32)
        a_row_base = Signal(16)
        a_inner = Signal(16)
        a_inner_n = Signal(16)
        a_stride = Signal(16)
        a_beats = Signal(range(max(beats_accline, 2)))
        a_shift = Signal(d.acc_line_bits)
        a_full = Cat(a_shift[beat:], self.rd_rsp_data)
        a_line_beats = Mux(a_target == FETCH_BIAS, beats_accline, beats_aline)
        m.d.comb += areq_valid.eq(a_busy & (a_req_left != 0))
        with m.If(a_granted):
            m.d.sync += [areq_addr.eq(areq_addr + 1), a_req_left.eq(a_req_left - 1)]
        a_addr = a_row_base + a_inner
        with m.If(a_rsp):
            m.d.sync += [a_shift.eq(a_full), a_beats.eq(a_beats + 1)]
            with m.If(a_beats == a_line_beats - 1):
                m.d.sync += [a_beats.eq(0), a_lines_left.eq(a_lines_left - 1)]
                with m.If(a_target == FETCH_BIAS):
                    m.d.comb += [bbuf_w.addr.eq(a_addr), bbuf_w.data.eq(a_full), bbuf_w.en.eq(1)]
                    self._bump(m, "bias_buffer_writes", 1)
                with m.Else():
                    m.d.comb += [ibuf_w.addr.eq(a_addr), ibuf_w.data.eq(a_full[d.acc_line_bits - d.act_line_bits :]), ibuf_w.en.eq(1)]
                    self._bump(m, "input_buffer_writes", 1)
                with m.If(a_inner == a_inner_n - 1):
                    m.d.sync += [a_inner.eq(0), a_row_base.eq(a_row_base + a_stride)]
                with m.Else():
                    m.d.sync += a_inner.eq(a_inner + 1)
                with m.If(a_lines_left == 1):
                    m.d.sync += a_busy.eq(0)

        # -- MAC array: issue, pipeline, accumulate -------------------------------------------
        u_active = Signal()
        u_src_h = Signal()
        u_row_chunk, u_row_chunks, u_col_chunk, u_col_chunks = Signal(8), Signal(8), Signal(8), Signal(8)
        u_first_shared, u_first_own = Signal(), Signal()
        u_v_first, u_v_last = Signal(16), Signal(16)
        u_g, u_ur, u_cc, u_v = Signal(3), Signal(8), Signal(8), Signal(16)
        u_wrow = Signal(16)
        gates = Mux(gru, GRU_SPEC.gates, LSTM_SPEC.gates)
        acc_gate = Mux(gru & (u_g == 2), Mux(u_src_h, 3, 2), u_g)
        issue_first = Mux(gru & (u_g == 2), u_first_own, u_first_shared)
        m.d.comb += [
            wbuf_r.addr.eq(u_wrow + u_cc),
            ibuf_r.addr.eq((u_col_chunk + u_cc) * vectors + u_v),
            hbuf_r.addr.eq(u_v * hc_max + u_col_chunk + u_cc),
        ]
        depth = d.mac_pipeline_cycles
        tag_width = 1 + 16 + 1 + 1 + 1 + 1  # valid, acc address, first, first column chunk, last column chunk, src_h
        tags = [Signal(tag_width, name=f"mac_tag{k}") for k in range(depth)]
        issue_tag = Cat(u_active, ((u_v * ACC_GATES + acc_gate) * hc_max + u_row_chunk + u_ur)[:16], issue_first,
                        u_cc == 0, u_cc == u_col_chunks - 1, u_src_h)
        m.d.sync += tags[0].eq(issue_tag)
        with m.If(u_active):
            self._bump(m, "weight_buffer_reads", 1)
            self._bump(m, "h_buffer_reads", u_src_h)
            self._bump(m, "input_buffer_reads", ~u_src_h)
            m.d.sync += u_cc.eq(u_cc + 1)
            with m.If(u_cc == u_col_chunks - 1):
                m.d.sync += [u_cc.eq(0), u_v.eq(u_v + 1)]
                with m.If(u_v == u_v_last):
                    m.d.sync += [u_v.eq(u_v_first), u_ur.eq(u_ur + 1), u_wrow.eq(u_wrow + u_col_chunks)]
                    with m.If(u_ur == u_row_chunks - 1):
                        m.d.sync += [u_ur.eq(0), u_g.eq(u_g + 1)]
                        with m.If(u_g == gates - 1):
                            m.d.sync += u_active.eq(0)
        # stage 1: the lines read at the issue edge; one lanes x lanes block of products
        m.submodules.mac_array = mac = MacArray(d)
        m.d.comb += [mac.weights.eq(wbuf_r.data), mac.acts.eq(Mux(tags[0][tag_width - 1], hbuf_r.data, ibuf_r.data))]
        sums = [mac.sums[r * d.accumulator_bits : (r + 1) * d.accumulator_bits].as_signed() for r in range(lanes)]
        psum = [Signal(signed(d.accumulator_bits), name=f"psum{r}") for r in range(lanes)]
        m.d.sync += [p.eq(s) for p, s in zip(psum, sums)]
        m.d.sync += tags[1].eq(tags[0])
        delayed = psum
        for k in range(2, depth):
            m.d.sync += tags[k].eq(tags[k - 1])
            stage = [Signal(signed(d.accumulator_bits), name=f"psum{r}_d{k}") for r in range(lanes)]
            m.d.sync += [s.eq(p) for s, p in zip(stage, delayed)]
            delayed = stage
        last = tags[depth - 1]
        l_valid, l_addr, l_first, l_first_cc, l_last_cc = last[0], last[1:17], last[17], last[18], last[19]
        running_sum = [Signal(signed(d.accumulator_bits), name=f"run{r}") for r in range(lanes)]
        new_sum = [wrap(Mux(l_first_cc, p, r + p), d.accumulator_bits) for r, p in zip(running_sum, delayed)]
        m.d.comb += abuf_rmw.addr.eq(l_addr)
        with m.If(l_valid):
            m.d.sync += [r.eq(n) for r, n in zip(running_sum, new_sum)]
            with m.If(l_last_cc):
                old = [Mux(l_first, 0, abuf_rmw.data[r * d.accumulator_bits : (r + 1) * d.accumulator_bits].as_signed()) for r in range(lanes)]
                m.d.comb += [
                    abuf_w.addr.eq(l_addr), abuf_w.en.eq(1),
                    abuf_w.data.eq(Cat(*(wrap(o + n, d.accumulator_bits) for o, n in zip(old, new_sum)))),
                ]
                self._bump(m, "acc_buffer_writes", 1)
                self._bump(m, "acc_buffer_reads", ~l_first)
        mac_idle = ~u_active & ~Cat(*(t[0] for t in tags)).any()
        # groups that end a row sum, issued and written: a finish waits for the writes issued before it
        mac_issued, mac_written = Signal(32), Signal(32)
        with m.If(u_active & (u_cc == u_col_chunks - 1)):
            m.d.sync += mac_issued.eq(mac_issued + 1)
        with m.If(l_valid & l_last_cc):
            m.d.sync += mac_written.eq(mac_written + 1)

        # -- cell unit -----------------------------------------------------------------------
        c_active = Signal()  # a finish is held by the cell unit
        c_wait = Signal()  # ... waiting for the accumulator writes of the uses before it
        c_target = Signal(32)
        c_run = c_active & ~c_wait
        with m.If(c_wait & (mac_written == c_target)):
            m.d.sync += c_wait.eq(0)
        c_row_chunk, c_row_chunks, c_step = Signal(8), Signal(8), Signal(8)
        c_b, c_ur, c_micro = Signal(8), Signal(8), Signal(3)
        c_v = Signal(16)
        chunk = c_row_chunk + c_ur
        gate_regs = [Signal(d.act_line_bits, name=f"gate{g}") for g in range(4)]
        last_micro = Mux(gru, 2, 4)
        gate_a = Mux(gru & (c_micro == 2), 2, c_micro)
        m.d.comb += [
            abuf_ca.addr.eq((c_v * ACC_GATES + gate_a) * hc_max + chunk),
            abuf_cb.addr.eq((c_v * ACC_GATES + 3) * hc_max + chunk),
            bbuf_ca.addr.eq(gate_a * hc_max + chunk),
            bbuf_cb.addr.eq(3 * hc_max + chunk),
            cbuf_r.addr.eq(c_b * hc_max + chunk),
            hbuf_prev.addr.eq(c_v * hc_max + chunk),
        ]
        m.submodules.cell_unit = cell = CellLanes(d)
        m.d.comb += [
            cell.acc_a.eq(abuf_ca.data), cell.bias_a.eq(bbuf_ca.data), cell.acc_b.eq(abuf_cb.data), cell.bias_b.eq(bbuf_cb.data),
            cell.c_prev.eq(cbuf_r.data), cell.h_prev.eq(hbuf_prev.data), cell.gates.eq(Cat(*gate_regs)),
            cell.micro.eq(c_micro), cell.gru.eq(gru),
        ]
        h_out, c_out = cell.h, cell.c
        with m.If(c_run & (c_micro < 4) & ~(gru & (c_micro == 2))):
            with m.Switch(c_micro):
                for g in range(4):
                    with m.Case(g):
                        m.d.sync += gate_regs[g].eq(cell.y)
        m.submodules.out_fifo = out_fifo = SyncFIFOBuffered(width=d.act_line_bits + 32, depth=4)
        out_line_addr = out_base + (c_v * hidden_chunks + chunk) * beats_aline
        at_last = c_run & (c_micro == last_micro)
        with m.If(c_run):
            self._bump(m, "acc_buffer_reads", ~at_last | gru)
            self._bump(m, "bias_buffer_reads", ~at_last | gru)
            with m.If(~at_last):
                m.d.sync += c_micro.eq(c_micro + 1)
        with m.If(at_last & out_fifo.w_rdy):
            m.d.comb += [
                hbuf_w.addr.eq((c_v + batch) * hc_max + chunk), hbuf_w.data.eq(h_out), hbuf_w.en.eq(1),
                out_fifo.w_en.eq(1), out_fifo.w_data.eq(Cat(h_out, out_line_addr[:32])),
            ]
            self._bump(m, "h_buffer_writes", 1)
            self._bump(m, "h_buffer_reads", gru)
            self._bump(m, "c_buffer_reads", ~gru)
            self._bump(m, "c_buffer_writes", ~gru)
            with m.If(~gru):
                m.d.comb += [cbuf_w.addr.eq(c_b * hc_max + chunk), cbuf_w.data.eq(c_out), cbuf_w.en.eq(1)]
            with m.If(c_b == batch - 1):
                m.d.sync += done_bits.bit_select(c_step * hc_max + chunk, 1).eq(1)
            m.d.sync += c_micro.eq(0)
            with m.If(c_ur == c_row_chunks - 1):
                m.d.sync += [c_ur.eq(0), c_b.eq(c_b + 1), c_v.eq(c_v + 1)]
                with m.If(c_b == batch - 1):
                    m.d.sync += c_active.eq(0)
            with m.Else():
                m.d.sync += c_ur.eq(c_ur + 1)

        # -- DRAM write port: h lines to the output region -----------------------------------
        wr_beat = Signal(range(max(beats_aline, 2)))
        m.d.comb += [
            self.wr_valid.eq(out_fifo.r_rdy),
            self.wr_data.eq(out_fifo.r_data[: d.act_line_bits].word_select(wr_beat, beat)),
            self.wr_addr.eq(out_fifo.r_data[d.act_line_bits :] + wr_beat),
        ]
        with m.If(self.wr_valid & self.wr_ready):
            m.d.sync += wr_beat.eq(wr_beat + 1)
            with m.If(wr_beat == beats_aline - 1):
                m.d.sync += wr_beat.eq(0)
                m.d.comb += out_fifo.r_en.eq(1)

        # -- sequencer -------------------------------------------------------------------------
        pc = Signal(range(d.program_words))
        word = exec_r.data
        advance = Signal()  # the op in EXECUTE completes: the next word is read now, executed next cycle
        m.d.comb += exec_r.addr.eq(Mux(advance, pc + 1, pc))
        op = field(word, "op")
        step, nsteps = field(word, "step"), field(word, "nsteps")
        needed = (step + nsteps - 2)[:8]
        dep_ok = ~field(word, "src_h") | (step + nsteps < 2) | done_bits.bit_select(
            (needed * hc_max + field(word, "col_chunk") + field(word, "col_chunks") - 1).as_unsigned(), 1)
        all_idle = mac_idle & ~c_active & ~a_busy & (out_fifo.level == 0)
        with m.FSM(name="sequencer"):
            with m.State("IDLE"):
                with m.If(self.start):
                    m.d.sync += pc.eq(0)
                    m.next = "FETCH"
            with m.State("FETCH"):
                m.next = "EXECUTE"
            with m.State("EXECUTE"):
                with m.Switch(op):
                    with m.Case(OPCODES["config"]):
                        m.d.sync += [batch.eq(field(word, "batch")), gru.eq(field(word, "gru")),
                                     hidden_chunks.eq(field(word, "hidden_chunks")), out_base.eq(field(word, "dram_addr"))]
                        m.d.comb += advance.eq(1)
                    with m.Case(OPCODES["fetch"]):
                        inner = field(word, "inner")
                        lines = field(word, "outer") * inner
                        m.d.sync += [
                            a_busy.eq(1), a_target.eq(field(word, "target")), areq_addr.eq(field(word, "dram_addr")),
                            a_req_left.eq(lines * Mux(field(word, "target") == FETCH_BIAS, beats_accline, beats_aline)),
                            a_lines_left.eq(lines), a_row_base.eq(field(word, "line_base")), a_inner.eq(0),
                            a_inner_n.eq(inner), a_stride.eq(field(word, "stride")), a_beats.eq(0),
                        ]
                        m.next = "WAIT_FETCH"
                    with m.Case(OPCODES["load"]):
                        m.d.comb += advance.eq(1)
                    with m.Case(OPCODES["use"]):
                        with m.If(slot_valid.bit_select(field(word, "slot"), 1) & dep_ok & ~u_active):
                            v_first = step * batch
                            m.d.sync += [
                                u_active.eq(1), u_wrow.eq(field(word, "line_base")),
                                u_src_h.eq(field(word, "src_h")), u_row_chunk.eq(field(word, "row_chunk")),
                                u_row_chunks.eq(field(word, "row_chunks")), u_col_chunk.eq(field(word, "col_chunk")),
                                u_col_chunks.eq(field(word, "col_chunks")), u_first_shared.eq(field(word, "first_shared")),
                                u_first_own.eq(field(word, "first_own")), u_v_first.eq(v_first), u_v.eq(v_first),
                                u_v_last.eq((step + nsteps) * batch - 1), u_g.eq(0), u_ur.eq(0), u_cc.eq(0),
                            ]
                            m.d.comb += advance.eq(1)
                    with m.Case(OPCODES["evict"]):
                        with m.If(~u_active):
                            slot = field(word, "slot")
                            m.d.sync += [slot_valid.bit_select(slot, 1).eq(0), slot_busy.bit_select(slot, 1).eq(0)]
                            m.d.comb += advance.eq(1)
                    with m.Case(OPCODES["finish"]):
                        with m.If(~u_active & ~c_active):
                            m.d.sync += [
                                c_active.eq(1), c_wait.eq(1), c_target.eq(mac_issued), c_row_chunk.eq(field(word, "row_chunk")), c_row_chunks.eq(field(word, "row_chunks")),
                                c_step.eq(step), c_b.eq(0), c_ur.eq(0), c_micro.eq(0), c_v.eq(step * batch),
                            ]
                            m.d.comb += advance.eq(1)
                    with m.Case(OPCODES["end"]):
                        with m.If(all_idle):
                            m.next = "DONE"
                with m.If(advance):
                    m.d.sync += pc.eq(pc + 1)
            with m.State("WAIT_FETCH"):
                with m.If(~a_busy):
                    m.d.sync += pc.eq(pc + 1)
                    m.next = "FETCH"
            with m.State("DONE"):
                m.d.comb += self.done.eq(1)
        return m
