"""Packing: every body op lands in exactly one thread's list, tiles are stored once per thread in
first-use order, and the packed layout holds the weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsilstm.model import random_layer
from tsilstm.plan import make_program, make_tiling
from tsilstm.runtime import packing
from tsilstm.runtime.kernel_abi import (
    GROUP_ROWS,
    INT8_ACT_OFFSET,
    OP_FINISH,
    OP_USE_H,
    WEIGHT_DTYPES,
    pad_rows,
    tile_layout,
)
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


@settings(deadline=None)  # examples per the profile in tests/conftest.py
@given(dtype=st.sampled_from(WEIGHT_DTYPES), k=st.integers(1, 70), units=st.integers(1, 140), seed=st.integers(0, 99))
def test_packed_tiles_follow_the_kernels_layout(dtype, k, units, seed) -> None:  # type: ignore[no-untyped-def]
    """A packed tile has the size the kernel's layout gives it, its weights where the lane layout
    puts them, and (int8) its row scales and offsets at the offsets the layout exports."""
    block = np.random.default_rng(seed).standard_normal((units, k)).astype(np.float32)
    rows = pad_rows(units)
    layout = tile_layout(dtype, k, rows)
    tile = packing._encode_tile([block], dtype)
    assert tile.size == layout.elements and tile.nbytes == layout.nbytes
    assert layout.stored_k >= k and layout.stored_k % layout.k_lane == 0
    # weight (row u, column j) sits in row group u // GROUP_ROWS at [j // lane][u % group rows][j % lane]
    u, j = units - 1, k - 1
    g0 = u // GROUP_ROWS * GROUP_ROWS
    group_rows = min(GROUP_ROWS, rows - g0)
    at = g0 * layout.stored_k + (j // layout.k_lane * group_rows + u - g0) * layout.k_lane + j % layout.k_lane
    if dtype == "int8":
        q, scale = packing.quantize_rows(np.vstack([block, np.zeros((rows - units, k), np.float32)]))
        assert tile[at] == q[u, j]
        raw = tile.view(np.uint8)
        assert np.array_equal(raw[layout.scales_at_bytes : layout.scales_at_bytes + 4 * rows].view(np.float32), scale)
        offsets = raw[layout.offsets_at_bytes : layout.offsets_at_bytes + 4 * rows].view(np.int32)
        assert np.array_equal(offsets, q.astype(np.int32).sum(axis=1) * INT8_ACT_OFFSET)
    elif dtype == "bfloat16":
        assert tile[at] == packing.to_bfloat16_bits(block[u : u + 1, j])[0]
    else:
        assert tile[at] == block[u, j]
