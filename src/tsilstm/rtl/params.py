"""The parameters of one generated accelerator (one Verilator build) and the sizes they imply.

A design is fixed by an architecture config (``tsilstm.accel``: MAC units, activation units, bit
widths, weight buffer bytes, pipeline depths, DRAM bandwidth) and capacity limits (largest hidden
and input size, steps and batch whose activations fit on chip). Everything else (the layer's
sizes within those limits, LSTM or GRU, the tile size, the schedule, the buffer bytes a program
uses up to the physical buffer) is part of the program loaded at run time, so one build runs every
schedule of every layer within its limits.

The MAC array is square: ``lanes`` x ``lanes`` multipliers with ``lanes = activation_units``, so
``mac_units`` must be ``activation_units**2`` (edge: 16 x 16 = 256). One weight-buffer line holds
one lanes x lanes block of a tile; activation lines hold ``lanes`` values.
"""

from __future__ import annotations

from dataclasses import dataclass

from tsilstm.accel.arch_config import MIN_DRAM_PORT_BYTES, ArchConfig
from tsilstm.accel.sram_banks import SRAM_BANK_BYTES, SRAM_BANK_WIDTH_BITS, SRAM_PORTS_PER_BANK, BankLayout, bank_layout
from tsilstm.errors import InvalidParameterError
from tsilstm.rtl.fixed_point import FixedFormats
from tsilstm.rtl.reference import ACC_GATES
from tsilstm.validation import require_int

RTL_ISSUE_WINDOW = 1
"""The sequencer issues in plan order (the accelerator model's ``issue_window`` 1)."""
RTL_CELL_PIPELINE_CYCLES = 0
"""Cycles from the cell unit's last evaluation of a row-block to its h being readable: none (the
h line is written in the cycle of its last evaluation; the model's ``cell_pipeline_cycles``)."""
RTL_SEQUENCER_CYCLES_PER_OP = 1
"""Cycles the sequencer and the load engine each spend on one instruction (the model's
``sequencer_cycles_per_op``): the next word is read while the current one executes."""
DEFAULT_PROGRAM_WORDS = 8192
"""Instructions the program memory holds (a hidden-256, 16-step plan of 32-unit tiles needs ~3,600)."""


@dataclass(frozen=True)
class DesignParams:
    """One generated design; sizes in lines, bytes or counts as named."""

    lanes: int
    weight_bits: int
    activation_bits: int
    accumulator_bits: int
    weight_buffer_bytes: int
    dram_port_bytes: int
    mac_pipeline_cycles: int
    max_hidden: int
    max_input: int
    max_steps: int
    max_batch: int
    program_words: int = DEFAULT_PROGRAM_WORDS
    sram_bank_width_bits: int = SRAM_BANK_WIDTH_BITS
    sram_bank_bytes: int = SRAM_BANK_BYTES
    sram_ports_per_bank: int = SRAM_PORTS_PER_BANK
    weight_buffer_banks: int | None = None

    def __post_init__(self) -> None:
        require_int("lanes", self.lanes, minimum=2)
        for name in ("max_hidden", "max_input"):
            value = require_int(name, getattr(self, name))
            if value % self.lanes:
                raise InvalidParameterError(name, value, f"must be a multiple of the array's {self.lanes} lanes")
        require_int("max_steps", self.max_steps, maximum=255)
        require_int("max_batch", self.max_batch, maximum=255)
        require_int("mac_pipeline_cycles", self.mac_pipeline_cycles, minimum=2, maximum=64)
        if self.dram_port_bytes < MIN_DRAM_PORT_BYTES or self.dram_port_bytes & (self.dram_port_bytes - 1):
            raise InvalidParameterError("dram_port_bytes", self.dram_port_bytes, f"must be a power of two >= {MIN_DRAM_PORT_BYTES}")
        FixedFormats(self.weight_bits, self.activation_bits, self.accumulator_bits)
        if self.weight_line_bits % self.beat_bits or self.act_line_bits % self.beat_bits or self.acc_line_bits % self.beat_bits:
            raise InvalidParameterError("dram_port_bytes", self.dram_port_bytes, "must divide every buffer line")
        if self.weight_lines < 1:
            raise InvalidParameterError("weight_buffer_bytes", self.weight_buffer_bytes, f"must hold one line of {self.weight_line_bits // 8} bytes")
        readable_bits = sram_banks(self)["weight_buffer"].read_bytes_per_cycle * 8
        if readable_bits < self.weight_line_bits:
            raise InvalidParameterError(
                "memory.weight_buffer_banks", self.weight_buffer_banks,
                f"the weight buffer's banks deliver {readable_bits:g} bits per cycle; the array reads a "
                f"{self.weight_line_bits}-bit line per cycle (banks x ports x bank width must reach it)",
            )

    @property
    def formats(self) -> FixedFormats:
        """The fixed-point formats."""
        return FixedFormats(self.weight_bits, self.activation_bits, self.accumulator_bits)

    @property
    def beat_bits(self) -> int:
        """Bits of one DRAM beat."""
        return self.dram_port_bytes * 8

    @property
    def weight_line_bits(self) -> int:
        """Bits of a weight-buffer line: one lanes x lanes block."""
        return self.lanes * self.lanes * self.weight_bits

    @property
    def act_line_bits(self) -> int:
        """Bits of an activation line (inputs, h, c): lanes values."""
        return self.lanes * self.activation_bits

    @property
    def acc_line_bits(self) -> int:
        """Bits of an accumulator (or bias) line: lanes values."""
        return self.lanes * self.accumulator_bits

    @property
    def weight_lines(self) -> int:
        """Lines of the weight buffer."""
        return self.weight_buffer_bytes * 8 // self.weight_line_bits

    @property
    def hidden_chunks(self) -> int:
        """Lines per vector of max_hidden values."""
        return self.max_hidden // self.lanes

    @property
    def input_chunks(self) -> int:
        """Lines per vector of max_input values."""
        return self.max_input // self.lanes

    @property
    def vectors(self) -> int:
        """Vectors (step, sequence) of the input buffer: max_steps x max_batch."""
        return self.max_steps * self.max_batch

    @property
    def input_lines(self) -> int:
        """Lines of the input buffer (line = chunk * vectors + vector)."""
        return self.input_chunks * self.vectors

    @property
    def h_lines(self) -> int:
        """Lines of the h buffer: h_0 .. h_T of every sequence (line = vector * hidden_chunks + chunk)."""
        return (self.max_steps + 1) * self.max_batch * self.hidden_chunks

    @property
    def c_lines(self) -> int:
        """Lines of the c buffer (one c per sequence)."""
        return self.max_batch * self.hidden_chunks

    @property
    def acc_lines(self) -> int:
        """Lines of the accumulator buffer: every step's gate pre-activations."""
        return self.vectors * ACC_GATES * self.hidden_chunks

    @property
    def bias_lines(self) -> int:
        """Lines of the bias buffer."""
        return ACC_GATES * self.hidden_chunks


def design_for(
    arch: ArchConfig, *, max_hidden: int = 256, max_input: int = 256, max_steps: int = 16, max_batch: int = 16,
    program_words: int = DEFAULT_PROGRAM_WORDS,
) -> DesignParams:
    """The design of ``arch`` with the given capacity limits. Raises ``InvalidParameterError``
    naming the config key the generator cannot build (float arithmetic, a non-square array)."""
    if arch.arithmetic != "int":
        raise InvalidParameterError("compute.arithmetic", arch.arithmetic, "the generated accelerator is fixed point: use \"int\"")
    lanes = arch.activation_units
    if arch.mac_units != lanes * lanes:
        raise InvalidParameterError(
            "compute.mac_units", arch.mac_units,
            f"the generated MAC array is square: mac_units must be activation_units**2 = {lanes * lanes}",
        )
    return DesignParams(
        lanes, arch.weight_bits, arch.activation_bits, arch.accumulator_bits, arch.weight_buffer_bytes, arch.dram_beat_bytes,
        max(2, arch.mac_pipeline_cycles), max_hidden, max_input, max_steps, max_batch, program_words,
        sram_bank_width_bits=arch.sram_bank_width_bits, sram_bank_bytes=arch.sram_bank_bytes,
        sram_ports_per_bank=arch.sram_ports_per_bank, weight_buffer_banks=arch.weight_buffer_banks,
    )


def hardware_arch(arch: ArchConfig, design: DesignParams) -> ArchConfig:
    """``arch`` as the generated ``design`` builds it, for the accelerator model: the design's
    weight buffer, DRAM port, banks and MAC pipeline, and the control it has whatever the config
    says (in-order issue, a cycle per instruction, no cell-unit pipeline). The model of this config
    is what the simulated cycles are checked against."""
    return arch.with_overrides(
        issue_window=RTL_ISSUE_WINDOW, cell_pipeline_cycles=RTL_CELL_PIPELINE_CYCLES,
        sequencer_cycles_per_op=RTL_SEQUENCER_CYCLES_PER_OP, mac_pipeline_cycles=design.mac_pipeline_cycles,
        dram_port_bytes=design.dram_port_bytes, weight_buffer_banks=design.weight_buffer_banks,
    )


def sram_banks(design: DesignParams) -> dict[str, BankLayout]:
    """The memories of ``design`` and the SRAM banks they are built from, by the accelerator
    model's rule (``sram_banks.bank_layout``, as ``hardware_cost.buffer_layouts`` applies it): the
    config's banks of the weight buffer (``design.weight_buffer_banks``) or, by default, as many
    banks of the config's width as read one line (the array's read width) per cycle and as the
    capacity needs; every other memory likewise for its line."""
    lines = {
        "weight_buffer": (design.weight_line_bits, design.weight_lines),
        "input_buffer": (design.act_line_bits, design.input_lines),
        "h_buffer": (design.act_line_bits, design.h_lines),
        "c_buffer": (design.act_line_bits, design.c_lines),
        "acc_buffer": (design.acc_line_bits, design.acc_lines),
        "bias_buffer": (design.acc_line_bits, design.bias_lines),
        "program_memory": (128, design.program_words),
    }
    return {
        name: bank_layout(
            width * depth // 8, width_bits=design.sram_bank_width_bits, max_bank_bytes=design.sram_bank_bytes,
            ports=design.sram_ports_per_bank, read_bits_per_cycle=width,
            banks=design.weight_buffer_banks if name == "weight_buffer" else None, banks_key="memory.weight_buffer_banks",
        )
        for name, (width, depth) in lines.items()
    }
