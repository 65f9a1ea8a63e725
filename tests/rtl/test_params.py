"""The design's sizes come from the accelerator model's definitions: the weight buffer's banks are
the model's ``buffer_layouts``, the DRAM port is the config's ``dram_beat_bytes``, and the config
the model is checked with (``hardware_arch``) is the one the design builds."""

from __future__ import annotations

import pytest

from tsilstm.accel import load_arch
from tsilstm.accel.hardware_cost import buffer_layouts
from tsilstm.errors import InvalidParameterError
from tsilstm.rtl.params import RTL_ISSUE_WINDOW, design_for, hardware_arch, sram_banks


@pytest.mark.parametrize("buffer_bytes", [32 * 1024, 512 * 1024])
def test_weight_buffer_banks_are_the_models(buffer_bytes: int) -> None:
    arch = load_arch("edge").with_overrides(weight_buffer_bytes=buffer_bytes)
    design = design_for(arch)
    assert sram_banks(design)["weight_buffer"] == buffer_layouts(arch)[0]
    assert sram_banks(design)["weight_buffer"].read_bytes_per_cycle * 8 == design.weight_line_bits


def test_banks_too_narrow_for_a_line_per_cycle_are_refused() -> None:
    arch = load_arch("edge").with_overrides(weight_buffer_banks=8)  # 8 x 128 bits < the 4096-bit line
    with pytest.raises(InvalidParameterError, match="memory.weight_buffer_banks"):
        design_for(arch)


@pytest.mark.parametrize("port_bytes", [None, 32])
def test_the_model_sees_the_design_as_built(port_bytes: int | None) -> None:
    arch = load_arch("edge").with_overrides(dram_port_bytes=port_bytes)
    design = design_for(arch)
    built = hardware_arch(arch, design)
    assert design.dram_port_bytes == arch.dram_beat_bytes == built.dram_beat_bytes == (port_bytes or 16)
    assert built.issue_window == RTL_ISSUE_WINDOW
    assert built.mac_pipeline_cycles == design.mac_pipeline_cycles
    assert buffer_layouts(built)[0] == sram_banks(design)["weight_buffer"]
