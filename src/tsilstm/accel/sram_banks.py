"""How a buffer is built from SRAM banks: how many, how large, how wide, and the read bandwidth
they give per cycle.

A bank is one SRAM macro as a memory compiler builds it: ``width_bits`` per word, at most
``max_bank_bytes``, ``ports`` read/write ports. One cycle reads one word from each port of each
bank. The weight buffer's default rule follows the MAC array: it needs
``mac_units x weight_bits`` bits of weights per cycle (a one-step pass of one batch column uses
every weight of a tile once), so it gets at least ``ceil(mac_units x weight_bits / width_bits)``
banks read side by side. The banks together are as wide as the array's read width; one bank is
not: a compiler's macro is at most a few hundred bits wide (a 4096-bit word is a row of 32
128-bit macros, which is what the hardware builds and what this model prices). More banks are
used when the capacity needs them (each at most ``max_bank_bytes``). The activation buffer gets
as many banks as its capacity needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tsilstm.errors import InvalidParameterError

SRAM_BANK_BYTES = 16 * 1024
"""Largest bank by default, bytes: 1024 words x 128 bits. Estimate: single-port macros from memory
compilers are built up to a few thousand words; 512-2048 words keep bit lines short (energy and
access time grow with them). Override ``memory.sram_bank_bytes``."""
SRAM_BANK_WIDTH_BITS = 128
"""Word width of a bank by default, bits. Estimate: memory compilers offer words of up to
~144-288 bits per macro; 128 is a power of two within that. Override ``memory.sram_bank_width_bits``."""
SRAM_PORTS_PER_BANK = 1
"""Ports per bank by default: single-port 6T macros, the densest (the area figures of
``technology`` are single-port 6T bit cells). Override ``memory.sram_ports_per_bank``."""


@dataclass(frozen=True)
class BankLayout:
    """A buffer built from ``banks`` banks of ``bank_bytes`` each, ``width_bits`` wide, ``ports`` ports."""

    capacity_bytes: int
    banks: int
    width_bits: int
    ports: int
    rule: str

    @property
    def bank_bytes(self) -> float:
        """Bytes per bank."""
        return self.capacity_bytes / self.banks

    @property
    def read_bytes_per_cycle(self) -> float:
        """Bytes all banks can deliver in one cycle (one word per port per bank)."""
        return self.banks * self.ports * self.width_bits / 8

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary of the banks."""
        return {
            "capacity_bytes": self.capacity_bytes, "banks": self.banks, "bank_bytes": self.bank_bytes,
            "bank_width_bits": self.width_bits, "ports_per_bank": self.ports,
            "read_bytes_per_cycle": self.read_bytes_per_cycle, "banks_rule": self.rule,
        }


def bank_layout(
    capacity_bytes: int, *, width_bits: int, max_bank_bytes: int, ports: int, banks: int | None = None,
    read_bits_per_cycle: int = 0, banks_key: str = "banks",
) -> BankLayout:
    """The banks of a buffer of ``capacity_bytes``: ``banks`` when given (``banks_key`` names it in
    errors), else as many as the capacity needs at ``max_bank_bytes`` each and as many as deliver
    ``read_bits_per_cycle`` side by side, but no more than words in the buffer."""
    word_bytes = width_bits / 8
    if banks is not None:
        if capacity_bytes / banks < word_bytes:
            raise InvalidParameterError(
                banks_key, banks, f"at most {max(1, int(capacity_bytes // word_bytes))} banks: each must hold one "
                f"{width_bits}-bit word of the {capacity_bytes}-byte buffer",
            )
        return BankLayout(capacity_bytes, banks, width_bits, ports, "set in the config")
    by_capacity = math.ceil(capacity_bytes / max_bank_bytes)
    by_width = math.ceil(read_bits_per_cycle / (width_bits * ports)) if read_bits_per_cycle else 1
    count = max(1, min(max(by_capacity, by_width), int(capacity_bytes // word_bytes)))
    rule = "the MAC array's read width" if by_width > by_capacity else f"banks of at most {max_bank_bytes} bytes"
    return BankLayout(capacity_bytes, count, width_bits, ports, rule)
