"""Packing: every body op lands in exactly one thread's list, tiles are stored once per thread in
first-use order, and the packed layout holds the weights."""

from __future__ import annotations

import numpy as np
import pytest

from tsilstm.model import random_layer
from tsilstm.plan import make_program, make_tiling
from tsilstm.runtime.kernel_abi import GROUP_ROWS, OP_FINISH, OP_USE_H, pad_rows
from tsilstm.runtime.packing import pack_direction


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("schedule", ["tsi", "conventional"])
def test_ops_dealt_round_robin(schedule, threads) -> None:  # type: ignore[no-untyped-def]
    layer = random_layer("lstm", 5, 70, seed=0, dtype=np.float32)
    tiling = make_tiling(70, 5, tile=16)
    program = make_program(schedule, tiling, 1 << 20)
    packed = pack_direction(program, layer, layer.directions[0], threads)
    body_uses = sum(1 for op in program.body if op.kind in ("use", "finish"))
    assert len(packed.ops) == body_uses
    for p in range(threads):
        rows = packed.ops[packed.op_start[p] : packed.op_start[p + 1], 1]
        assert np.all(rows % threads == p)
    uses = packed.ops[packed.ops[:, 0] == OP_USE_H]
    assert packed.weights.size == sum(
        pad_rows(4 * (min(70, 16 * (r + 1)) - 16 * r)) * (min(70, 16 * (c + 1)) - 16 * c)
        for r, c in {(int(r), int(c)) for r, c in uses[:, 1:3]}
    )
    assert packed.weights.ctypes.data % 64 == 0
    assert np.all(packed.ops[packed.ops[:, 0] == OP_FINISH, 5] == 0)


def test_tile_layout_holds_the_weights() -> None:
    layer = random_layer("gru", 3, 40, seed=1, dtype=np.float32)
    tiling = make_tiling(40, 3, tile=24, cell="gru")
    program = make_program("conventional", tiling, 1 << 20)
    packed = pack_direction(program, layer, layer.directions[0], 1)
    w_hh = layer.directions[0].w_hh
    for kind, row, col, _, _, offset in packed.ops:
        if kind != OP_USE_H:
            continue
        u0, u1 = tiling.row_bounds[row]
        c0, c1 = tiling.col_bounds["h"][col]
        block = np.concatenate([w_hh[g * 40 + u0 : g * 40 + u1, c0:c1] for g in range(3)])
        rows = pad_rows(block.shape[0])
        padded = np.zeros((rows, c1 - c0), np.float32)
        padded[: block.shape[0]] = block
        stored = packed.weights[offset : offset + rows * (c1 - c0)]
        rebuilt = np.concatenate([stored[g0 * (c1 - c0) : (g0 + min(GROUP_ROWS, rows - g0)) * (c1 - c0)]
                                  .reshape(c1 - c0, -1).T for g0 in range(0, rows, GROUP_ROWS)])
        assert np.array_equal(rebuilt, padded)


def test_schedules_the_kernel_cannot_run_are_rejected() -> None:
    from tsilstm.errors import UnsupportedModelError

    layer = random_layer("lstm", 5, 32, seed=0, dtype=np.float32)
    naive = make_program("naive", make_tiling(32, 5, tile=16), 1 << 20)
    with pytest.raises(UnsupportedModelError, match="hoisted"):
        pack_direction(naive, layer, layer.directions[0], 1)
