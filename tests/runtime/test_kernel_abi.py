"""The kernel's layout constants and codes are defined once, in its native sources (the packed
format in layout.h): the values the compiled extension exports match the source (a stale build fails
here), and the Python side takes every one of them from the extension instead of writing its own."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tsilstm
from tsilstm.model import random_layer
from tsilstm.plan import make_program, make_tiling
from tsilstm.runtime import _kernel, execution, kernel_abi, memory_budget, packing, precision

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


def test_the_call_signature_is_the_kernels() -> None:
    """run_direction's argument list is defined once in C (name, format and target together) and
    exported; Python's per-call and unchanging arguments are read from it in its order."""
    assert kernel_abi.RUN_ARGUMENTS == tuple(_kernel.RUN_ARGUMENTS)
    assert kernel_abi.RUN_ARGUMENTS == (
        *kernel_abi.CALL_ARGUMENTS, *kernel_abi.STATIC_ARGUMENTS, kernel_abi.LENGTHS_ARGUMENT)
    source = (NATIVE / "run_direction.c").read_text()
    assert tuple(re.findall(r"ARG\((\w+),", source)) == kernel_abi.RUN_ARGUMENTS
    assert "kwlist" not in source  # no second list of the names
    assert not re.search(r"^[A-Z_]*ARGUMENTS\s*=\s*\(\"", Path(execution.__file__).read_text(), re.M)


def test_a_call_by_keyword_equals_the_positional_one(rng) -> None:  # type: ignore[no-untyped-def]
    """execution builds the unchanging arguments by name and passes them by position in the kernel's
    order; the same values passed as keywords (in another order) give the same bits."""
    layer = random_layer("lstm", 5, 40, seed=0, dtype=np.float32)
    program = make_program("tsi", make_tiling(40, 5, tile=16), 1 << 20)
    packed = packing.pack_direction(program, layer, layer.directions[0], 2)
    x = rng.standard_normal((6, 3, 5)).astype(np.float32)
    h0 = rng.standard_normal((3, 40)).astype(np.float32)
    c0 = rng.standard_normal((3, 40)).astype(np.float32)
    y, _, c = execution.run_packed(packed, x, h0, c0)
    named = execution.static_argument_values(packed, "tsi", None, 2, True)
    assert set(named) == set(kernel_abi.STATIC_ARGUMENTS)
    sweeps = program.sweeps(6)
    y_keywords, c_keywords = np.empty_like(y), c0.copy()
    per_call = {"batch": 3, "steps": 6, "k_first": sweeps.start, "k_last": sweeps.stop - 1, "x": x, "h0": h0,
                "y": y_keywords, "c": c_keywords}
    assert set(per_call) == set(kernel_abi.CALL_ARGUMENTS)
    _kernel.run_direction(**dict(reversed(list({**per_call, **named}.items()))))
    np.testing.assert_array_equal(y_keywords, y)
    np.testing.assert_array_equal(c_keywords, c)


LAYOUT_SIZE_CONSTANTS = ("INT8_ROW_TRAILER_BYTES", "INT8_K_GROUP", "BF16_K_GROUP", "INT8_K_PAD", "BF16_K_PAD",
                         "INT8_TILE_ALIGN", "AMX_OVERREAD_BYTES")
"""The packed format's size constants: tile sizes and offsets are computed from them in C only."""


def test_python_never_computes_tile_sizes_itself() -> None:
    """Outside kernel_abi (which reads them from the extension) no Python module names the layout's
    size constants or an instruction set whose rule decides W_ih's type: sizes and offsets come from
    tile_layout, the W_ih rule from input_weight_dtype, so a second definition cannot appear."""
    package = Path(tsilstm.__file__).parent
    for path in package.rglob("*.py"):
        if path.name == "kernel_abi.py":
            continue
        text = path.read_text()
        for name in LAYOUT_SIZE_CONSTANTS:
            assert name not in text, f"{path} uses {name}: ask kernel_abi.tile_layout instead"
    for module in (packing, memory_budget, precision, execution):
        text = Path(module.__file__).read_text()
        assert not re.search(r"[\"'](amx|avx512_vnni|avx512|avx2)[\"']", text), module


def test_the_packed_format_is_defined_in_layout_h_only() -> None:
    """Every size constant of the packed format is #defined in layout.h and nowhere else, and no
    other native file rounds K up to a stored size or places the int8 trailer by itself."""
    layout = (NATIVE / "layout.h").read_text()
    for name in LAYOUT_SIZE_CONSTANTS:
        assert re.search(rf"^#define {name}\b", layout, re.M), name
    for path in NATIVE.glob("*.[ch]"):
        if path.name == "layout.h":
            continue
        text = path.read_text()
        for name in LAYOUT_SIZE_CONSTANTS:
            assert not re.search(rf"^#define {name}\b", text, re.M), (path, name)
        assert not re.search(r"K_GROUP - 1\) / \w+ \*|INT8_ROW_TRAILER_BYTES \*|scale \+ rows", text), path


@pytest.mark.parametrize("dtype", kernel_abi.WEIGHT_DTYPES)
@pytest.mark.parametrize("isa", kernel_abi.ISAS)
def test_input_weight_type_follows_the_kernels_rule(dtype, isa) -> None:  # type: ignore[no-untyped-def]
    expected = _kernel.input_weight_dtype(kernel_abi.WEIGHT_DTYPE_CODES[dtype], kernel_abi.ISAS.index(isa))
    assert kernel_abi.WEIGHT_DTYPE_CODES[kernel_abi.input_weight_dtype(dtype, isa)] == expected
    layer = random_layer("gru", 3, 20, seed=2, dtype=np.float32)
    program = make_program("tsi", make_tiling(20, 3, tile=16, cell="gru"), 1 << 20)
    packed = packing.pack_direction(program, layer, layer.directions[0], 1, dtype=dtype, isa=isa)
    assert packed.input_dtype == kernel_abi.input_weight_dtype(dtype, isa)
    assert packed.wx.nbytes == sum(
        kernel_abi.tile_layout(packed.input_dtype, 3, kernel_abi.block_layout(3, "reset_after", 16, units)[1]).nbytes
        for units in (16, 4)) + kernel_abi.input_tail_bytes(packed.input_dtype)
