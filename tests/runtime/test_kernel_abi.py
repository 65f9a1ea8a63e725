"""The kernel's layout constants and codes are defined once, in its native sources (the packed
format in layout.h): the values the compiled extension exports match the source (a stale build fails
here), and the Python side takes every one of them from the extension instead of writing its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tsilstm.runtime import _kernel, execution, kernel_abi, memory_budget, packing

NATIVE = Path(packing.__file__).parent / "native"


def _source_values() -> dict[str, int]:
    """#define NAME <int> and enum { NAME = <int>, ... } entries of the kernel sources."""
    text = "\n".join(path.read_text() for path in sorted(NATIVE.glob("*.[ch]")))
    values = {name: int(value) for name, value in re.findall(r"^#define (\w+) (\d+)\b", text, re.M)}
    for body in re.findall(r"enum \{([^}]*)\}", text):
        values.update({name: int(value) for name, value in re.findall(r"(\w+) = (\d+)", body)})
    return values


@pytest.mark.parametrize(
    "exported, source_name",
    [("RING", "RING"), ("VEC", "VEC"), ("MAX_BATCH", "MAX_BATCH"), ("MAX_TILE", "MAX_TILE"), ("OP_FIELDS", "OP_FIELDS"),
     ("ALIGN_BYTES", "ALIGN_BYTES"), ("OP_USE_H", "OP_USE_H"), ("OP_USE_P", "OP_USE_P"), ("OP_FINISH", "OP_FINISH"),
     ("OP_PROJECT", "OP_PROJECT"), ("OP_USE_R", "OP_USE_R"), ("OP_RESET", "OP_RESET"), ("OP_USE_ZN", "OP_USE_ZN"),
     ("CELL_LSTM", "CELL_LSTM"), ("CELL_GRU", "CELL_GRU"), ("VARIANT_RESET_BEFORE", "VARIANT_RESET_BEFORE")],
)
def test_extension_exports_what_the_source_defines(exported, source_name) -> None:  # type: ignore[no-untyped-def]
    assert getattr(_kernel, exported) == _source_values()[source_name]


def test_derived_constants() -> None:
    values = _source_values()
    assert _kernel.GROUP_ROWS == values["GROUP_VECS"] * values["VEC"]
    assert _kernel.MAX_BODY_SPAN == values["RING"] // 2


def test_python_takes_every_layout_fact_from_the_extension() -> None:
    assert kernel_abi.VEC_FLOATS == _kernel.VEC and kernel_abi.GROUP_ROWS == _kernel.GROUP_ROWS
    assert kernel_abi.MAX_KERNEL_BATCH == _kernel.MAX_BATCH and kernel_abi.MAX_BODY_SPAN_STEPS == _kernel.MAX_BODY_SPAN
    assert kernel_abi.ISAS == tuple(_kernel.ISAS) and kernel_abi.WEIGHT_DTYPES == tuple(_kernel.WEIGHT_DTYPES)
    for module in (packing, execution, memory_budget):  # no literal copies of the layout left behind
        text = Path(module.__file__).read_text()
        assert not re.search(r"^(VEC_FLOATS|GROUP_ROWS|OP_FIELDS|OP_USE_\w+|MAX_KERNEL_BATCH|ISAS)\s*=", text, re.M), module


@pytest.mark.parametrize("gates, variant, tile, units, expected", [
    (4, "standard", 64, 64, (64, 256)), (4, "standard", 64, 5, (5, 32)), (3, "reset_after", 10, 10, (10, 32)),
    (3, "reset_before", 10, 7, (16, 48)), (3, "reset_before", 64, 64, (64, 192)),
])
def test_block_layout(gates, variant, tile, units, expected) -> None:  # type: ignore[no-untyped-def]
    assert kernel_abi.block_layout(gates, variant, tile, units) == expected


def test_block_layout_refuses_what_the_kernel_cannot_lay_out() -> None:
    with pytest.raises(ValueError):
        _kernel.block_layout(4, _kernel.VARIANT_RESET_BEFORE, 16, 16)
    with pytest.raises(ValueError):
        _kernel.block_layout(3, 0, 16, 17)
