"""The Verilator simulation is bit-exact against the fixed-point reference for LSTM and GRU under
every schedule, over hidden 32-256, T in {1, 2, 7, 16}, batch 1-2 and weight buffers smaller and
larger than W_h, and moves the DRAM bytes the accelerator model counts. All runs share one build."""

from __future__ import annotations

import pytest

from tsilstm.accel import load_arch
from tsilstm.accel.evaluate import evaluate_layer
from tsilstm.model import LayerShape
from tsilstm.rtl.run import RTL_SCHEDULES, random_inputs, run_layer

KIB = 1024
# (cell, hidden, input, steps, batch, tile, weight buffer bytes); W_h is 8 G H^2 bytes at 16 bits
CASES = [
    ("lstm", 32, 32, 1, 1, 32, 512 * KIB),  # W_h (32 KiB) fits
    ("gru", 64, 32, 2, 2, 32, 24 * KIB),  # W_h 96 KiB streams through 4 slots
    ("lstm", 128, 64, 7, 2, 32, 32 * KIB),
    ("gru", 128, 96, 16, 1, 64, 512 * KIB),  # W_h 384 KiB fits
    ("lstm", 256, 64, 16, 2, 64, 128 * KIB),  # W_h 512 KiB streams
    ("gru", 256, 256, 7, 1, 32, 48 * KIB),
]


@pytest.mark.parametrize("schedule", RTL_SCHEDULES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_bit_exact_and_model_bytes(edge_design, case, schedule) -> None:  # type: ignore[no-untyped-def]
    cell, hidden, input_size, steps, batch, tile, buffer_bytes = case
    arch = load_arch("edge").with_overrides(tile_units=tile, weight_buffer_bytes=buffer_bytes)
    weights, x = random_inputs(cell, hidden, input_size, steps, batch, seed=hidden + steps)
    result = run_layer(arch, cell, hidden, input_size, steps, batch, schedule, weights, x, design=edge_design)
    assert result.max_abs_error_vs_fixed_point_reference == 0.0
    assert result.outputs.shape == (steps, batch, hidden)
    model = evaluate_layer(LayerShape(cell, input_size, hidden), schedule, steps, batch, arch)
    for kind in ("weights", "input_weights", "inputs", "outputs"):
        assert result.dram_bytes[kind] == model.counts.dram_bytes[kind], kind
    assert result.sram_write_bytes["weight_buffer"] == result.dram_bytes["weights"] + result.dram_bytes["input_weights"]
