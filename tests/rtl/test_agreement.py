"""The accelerator model checked against the hardware: for every schedule at three configs
(DRAM-bound, compute-heavy, W_h fits; LSTM, and GRU at the DRAM-bound one) the RTL's weight DRAM
bytes equal ``simulate``'s exactly and its cycles are within 2 % of the model's for the config as
the design builds it (``hardware_arch``: in-order issue, a cycle per instruction, the design's DRAM
port and banks). And the DRAM-bound figure: tsi at most 0.6 x conventional's cycles and 0.55 x its
weight bytes, outputs within 3e-2 of the float LSTM."""

from __future__ import annotations

import pytest

from tsilstm.accel import load_arch
from tsilstm.accel.evaluate import evaluate_layer
from tsilstm.model import LayerShape
from tsilstm.rtl.params import hardware_arch
from tsilstm.rtl.run import RTL_SCHEDULES, random_inputs, run_layer

KIB = 1024
HIDDEN, INPUT, STEPS, TILE = 128, 64, 16, 32
CYCLE_TOLERANCE = 0.02
"""RTL cycles within 2 % of the model's."""
# config -> (batch, weight buffer bytes, activation buffer bytes)
CONFIGS = {
    "dram-bound": (1, 32 * KIB, 256 * KIB),
    "compute-heavy": (16, 32 * KIB, 2048 * KIB),
    "w_h-fits": (1, 512 * KIB, 256 * KIB),
}
CASES = [("lstm", config) for config in sorted(CONFIGS)] + [("gru", "dram-bound")]


def _run(design, cell: str, config: str, schedule: str):  # type: ignore[no-untyped-def]
    batch, buffer_bytes, activation_bytes = CONFIGS[config]
    arch = load_arch("edge").with_overrides(tile_units=TILE, weight_buffer_bytes=buffer_bytes, activation_buffer_bytes=activation_bytes)
    weights, x = random_inputs(cell, HIDDEN, INPUT, STEPS, batch, seed=7)
    rtl = run_layer(arch, cell, HIDDEN, INPUT, STEPS, batch, schedule, weights, x, design=design)
    model = evaluate_layer(LayerShape(cell, INPUT, HIDDEN), schedule, STEPS, batch, hardware_arch(arch, design), full_timing=True)
    return rtl, model


@pytest.mark.parametrize("schedule", RTL_SCHEDULES)
@pytest.mark.parametrize(("cell", "config"), CASES)
def test_agreement_table(edge_design, cell: str, config: str, schedule: str) -> None:  # type: ignore[no-untyped-def]
    rtl, model = _run(edge_design, cell, config, schedule)
    assert rtl.dram_bytes["weights"] == model.counts.dram_bytes["weights"]
    assert rtl.dram_bytes["input_weights"] == model.counts.dram_bytes["input_weights"]
    assert abs(rtl.cycles / model.timing.cycles - 1.0) <= CYCLE_TOLERANCE
    assert rtl.max_abs_error_vs_fixed_point_reference == 0.0


def test_dram_bound_tsi_against_conventional(edge_design) -> None:  # type: ignore[no-untyped-def]
    tsi, _ = _run(edge_design, "lstm", "dram-bound", "tsi")
    conventional, _ = _run(edge_design, "lstm", "dram-bound", "conventional")
    assert tsi.cycles <= 0.6 * conventional.cycles
    assert tsi.dram_bytes["weights"] <= 0.55 * conventional.dram_bytes["weights"]
    assert tsi.max_abs_error_vs_float <= 3e-2
    assert tsi.max_abs_error_vs_fixed_point_reference == 0.0
