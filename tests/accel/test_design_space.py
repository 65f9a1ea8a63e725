"""Design-space exploration: the grid, impossible designs with their reasons, the rows, and the
Pareto front (no front point dominated, every other point dominated by one on the front)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.accel.arch_file import load_arch
from tsilstm.accel.design_space import OBJECTIVES, DesignPoint, DesignSpace, design_rows, fronts_by_schedule, iso_area_view, split_valid
from tsilstm.accel.dram_types import DRAM_TYPES, get_dram_type
from tsilstm.accel.pareto import pareto_front, pareto_mask
from tsilstm.accel.workloads import get_workload, single_layer_workload
from tsilstm.errors import InvalidParameterError


def _dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 6)] * 3), min_size=1, max_size=25))
def test_the_front_is_exactly_the_undominated_points(points: list[tuple[int, int, int]]) -> None:
    values = np.array(points, dtype=float)
    mask = pareto_mask(values)
    assert mask.any()
    for i, kept in enumerate(mask):
        dominated = any(_dominates(values[j], values[i]) for j in range(len(values)))
        assert kept == (not dominated)


def test_pareto_front_keeps_row_order_and_rejects_a_flat_array() -> None:
    rows = [{"a": 1, "b": 5}, {"a": 2, "b": 2}, {"a": 3, "b": 3}, {"a": 5, "b": 1}]
    assert pareto_front(rows, ("a", "b")) == [rows[0], rows[1], rows[3]]
    with pytest.raises(ValueError, match="2-D"):
        pareto_mask(np.array([1.0, 2.0]))


def test_the_space_is_the_product_of_its_axes_and_an_empty_axis_or_unknown_dram_is_refused() -> None:
    space = DesignSpace((2**17, 2**19), (64,), (256, 1024), (8e8,), (8, 16), ("lpddr4",), (28, 7))
    assert len(space.points()) == 2 * 2 * 2 * 2
    with pytest.raises(InvalidParameterError, match="mac_units"):
        DesignSpace((2**17,), (64,), (), (8e8,), (16,), ("lpddr4",), (28,))
    with pytest.raises(InvalidParameterError, match="dram.*lpddr4"):
        get_dram_type("sdram")


def test_a_design_takes_the_dram_figures_of_its_type() -> None:
    arch = DesignPoint(2**19, 64, 256, 1e9, 16, "hbm2", 7).arch(load_arch("edge"))
    hbm2 = DRAM_TYPES["hbm2"]
    assert (arch.dram_bandwidth_bytes_per_s, arch.dram_latency_ns, arch.dram_pj_per_bit) == (
        hbm2.bandwidth_bytes_per_s, hbm2.latency_ns, hbm2.energy_pj_per_bit
    )
    assert (arch.clock_hz, arch.node_nm, arch.mac_units) == (1e9, 7, 256)


def test_impossible_designs_are_set_apart_with_the_reason() -> None:
    workload = get_workload("deepbench-lstm-512-b1")
    space = DesignSpace((16 * 1024,), (64,), (256,), (8e8,), (8, 16), ("lpddr4",), (28,))
    valid, invalid = split_valid(space.points(), workload, load_arch("edge"))
    assert [p.weight_bits for p in valid] == [8]  # a 64-unit LSTM tile is 16 KiB at 8 bits, 32 KiB at 16
    ((point, reason),) = invalid
    assert point.weight_bits == 16 and "weight_buffer_bytes" in reason and "one tile" in reason


def test_design_rows_give_per_step_energy_latency_and_area_for_every_schedule() -> None:
    workload = single_layer_workload(256, steps=8)
    point = DesignPoint(64 * 1024, 32, 64, 5e8, 16, "lpddr4", 28)
    rows = design_rows(point, workload, load_arch("edge"), ("conventional", "tsi"))
    assert [r["schedule"] for r in rows] == ["conventional", "tsi"]
    for row in rows:
        assert row["seconds_per_step"] == pytest.approx(1 / row["steps_per_second"])
        assert row["area_mm2"] > 0 and row["energy_pj_per_step"] > 0
        assert row["weight_buffer_bytes"] == 64 * 1024 and row["dram"] == "lpddr4"
    conventional, tsi = rows
    assert tsi["weight_dram_bytes_per_step"] < conventional["weight_dram_bytes_per_step"]
    assert tsi["area_mm2"] == conventional["area_mm2"]  # the design's area does not depend on the schedule


def test_fronts_are_per_schedule_and_a_larger_buffer_costs_area() -> None:
    workload = single_layer_workload(256, steps=8)
    base = load_arch("edge")
    rows = [
        row for buffer in (32 * 1024, 128 * 1024, 512 * 1024)
        for row in design_rows(DesignPoint(buffer, 32, 64, 5e8, 16, "lpddr4", 28), workload, base, ("conventional", "tsi"))
    ]
    fronts = fronts_by_schedule(rows)
    assert set(fronts) == {"conventional", "tsi"}
    for schedule, front in fronts.items():
        assert all(r["schedule"] == schedule for r in front)
        energies = [r[OBJECTIVES[0]] for r in front]
        assert energies == sorted(energies)
    areas = sorted({r["area_mm2"] for r in rows})
    assert len(areas) == 3


def test_the_iso_area_view_gives_each_schedule_its_best_within_each_area() -> None:
    rows = [
        {"schedule": s, "area_mm2": area, "energy_pj_per_step": energy, "seconds_per_step": seconds,
         **{key: 0 for key in DesignPoint.__dataclass_fields__}}
        for s, area, energy, seconds in (
            ("conventional", 1.0, 10.0, 5.0), ("tsi", 1.0, 6.0, 3.0), ("conventional", 2.0, 7.0, 4.0), ("tsi", 2.0, 8.0, 2.0),
        )
    ]
    small, large = iso_area_view(rows)
    assert small["area_mm2"] == 1.0 and small["tsi"]["energy_pj_per_step"] == 6.0 and small["conventional"]["energy_pj_per_step"] == 10.0
    assert large["conventional"]["energy_pj_per_step"] == 7.0 and large["conventional"]["seconds_per_step"] == 4.0
    assert large["tsi"]["energy_pj_per_step"] == 6.0 and large["tsi"]["seconds_per_step"] == 2.0


def test_the_fronts_keep_lpddr4_where_its_smaller_interface_wins_area_and_hbm2_where_it_wins_time() -> None:
    workload = single_layer_workload(512, steps=8)
    base = load_arch("edge")
    rows = [
        row for dram in ("lpddr4", "hbm2") for node in (28, 7)
        for row in design_rows(DesignPoint(128 * 1024, 64, 256, 8e8, 16, dram, node), workload, base, ("tsi",))
    ]
    front = fronts_by_schedule(rows)["tsi"]
    assert {row["dram"] for row in front} == {"lpddr4", "hbm2"}
    smallest = min(front, key=lambda row: row["area_mm2"])
    assert smallest["dram"] == "lpddr4"
