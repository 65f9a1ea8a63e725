"""The accelerator's instruction set: 128-bit words, one per op, fields at fixed bit positions.

| op | code | fields |
| --- | --- | --- |
| ``end`` | 0 | (none): wait until every unit is idle, then raise ``done`` |
| ``config`` | 1 | ``batch`` sequences, ``gru`` (1: GRU cell update), ``hidden_chunks`` (lines per h vector), ``dram_addr`` = first beat of the output region |
| ``fetch`` | 2 | ``target`` (0 input buffer, 1 bias buffer), ``dram_addr`` first beat, ``line_base``, ``outer`` x ``inner`` lines at ``line_base + o * stride + i`` |
| ``load`` | 3 | ``slot``, ``line_base`` (its first weight-buffer line), ``n_lines``, ``dram_addr`` first beat of the tile |
| ``use`` | 4 | ``slot``, ``line_base``, ``src_h`` (0: W_x tile on inputs, 1: W_h tile on h_{t-1}), ``row_chunk`` / ``row_chunks`` (hidden lines of the row-block), ``col_chunk`` / ``col_chunks`` (input or hidden lines of the column block), ``step``, ``nsteps``, ``first_shared`` / ``first_own`` (the use writes its sums instead of adding them) |
| ``evict`` | 5 | ``slot`` |
| ``finish`` | 6 | ``row_chunk``, ``row_chunks``, ``step``: the cell update of a row-block for one step (every sequence) |

``load`` is executed by the load engine, which runs ahead of the other ops (waiting only for its
slot to be evicted); the sequencer executes the rest in order. A ``use`` waits for its tile and for
h_{t-1} of its column block; a ``finish`` is handed to the cell unit once the uses before it
are issued; the cell unit starts when their sums are written, while later uses proceed.
"""

from __future__ import annotations

from typing import NamedTuple

WORD_BITS = 128
OPCODES = {"end": 0, "config": 1, "fetch": 2, "load": 3, "use": 4, "evict": 5, "finish": 6}
OPCODE_BITS = 4


class Field(NamedTuple):
    """A field's position in the word: bits ``offset .. offset + width - 1``."""

    offset: int
    width: int


FIELDS: dict[str, Field] = {
    "op": Field(0, 4),
    "slot": Field(4, 8),
    "src_h": Field(12, 1),
    "first_shared": Field(13, 1),
    "first_own": Field(14, 1),
    "gru": Field(15, 1),
    "line_base": Field(16, 16),
    "n_lines": Field(32, 16),
    "dram_addr": Field(48, 32),
    "row_chunk": Field(80, 8),
    "row_chunks": Field(88, 8),
    "col_chunk": Field(96, 8),
    "col_chunks": Field(104, 8),
    "step": Field(112, 8),
    "nsteps": Field(120, 8),
    # config and fetch reuse the positions of use fields they do not have
    "batch": Field(80, 8),
    "hidden_chunks": Field(88, 8),
    "target": Field(4, 2),
    "outer": Field(80, 16),
    "stride": Field(96, 16),
    "inner": Field(112, 16),
}
FETCH_INPUT, FETCH_BIAS = 0, 1


def encode(op: str, **fields: int) -> int:
    """One instruction word; raises ``ValueError`` (an internal error of the encoder) when a
    value does not fit its field."""
    word = OPCODES[op]
    for name, value in fields.items():
        offset, width = FIELDS[name]
        if not 0 <= int(value) < (1 << width):
            raise ValueError(f"{op}: {name}={value} does not fit {width} bits")
        word |= int(value) << offset
    return word


def decode(word: int) -> tuple[str, dict[str, int]]:
    """The op name of ``word`` and the value of every field (for listings and tests)."""
    names = {code: name for name, code in OPCODES.items()}
    values = {name: (word >> f.offset) & ((1 << f.width) - 1) for name, f in FIELDS.items()}
    return names[values["op"]], values
