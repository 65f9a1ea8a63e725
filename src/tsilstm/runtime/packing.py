"""Packing of one layer direction for the native kernel: the plan's body as per-thread op arrays and
the weights in the order each thread streams them (done once, at load time)."""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field

import numpy as np

from tsilstm.errors import UnsupportedModelError
from tsilstm.model import DirectionWeights, RecurrentLayer
from tsilstm.plan.ops import EVICT, FINISH, LOAD, PROJECT, USE, Program
from tsilstm.validation import require_choice

VEC_FLOATS = 16
"""Rows of a tile are padded to a multiple of this (one 512-bit register of float32; native/tsi_kernel.c VEC)."""
GROUP_ROWS = 64
"""Rows applied together by the microkernel (native/tsi_kernel.c GROUP_VECS * VEC)."""
ALIGN_BYTES = 64
"""Alignment of the packed weights (a cache line)."""
OP_FIELDS = 6
"""Fields of one native op: kind, row, col, step offset, nsteps, weight offset (floats)."""
OP_USE_H, OP_USE_P, OP_FINISH, OP_PROJECT = 0, 1, 2, 3
"""Native op kinds (native/tsi_kernel.c)."""
HUGE_PAGE_BYTES = 2 * 1024 * 1024
"""Transparent huge page size on x86-64 and most aarch64 kernels (2 MiB)."""
MAX_BODY_SPAN_STEPS = 4
"""Steps one body instance may touch: half the kernel's partial-sum ring (native/tsi_kernel.c RING = 8),
so a slot is never reused while a step in flight still accumulates into it."""
WEIGHT_DTYPES = ("float32", "bfloat16")
"""Element types of the packed recurrent weights (W_h, W_hr). W_ih stays float32 (its product is
compute-bound, hoisted over all steps). bfloat16 halves the bytes streamed per step; products and
sums stay float32."""


@dataclass(frozen=True)
class PackedDirection:
    """One layer direction ready for the kernel.

    ``ops`` (int64, n x OP_FIELDS) holds every thread's share of the body, thread p's ops being
    ``ops[op_start[p]:op_start[p + 1]]``; ``weights`` are float32, 64-byte aligned, each thread's
    tiles contiguous in the order that thread uses them. ``wx`` holds the W_ih tiles (r, xc) in
    the same layout, tile (r, xc) at ``xoff[r, xc]`` (each thread's row-blocks contiguous), and
    ``bias_x`` (R, RP) is where the hoisted input part starts (b_ih, plus b_hh for LSTM);
    ``bias_h`` (R, RP) is where the recurrent partial sums start (b_hh for GRU, zeros for LSTM).
    """

    cell: str
    hidden: int
    recurrent: int
    proj: int
    tile: int
    threads: int
    program: Program
    ops: np.ndarray
    op_start: np.ndarray
    weights: np.ndarray
    bias_h: np.ndarray
    wx: np.ndarray
    xoff: np.ndarray
    bias_x: np.ndarray
    input_size: int
    programs: dict[str, Program] = field(default_factory=dict)
    op_lists: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    dtype: str = "float32"

    @property
    def weight_bytes(self) -> int:
        """Bytes of the packed recurrent weights (W_h, and W_hr with a projection), padding included."""
        return int(self.weights.nbytes)


def pad_rows(rows: int) -> int:
    """``rows`` rounded up to a multiple of VEC_FLOATS."""
    return -(-rows // VEC_FLOATS) * VEC_FLOATS


def pack_direction(
    program: Program,
    layer: RecurrentLayer,
    weights: DirectionWeights,
    threads: int,
    extra_programs: tuple[Program, ...] = (),
    dtype: str = "float32",
) -> PackedDirection:
    """Pack ``weights`` of one direction of ``layer`` for ``program`` run by ``threads`` threads.

    Row-blocks (and projection row-blocks) are dealt to threads round-robin (r % threads); each
    thread gets the body's ops of its rows in body order, and its tiles are stored in the order of
    their first use. ``extra_programs`` (same tiling) get op lists over the same packed weights, so
    the runtime can switch schedule per call without a second copy. ``dtype`` (WEIGHT_DTYPES) is
    the element type of the packed W_h / W_hr tiles (bfloat16: rounded to nearest even). Uses of
    W_x tiles (the naive schedule, which does not hoist) are not supported.
    """
    require_choice("dtype", dtype, WEIGHT_DTYPES)
    tiling = program.tiling
    w = weights.astype(np.float32)
    placed: list[dict[tuple[str, int, int], int]] = [{} for _ in range(threads)]
    chunks: list[np.ndarray] = []
    offset = 0
    op_lists: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for prog in (program, *extra_programs):
        rows_out: list[list[int]] = []
        op_start = [0]
        for p, ops in enumerate(_thread_ops(prog, threads)):
            for kind, row, col, step, nsteps, key in ops:
                woff = 0
                if key is not None:
                    if key not in placed[p]:
                        packed = _pack_tile(w, tiling, *key)
                        placed[p][key] = offset
                        chunks.append(packed)
                        offset += packed.size
                    woff = placed[p][key]
                rows_out.append([kind, row, col, step, nsteps, woff])
            op_start.append(len(rows_out))
        op_lists[prog.schedule] = (
            np.asarray(rows_out, dtype=np.int64).reshape(-1, OP_FIELDS),
            np.asarray(op_start, dtype=np.int64),
        )
    flat = _aligned_empty(offset, np.float32 if dtype == "float32" else np.uint16)
    if chunks:
        if dtype == "float32":
            np.concatenate(chunks, out=flat)
        else:
            flat[:] = to_bfloat16_bits(np.concatenate(chunks))
    bias_h = _row_block_vectors(tiling, w.b_hh if layer.cell == "gru" else np.zeros_like(w.b_hh))
    bias_x = _row_block_vectors(tiling, w.b_ih if layer.cell == "gru" else (w.b_ih + w.b_hh).astype(np.float32))
    wx, xoff = _pack_input_tiles(w, tiling, threads)
    ops, op_start = op_lists[program.schedule]
    return PackedDirection(
        cell=layer.cell,
        hidden=tiling.hidden,
        recurrent=tiling.recurrent,
        proj=tiling.proj,
        tile=tiling.tile,
        threads=threads,
        program=program,
        ops=ops,
        op_start=op_start,
        weights=flat,
        bias_h=bias_h,
        wx=wx,
        xoff=xoff,
        bias_x=bias_x,
        input_size=tiling.input,
        dtype=dtype,
        programs={prog.schedule: prog for prog in (program, *extra_programs)},
        op_lists=op_lists,
    )


def _thread_ops(program: Program, threads: int) -> list[list[tuple[int, int, int, int, int, tuple[str, int, int] | None]]]:
    """The body's ops dealt to threads by row-block (r % threads), in body order, as
    (kind, row, col, step, nsteps, tile key or None)."""
    per_thread: list[list[tuple[int, int, int, int, int, tuple[str, int, int] | None]]] = [[] for _ in range(threads)]
    proj_rows = len(program.tiling.proj_row_bounds)
    steps = [op.step for op in program.body] + [op.step + op.nsteps - 1 for op in program.body if op.kind == USE]
    if max(steps) - min(steps) + 1 > MAX_BODY_SPAN_STEPS:
        raise UnsupportedModelError(
            f"schedule {program.schedule!r} spans {max(steps) - min(steps) + 1} steps per body; the kernel's "
            f"partial-sum ring holds {MAX_BODY_SPAN_STEPS}"
        )
    for op in program.body:
        if op.kind == USE:
            if op.src not in ("h", "p"):
                raise UnsupportedModelError(
                    f"schedule {program.schedule!r} uses tiles of source {op.src!r} inside the recurrence; the "
                    "native kernel runs W_h and W_hr tiles only (W_x is hoisted; the reset-before GRU is not run)"
                )
            kind = OP_USE_H if op.src == "h" else OP_USE_P
            per_thread[op.row % threads].append((kind, op.row, op.col, op.step, op.nsteps, (op.src, op.row, op.col)))
        elif op.kind == FINISH:
            per_thread[op.row % threads].append((OP_FINISH, op.row, -1, op.step, 1, None))
        elif op.kind == PROJECT:
            for pr in range(proj_rows):
                per_thread[pr % threads].append((OP_PROJECT, pr, -1, op.step, 1, None))
        elif op.kind not in (LOAD, EVICT):  # buffer management has no meaning on a CPU cache
            raise UnsupportedModelError(
                f"schedule {program.schedule!r} uses op kind {op.kind!r}, which the native kernel does not run"
            )
    return per_thread


def _row_block_vectors(tiling, vector: np.ndarray) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A (gates * hidden) vector in torch gate order as (R, RP): row-block r's gate-grouped entries."""
    hidden, gates = tiling.hidden, tiling.gates
    out = np.zeros((tiling.row_blocks, pad_rows(gates * tiling.tile)), dtype=np.float32)
    for r, (u0, u1) in enumerate(tiling.row_bounds):
        out[r, : gates * (u1 - u0)] = np.concatenate([vector[g * hidden + u0 : g * hidden + u1] for g in range(gates)])
    return out


def _pack_input_tiles(w: DirectionWeights, tiling, threads: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """W_ih as tiles (r, xc), thread by thread (row-blocks r % threads == p ascending, xc ascending),
    with the offset (floats) of each tile."""
    rows = tiling.row_blocks
    cols = len(tiling.col_bounds["x"])
    xoff = np.zeros((rows, cols), dtype=np.int64)
    chunks = []
    offset = 0
    for p in range(threads):
        for r in range(p, rows, threads):
            for xc in range(cols):
                packed = _pack_tile(w, tiling, "x", r, xc)
                xoff[r, xc] = offset
                chunks.append(packed)
                offset += packed.size
    flat = _aligned_empty(offset, np.float32)
    np.concatenate(chunks, out=flat)
    return flat, xoff


def to_bfloat16_bits(values: np.ndarray) -> np.ndarray:
    """float32 ``values`` rounded to bfloat16 (nearest, ties to even) as their uint16 bit patterns;
    finite inputs only (model weights are checked finite on load)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    return (rounded >> np.uint32(16)).astype(np.uint16)


def from_bfloat16_bits(bits: np.ndarray) -> np.ndarray:
    """The float32 values of bfloat16 bit patterns ``bits`` (uint16)."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _pack_tile(w: DirectionWeights, tiling, src: str, row: int, col: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    """One tile in the kernel's layout: rows padded to VEC_FLOATS, groups of GROUP_ROWS rows, each
    group stored column-major ([K][group rows])."""
    c0, c1 = tiling.col_bounds[src][col]
    if src in ("h", "x"):
        u0, u1 = tiling.row_bounds[row]
        hidden = tiling.hidden
        matrix = w.w_hh if src == "h" else w.w_ih
        block = np.concatenate([matrix[g * hidden + u0 : g * hidden + u1, c0:c1] for g in range(tiling.gates)])
    else:
        p0, p1 = tiling.proj_row_bounds[row]
        block = w.w_hr[p0:p1, c0:c1]
    rows = pad_rows(block.shape[0])
    padded = np.zeros((rows, c1 - c0), dtype=np.float32)
    padded[: block.shape[0]] = block
    return np.concatenate([padded[g0 : g0 + GROUP_ROWS].T.ravel() for g0 in range(0, rows, GROUP_ROWS)])


def _aligned_empty(count: int, dtype: type) -> np.ndarray:
    """An array of ``count`` elements of ``dtype`` whose data starts on an ALIGN_BYTES boundary.

    Large buffers are anonymous memory mappings aligned to HUGE_PAGE_BYTES and advised to use
    transparent huge pages (MADV_HUGEPAGE): streaming weights through 4 KiB pages costs a TLB miss
    per page, which was measured to cut the read bandwidth of one core by more than half here.
    """
    itemsize = np.dtype(dtype).itemsize
    nbytes = count * itemsize
    if nbytes >= HUGE_PAGE_BYTES and hasattr(mmap, "MADV_HUGEPAGE"):
        region = mmap.mmap(-1, nbytes + HUGE_PAGE_BYTES)
        raw = np.frombuffer(region, dtype=np.uint8)
        shift = -raw.ctypes.data % HUGE_PAGE_BYTES
        try:
            region.madvise(mmap.MADV_HUGEPAGE, shift, nbytes)
        except OSError:  # kernel without transparent huge pages: the mapping still works
            pass
        return raw[shift : shift + nbytes].view(dtype)
    raw = np.empty(count + ALIGN_BYTES // itemsize, dtype=dtype)
    shift = (-raw.ctypes.data % ALIGN_BYTES) // itemsize
    return raw[shift : shift + count]
