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

import math
from dataclasses import dataclass

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.errors import InvalidParameterError
from tsilstm.rtl.fixed_point import FixedFormats
from tsilstm.rtl.reference import ACC_GATES
from tsilstm.validation import require_int

MIN_DRAM_PORT_BYTES = 16
"""Narrowest DRAM data port, in bytes (128 bits: the testbench moves beats as 32-bit words)."""
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
    per_cycle = arch.dram_bytes_per_cycle
    port = max(MIN_DRAM_PORT_BYTES, 1 << max(0, math.ceil(math.log2(per_cycle))))
    return DesignParams(
        lanes, arch.weight_bits, arch.activation_bits, arch.accumulator_bits, arch.weight_buffer_bytes, port,
        max(2, arch.mac_pipeline_cycles), max_hidden, max_input, max_steps, max_batch, program_words,
    )


BANK_WIDTH_BITS = 64
"""Word width of one SRAM bank (macro), in bits: a common SRAM-compiler word, and the 64-bit access
the accelerator model's SRAM energies are quoted for."""


@dataclass(frozen=True)
class SramBanks:
    """One on-chip memory as SRAM macros: ``banks`` side by side, each ``depth`` words of
    ``bank_width_bits`` (the line is split across them; every bank is read in the same cycle)."""

    line_bits: int
    depth: int
    banks: int
    bank_width_bits: int

    @property
    def capacity_bytes(self) -> int:
        """Bytes held."""
        return self.line_bits * self.depth // 8

    def as_dict(self) -> dict[str, int]:
        """A JSON-ready form."""
        return {"line_bits": self.line_bits, "depth": self.depth, "banks": self.banks,
                "bank_width_bits": self.bank_width_bits, "capacity_bytes": self.capacity_bytes}


def sram_banks(design: DesignParams) -> dict[str, SramBanks]:
    """The memories of ``design`` and the banks they are built from (lines of up to 64 bits are one
    bank)."""
    lines = {
        "weight_buffer": (design.weight_line_bits, design.weight_lines),
        "input_buffer": (design.act_line_bits, design.input_lines),
        "h_buffer": (design.act_line_bits, design.h_lines),
        "c_buffer": (design.act_line_bits, design.c_lines),
        "acc_buffer": (design.acc_line_bits, design.acc_lines),
        "bias_buffer": (design.acc_line_bits, design.bias_lines),
        "program_memory": (128, design.program_words),
    }
    out = {}
    for name, (width, depth) in lines.items():
        banks = max(1, width // BANK_WIDTH_BITS)
        out[name] = SramBanks(width, depth, banks, width // banks)
    return out
