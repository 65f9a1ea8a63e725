"""The encoder: DRAM image regions hold what the plan loads, tile slots follow the plan's
residency, and what the design cannot run is refused naming the parameter."""

from __future__ import annotations

import numpy as np
import pytest

from tsilstm.accel import load_arch
from tsilstm.accel.evaluate import layer_program
from tsilstm.errors import InvalidParameterError
from tsilstm.model import LayerShape
from tsilstm.plan import expand, simulate_buffer
from tsilstm.rtl.fixed_point import quantize
from tsilstm.rtl.isa import decode
from tsilstm.rtl.params import design_for
from tsilstm.rtl.program import compile_program
from tsilstm.rtl.reference import quantize_layer
from tsilstm.rtl.run import random_inputs, run_layer

EDGE = load_arch("edge")
DESIGN = design_for(EDGE)


def _compile(cell: str, hidden: int, input_size: int, steps: int, batch: int, schedule: str, buffer_bytes: int, tile: int = 32):  # type: ignore[no-untyped-def]
    arch = EDGE.with_overrides(tile_units=tile, weight_buffer_bytes=buffer_bytes)
    plan = expand(layer_program(LayerShape(cell, input_size, hidden), schedule, steps, arch), steps, batch)
    weights, x = random_inputs(cell, hidden, input_size, steps, batch)
    fmt = DESIGN.formats
    return plan, compile_program(DESIGN, plan, quantize_layer(fmt, cell, weights), quantize(x, fmt.act_frac, fmt.activation_bits), buffer_bytes)


@pytest.mark.parametrize("schedule", ["conventional", "tsi", "tsi-pinned"])
def test_loads_move_the_plans_bytes(schedule: str) -> None:
    plan, program = _compile("lstm", 128, 64, 7, 2, schedule, 32 * 1024)
    ops = [decode(word) for word in program.words]
    line_bytes = DESIGN.weight_line_bits // 8
    loaded = sum(fields["n_lines"] * line_bytes for op, fields in ops if op == "load")
    assert loaded == simulate_buffer(plan).weight_bytes_loaded
    assert ops[0][0] == "config" and ops[-1][0] == "end"
    kinds = {region.kind: region.end - region.start for region in program.regions}
    assert kinds["weights"] == plan.tiling.matrix_bytes("h") and kinds["input_weights"] == plan.tiling.matrix_bytes("x")
    assert kinds["inputs"] == 7 * 2 * 64 * 2 and kinds["outputs"] == 7 * 2 * 128 * 2


def test_slots_are_never_shared_by_resident_tiles() -> None:
    _, program = _compile("gru", 128, 64, 5, 1, "tsi", 24 * 1024)
    resident: set[int] = set()
    for word in program.words:
        op, fields = decode(word)
        if op == "load":
            assert fields["slot"] not in resident
            resident.add(fields["slot"])
        elif op == "evict":
            resident.remove(fields["slot"])
        elif op == "use":
            assert fields["slot"] in resident
        assert all(slot < program.slots for slot in resident)


@pytest.mark.parametrize("kwargs, named", [
    ({"hidden": 40}, "hidden"), ({"input_size": 24}, "input"), ({"steps": 17}, "steps"),
])
def test_what_the_design_cannot_run_is_refused(kwargs: dict, named: str) -> None:
    args = {"hidden": 64, "input_size": 32, "steps": 4} | kwargs
    with pytest.raises(InvalidParameterError, match=named):
        _compile("lstm", args["hidden"], args["input_size"], args["steps"], 1, "tsi", 512 * 1024, tile=16 if named != "hidden" else 8)


def test_run_layer_refuses_naive_and_bad_shapes_before_building() -> None:
    weights, x = random_inputs("lstm", 32, 32, 2, 1)
    with pytest.raises(InvalidParameterError, match="schedule"):
        run_layer(EDGE, "lstm", 32, 32, 2, 1, "naive", weights, x, design=DESIGN)
    with pytest.raises(InvalidParameterError, match="inputs"):
        run_layer(EDGE, "lstm", 32, 32, 2, 1, "tsi", weights, np.zeros((3, 1, 32)), design=DESIGN)
