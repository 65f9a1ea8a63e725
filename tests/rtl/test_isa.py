"""Instruction encoding: every field round-trips, no two fields of an op overlap."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsilstm.rtl.isa import FIELDS, decode, encode

USE_FIELDS = ("slot", "src_h", "first_shared", "first_own", "line_base", "row_chunk", "row_chunks", "col_chunk",
              "col_chunks", "step", "nsteps")
OP_FIELDS = {
    "use": USE_FIELDS, "load": ("slot", "line_base", "n_lines", "dram_addr"), "evict": ("slot",),
    "finish": ("row_chunk", "row_chunks", "step"), "config": ("batch", "gru", "hidden_chunks", "dram_addr"),
    "fetch": ("target", "dram_addr", "line_base", "outer", "stride", "inner"),
}


@pytest.mark.parametrize("op", sorted(OP_FIELDS))
def test_fields_of_an_op_do_not_overlap(op: str) -> None:
    bits: set[int] = set(range(FIELDS["op"].width))
    for name in OP_FIELDS[op]:
        offset, width = FIELDS[name]
        span = set(range(offset, offset + width))
        assert not bits & span, name
        bits |= span
    assert max(bits) < 128


@given(st.data())
def test_use_round_trips(data: st.DataObject) -> None:
    values = {name: data.draw(st.integers(0, (1 << FIELDS[name].width) - 1)) for name in USE_FIELDS}
    op, decoded = decode(encode("use", **values))
    assert op == "use"
    assert {name: decoded[name] for name in USE_FIELDS} == values


def test_a_value_too_wide_for_its_field_is_refused() -> None:
    with pytest.raises(ValueError, match="step"):
        encode("finish", step=256)
