"""Each node's key energies and bit cells against the published tables they cite, and the nodes
the model accepts."""

from __future__ import annotations

import pytest

from tsilstm.accel.arch_file import arch_from_dict
from tsilstm.accel.energy_table import key_energies_pj
from tsilstm.accel.technology import BITCELL_UM2, NODES_NM, node_figures
from tsilstm.errors import InvalidParameterError

CITED_TABLES = {
    # Horowitz, ISSCC 2014, 45 nm 0.9 V
    45: {"int8_multiply_pj": 0.2, "int8_add_pj": 0.03, "fp32_multiply_pj": 3.7, "sram_8kb_read_64bit_pj": 10.0,
         "sram_1mb_read_64bit_pj": 100.0},
    # Jouppi et al., ISCA 2021, table 2, 7 nm
    7: {"int8_multiply_pj": 0.07, "int8_add_pj": 0.007, "fp32_multiply_pj": 1.31, "sram_8kb_read_64bit_pj": 7.5,
        "sram_1mb_read_64bit_pj": 14.0},
}
CITED_BITCELLS_UM2 = {45: 0.346, 32: 0.171, 28: 0.127, 22: 0.092, 16: 0.070, 14: 0.0588, 10: 0.0312, 7: 0.027}
"""The 6T cells of the papers ``technology`` cites, um^2."""


@pytest.mark.parametrize("node", sorted(CITED_TABLES))
def test_a_table_node_is_within_1_5x_of_its_published_table(node: int) -> None:
    figures = key_energies_pj(node_figures(node))
    for key, cited in CITED_TABLES[node].items():
        assert cited / 1.5 <= figures[key] <= cited * 1.5, key


def test_nodes_between_the_tables_lie_between_them_and_fall_with_the_node() -> None:
    rows = [key_energies_pj(node_figures(node)) for node in NODES_NM]  # 45 .. 7 nm
    for key in CITED_TABLES[45]:
        values = [row[key] for row in rows]
        assert values == sorted(values, reverse=True), key
        assert CITED_TABLES[7][key] == pytest.approx(min(values)) and max(values) == pytest.approx(CITED_TABLES[45][key])


@pytest.mark.parametrize("node", NODES_NM)
def test_each_bitcell_is_within_1_5x_of_the_cited_cell(node: int) -> None:
    assert CITED_BITCELLS_UM2[node] / 1.5 <= BITCELL_UM2[node] <= CITED_BITCELLS_UM2[node] * 1.5


def test_every_node_with_published_rows_is_accepted_and_others_named() -> None:
    for node in (16, 14, 10, 22, 32):
        assert arch_from_dict({"base": "edge", "technology": {"node_nm": node}}).node_nm == node
    with pytest.raises(InvalidParameterError, match=r"technology\.node_nm"):
        arch_from_dict({"base": "edge", "technology": {"node_nm": 20}})


def test_a_supply_below_nominal_lowers_every_energy() -> None:
    nominal, low = key_energies_pj(node_figures(16)), key_energies_pj(node_figures(16, 0.65))
    assert all(low[key] < nominal[key] for key in nominal)
