"""Whole-workload evaluation: the issue's acceptance figures, fallbacks, models, bad input."""

from __future__ import annotations

import pytest

from tsilstm.accel.arch_file import load_arch
from tsilstm.accel.evaluate import evaluate_model, evaluate_workload
from tsilstm.accel.workloads import LayerShape, Workload, get_workload, workload_from_model
from tsilstm.errors import InvalidParameterError
from tsilstm.model import random_model


def test_deepbench_lstm_2048_b1_on_edge_meets_the_acceptance_figures() -> None:
    results = {r.schedule: r for r in evaluate_workload(get_workload("deepbench-lstm-2048-b1"), load_arch("edge"), ("conventional", "tsi"))}
    conventional, tsi = results["conventional"], results["tsi"]
    # 25 steps need at least 13 full loads of W_h: 13/25 = 0.52 is the optimum
    assert tsi.counts.dram_bytes["weights"] / conventional.counts.dram_bytes["weights"] <= 0.521
    assert tsi.counts.dram_bytes["input_weights"] == conventional.counts.dram_bytes["input_weights"]
    assert tsi.steps_per_second / conventional.steps_per_second >= 1.85
    assert tsi.energy_pj < conventional.energy_pj


def test_projection_falls_back_and_says_so() -> None:
    workload = Workload("p", (LayerShape("lstm", 64, 128, proj_size=32),), 8, 1)
    (result,) = evaluate_workload(workload, load_arch("edge").with_overrides(weight_buffer_bytes=64 * 1024), ("tsi",))
    assert result.fell_back
    assert result.executed_schedules == ("snake",)
    assert any("projection" in note for note in result.notes)
    assert result.as_dict()["fell_back"] is True


def test_evaluate_model_is_evaluate_workload_of_its_shapes() -> None:
    model = random_model("gru", 48, 64, num_layers=2)
    arch = load_arch("edge").with_overrides(weight_buffer_bytes=32 * 1024)
    by_model = evaluate_model(model, arch, steps=9, batch=2, schedules=("tsi",))[0]
    by_shapes = evaluate_workload(workload_from_model(model, steps=9, batch=2), arch, ("tsi",))[0]
    assert by_model.cycles == by_shapes.cycles
    assert by_model.counts == by_shapes.counts


def test_buffer_smaller_than_one_tile_is_named() -> None:
    arch = load_arch("edge").with_overrides(weight_buffer_bytes=4096)  # one 64-unit tile is 32 KiB at 16 bit
    with pytest.raises(InvalidParameterError, match="weight_buffer_bytes"):
        evaluate_workload(get_workload("deepbench-lstm-512-b1"), arch, ("tsi",))


def test_unknown_schedule_and_reset_before_gru() -> None:
    arch = load_arch("edge").with_overrides(weight_buffer_bytes=64 * 1024)
    with pytest.raises(InvalidParameterError, match="schedule"):
        evaluate_workload(get_workload("deepbench-lstm-256-b1"), arch, ("fastest",))
    workload = Workload("g", (LayerShape("gru", 256, 256, variant="reset_before"),), 6, 1)
    conventional, tsi = evaluate_workload(workload, arch, ("conventional", "tsi"))
    assert tsi.fell_back and tsi.executed_schedules == ("snake",)
    assert any("reset" in note for note in tsi.notes)
    assert conventional.counts.dram_bytes["weights"] == 6 * 3 * 256 * 256 * 2  # reset rows + the rest, every step
