"""Counts and energy: hand-computed values, buffer uses against the buffer simulation, energy equal
to its breakdown, more buffer never more traffic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.accel.arch_config import ArchConfig

from tsilstm.accel.arch_file import arch_from_dict, load_arch
from tsilstm.accel.counts import use_op_count
from tsilstm.accel.energy import ENERGY_PARTS
from tsilstm.accel.evaluate import evaluate_workload
from tsilstm.accel.workloads import LayerShape, Workload, get_workload
from tsilstm.model import gate_count
from tsilstm.plan import SCHEDULES, Tiling, expand, make_program, simulate_buffer
from tests.accel.conftest import tiny_arch_dict


def _one(shape: LayerShape, steps: int, batch: int, arch: ArchConfig, schedule: str = "conventional"):  # type: ignore[no-untyped-def]
    return evaluate_workload(Workload("t", (shape,), steps, batch), arch, (schedule,))[0]


def test_golden_counts_and_energy_by_hand(tiny_arch: ArchConfig) -> None:
    # LSTM H = X = 4, T = 2, batch 1, 16-bit weights/activations, 32-bit accumulators, W_h fits
    result = _one(LayerShape("lstm", 4, 4), 2, 1, tiny_arch)
    counts = result.counts
    assert counts.dram_bytes == {
        "weights": 128.0,  # W_h 4*4*4 x 2 B, loaded once
        "input_weights": 128.0,  # W_x, loaded once
        "inputs": 16.0,  # x: 2 steps x 4 x 2 B
        "preactivations": 0.0,  # fit in the 1 MiB activation buffer
        "states": 32.0,  # h0, c0 read + h_T, c_T written: 2 x (4 + 4) x 2 B
        "outputs": 16.0,  # h_t written: 2 x 4 x 2 B
    }
    assert counts.macs == 2 * 16 * (4 + 4)
    assert counts.activation_evaluations == 2 * 4 * 5
    assert counts.tile_uses == 1 + 2  # W_x once for both steps, W_h once per step
    assert counts.sram_read_bytes["weight_buffer"] == 3 * 128
    assert counts.sram_write_bytes["weight_buffer"] == 256
    # energy: 1 pJ per MAC, 1 pJ per DRAM bit, nothing else (the tiny config)
    breakdown = result.energy_breakdown_pj
    assert breakdown["mac"] == 256
    assert breakdown["dram_weights"] == 128 * 8
    assert breakdown["dram_input_weights"] == 128 * 8
    assert breakdown["dram_activations"] == (16 + 32 + 16) * 8
    assert result.energy_pj == 256 + 1024 + 1024 + 512
    assert result.cycles == 44  # see test_timing.test_golden_timeline_by_hand


@pytest.mark.parametrize("workload", ["deepbench-lstm-512-b2", "mos-ptb", "speech-lstmp-2048-p512"])
@pytest.mark.parametrize("preset", ["edge", "server"])
def test_energy_equals_the_sum_of_its_breakdown(workload: str, preset: str) -> None:
    for result in evaluate_workload(get_workload(workload), load_arch(preset), ("conventional", "tsi")):
        assert set(result.energy_breakdown_pj) == set(ENERGY_PARTS)
        assert all(v >= 0 for v in result.energy_breakdown_pj.values())
        assert result.energy_pj == pytest.approx(sum(result.energy_breakdown_pj.values()), rel=1e-12)
        assert result.as_dict()["energy_pj"] == pytest.approx(sum(result.as_dict()["energy_breakdown_pj"].values()))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 20), st.integers(1, 20), st.integers(1, 10), st.sampled_from(["lstm", "gru"]),
    st.integers(1, 9), st.sampled_from(SCHEDULES), st.data(),
)
def test_tile_uses_equal_the_buffer_simulation(hidden, input_size, tile, cell, steps, schedule, data) -> None:  # type: ignore[no-untyped-def]
    tiling = Tiling(hidden, input_size, min(tile, hidden), gate_count(cell), 0, 2)
    buffer = data.draw(st.integers(tiling.max_tile_bytes, 2 * tiling.matrix_bytes("h") + tiling.max_tile_bytes))
    program = make_program(schedule, tiling, buffer)
    plan = expand(program, steps)
    uses, read_bytes = use_op_count(program, steps)
    assert uses == simulate_buffer(plan).uses
    assert read_bytes == sum(tiling.tile_bytes(op.tile) for op in plan.ops if op.kind == "use")


@settings(max_examples=40, deadline=None)
@given(
    st.sampled_from([8, 12, 16, 24]), st.sampled_from(["lstm", "gru"]), st.integers(1, 12),
    st.sampled_from(SCHEDULES), st.integers(256, 6000), st.integers(1, 4000),
)
def test_more_buffer_never_more_traffic(hidden, cell, steps, schedule, buffer, extra) -> None:  # type: ignore[no-untyped-def]
    data = tiny_arch_dict(memory__weight_buffer_bytes=buffer)
    small = arch_from_dict(data)
    large = small.with_overrides(weight_buffer_bytes=buffer + extra)
    shape = LayerShape(cell, hidden, hidden)
    less = _one(shape, steps, 1, small, schedule).counts.dram_bytes
    more = _one(shape, steps, 1, large, schedule).counts.dram_bytes
    assert more["weights"] + more["input_weights"] <= less["weights"] + less["input_weights"]


def test_bidirectional_and_layers_add_up() -> None:
    arch = load_arch("edge")
    one = _one(LayerShape("lstm", 256, 256), 10, 1, arch, "tsi")
    both = _one(LayerShape("lstm", 256, 256, bidirectional=True), 10, 1, arch, "tsi")
    assert both.counts.dram_bytes["weights"] == 2 * one.counts.dram_bytes["weights"]
    assert both.cycles == 2 * one.cycles
    assert both.energy_pj == pytest.approx(2 * one.energy_pj)


def test_peepholes_add_three_cell_multiplies_per_unit_and_step():
    from tsilstm.accel.arch_file import load_arch
    from tsilstm.accel.evaluate import evaluate_layer
    from tsilstm.model import LayerShape

    arch = load_arch("edge")
    plain = evaluate_layer(LayerShape("lstm", 64, 128), "tsi", 10, 2, arch).counts
    peep = evaluate_layer(LayerShape("lstm", 64, 128, peepholes=True), "tsi", 10, 2, arch).counts
    assert peep.cell_multiplies - plain.cell_multiplies == 10 * 2 * 128 * 3
    assert peep.macs == plain.macs
