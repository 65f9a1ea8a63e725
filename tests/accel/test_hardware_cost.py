"""Area, leakage and SRAM energy by capacity and node, and the config keys that set them."""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

from tsilstm.accel.arch_file import arch_from_dict, load_arch
from tsilstm.accel.dram_types import DRAM_TYPES
from tsilstm.accel.energy import static_power_w
from tsilstm.accel.energy_table import sram_table_at_node
from tsilstm.accel.hardware_cost import design_cost, table_pj_per_64bit
from tsilstm.accel.technology import BITCELL_UM2, NODES_NM, node_figures, sources_table
from tsilstm.cli.main import cli
from tsilstm.errors import InvalidParameterError


def _edge(**changes: object):  # type: ignore[no-untyped-def]
    return load_arch("edge").with_overrides(**changes)


def test_the_table_nodes_use_their_tables_unchanged() -> None:
    assert (node_figures(45).logic_share, node_figures(45).sram_share, node_figures(45, 0.9).vdd_factor) == (0.0, 0.0, 1.0)
    assert node_figures(7).logic_share == pytest.approx(1.0) and node_figures(7).sram_share == pytest.approx(1.0)


def test_smaller_nodes_cost_less_area_and_energy() -> None:
    costs = [design_cost(_edge(node_nm=n)) for n in NODES_NM]  # 45 .. 7
    areas = [c.total_area_mm2 for c in costs]
    energies = [c.weight_sram.pj_per_byte for c in costs]
    assert areas == sorted(areas, reverse=True) and energies == sorted(energies, reverse=True)


def test_sram_area_is_bits_times_the_bit_cell_over_the_array_efficiency() -> None:
    cost = design_cost(_edge(node_nm=28, weight_buffer_bytes=2**20))
    assert cost.area_mm2["weight_buffer"] == pytest.approx(2**23 * BITCELL_UM2[28] / 0.7 / 1e6)


def test_buffers_are_priced_by_the_bank_an_access_wakes_plus_the_h_tree() -> None:
    cost = design_cost(_edge(node_nm=28, weight_buffer_bytes=2**20))
    figures = node_figures(28)
    # 1 MiB in banks of 16 KiB: 64 banks (more than the 32 the 256 x 16-bit array needs side by side)
    assert cost.weight_sram.banks == 64 and cost.weight_sram.layout.bank_bytes == 16384
    bank = table_pj_per_64bit(16384, sram_table_at_node(figures))[0]
    wire = 64 * figures.wire_pj_per_bit_mm * math.sqrt(cost.area_mm2["weight_buffer"]) / 2
    assert cost.weight_sram.pj_per_byte * 8 == pytest.approx(bank + wire)
    one_bank = design_cost(_edge(node_nm=28, weight_buffer_bytes=2**20, weight_buffer_banks=1))
    assert one_bank.weight_sram.pj_per_byte * 8 == pytest.approx(dict(sram_table_at_node(figures))[2**20])
    assert one_bank.weight_sram.pj_per_byte > 2 * cost.weight_sram.pj_per_byte
    with pytest.raises(InvalidParameterError, match="banks"):
        table_pj_per_64bit(2**21, ((8192, 10.0), (2**20, 100.0)))


def test_the_weight_banks_side_by_side_are_as_wide_as_the_array_reads() -> None:
    small = design_cost(_edge(weight_buffer_bytes=2**17))  # 128 KiB: 8 banks by capacity, 32 by width
    assert small.weight_sram.banks == 32 and small.weight_sram.layout.read_bytes_per_cycle == 256 * 2
    with pytest.raises(InvalidParameterError, match="weight_buffer_banks"):
        _edge(weight_buffer_bytes=1024, weight_buffer_banks=128)


def test_leakage_grows_with_the_buffer_and_enters_the_static_energy() -> None:
    small, large = design_cost(_edge(weight_buffer_bytes=2**20)), design_cost(_edge(weight_buffer_bytes=2**25))
    assert large.leakage_w["weight_buffer"] == pytest.approx(32 * small.leakage_w["weight_buffer"])
    assert static_power_w(_edge(weight_buffer_bytes=2**25)) - static_power_w(_edge(weight_buffer_bytes=2**20)) == pytest.approx(
        large.leakage_w["weight_buffer"] - small.leakage_w["weight_buffer"])
    assert static_power_w(_edge(static_power_w=0.5)) == 0.5
    assert large.total_area_mm2 > 10 * design_cost(_edge()).area_mm2["weight_buffer"]


def test_every_node_lists_its_sources() -> None:
    rows = sources_table()
    assert [r["node_nm"] for r in rows] == list(NODES_NM)
    assert all(r["bitcell_source"] and r["energy_source"] for r in rows)


@pytest.mark.parametrize(
    ("technology", "named"),
    [({"node_nm": 20}, "technology.node_nm"), ({"vdd_v": "3 V"}, "technology.vdd_v"),
     ({"sram_array_efficiency": 2}, "technology.sram_array_efficiency"), ({"color": 1}, "technology.color")],
)
def test_bad_technology_keys_are_named(technology: dict, named: str) -> None:
    with pytest.raises(InvalidParameterError, match=named.replace(".", r"\.")):
        arch_from_dict({"base": "edge", "technology": technology})


@pytest.mark.parametrize("table", [[[8192, 10], [8192, 5]], [[8192, 10], [32768, 5]]])
def test_duplicate_or_falling_sram_rows_exit_2_naming_the_key(tmp_path, table) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.toml"
    path.write_text(f'base = "edge"\n[energy]\nsram_pj_per_64bit = {table}\n')
    result = CliRunner().invoke(cli, ["simulate", "--hidden", "64", "--arch", str(path)])
    assert result.exit_code == 2 and "energy.sram_pj_per_64bit" in result.output
    assert "Traceback" not in result.output


def test_an_lpddr4_and_an_hbm2_design_differ_in_area_and_leakage_by_their_interfaces() -> None:
    lpddr4, hbm2 = design_cost(_edge().with_dram_type("lpddr4")), design_cost(_edge().with_dram_type("hbm2"))
    interfaces = {name: DRAM_TYPES[name] for name in ("lpddr4", "hbm2")}
    assert hbm2.total_area_mm2 - lpddr4.total_area_mm2 == pytest.approx(
        interfaces["hbm2"].interface_area_mm2 - interfaces["lpddr4"].interface_area_mm2)
    assert hbm2.total_leakage_w - lpddr4.total_leakage_w == pytest.approx(
        interfaces["hbm2"].interface_static_power_w - interfaces["lpddr4"].interface_static_power_w)
    assert all(lpddr4.area_mm2[k] == hbm2.area_mm2[k] for k in lpddr4.area_mm2 if k != "dram_interface")


def test_a_dram_type_fills_the_dram_keys_and_keys_beside_it_override() -> None:
    arch = arch_from_dict({"base": "edge", "dram": {"type": "hbm2", "energy_pj_per_bit": "5 pJ/bit"}})
    assert (arch.dram_type, arch.dram_bandwidth_bytes_per_s, arch.dram_pj_per_bit) == ("hbm2", 256e9, 5.0)
    assert arch.dram_interface_area_mm2 == DRAM_TYPES["hbm2"].interface_area_mm2
    with pytest.raises(InvalidParameterError, match=r"dram\.type"):
        arch_from_dict({"base": "edge", "dram": {"type": "ddr9"}})
