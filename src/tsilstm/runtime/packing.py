"""Packing of one layer direction for the native kernel: the plan's body as per-thread op arrays and
the weights in the order each thread streams them (done once, at load time)."""

from __future__ import annotations

import mmap
from dataclasses import dataclass, field

import numpy as np

from tsilstm.cell_spec import CellSpec, cell_spec
from tsilstm.errors import InvalidParameterError, UnsupportedModelError
from tsilstm.model import DirectionWeights, RecurrentLayer
from tsilstm.plan.ops import EVICT, FINISH, LOAD, PROJECT, RESET, USE, Program
from tsilstm.plan.tiling import Tiling
from tsilstm.runtime.kernel_abi import (
    ACTIVATION_CODES,
    ALIGN_BYTES,
    CELL_ACTIVATIONS,
    GROUP_ROWS,
    INT8_ACT_OFFSET,
    MAX_BODY_SPAN_STEPS,
    OP_FIELDS,
    OP_FINISH,
    OP_PROJECT,
    OP_RESET,
    OP_USE_H,
    OP_USE_P,
    OP_USE_R,
    OP_USE_ZN,
    WEIGHT_DTYPES,
    TileLayout,
    block_layout,
    input_tail_bytes,
    input_weight_dtype,
    pad_rows,
    tile_layout,
)
from tsilstm.validation import require_choice

HUGE_PAGE_BYTES = 2 * 1024 * 1024
"""Transparent huge page size on x86-64 and most aarch64 kernels (2 MiB)."""


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
    variant: str
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
    op_lists: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """(ops, op_start) of every packed program by (schedule, threads): ``threads`` and each of
    ``thread_options`` (the same packed weights, row-block r run by thread r % that count)."""
    thread_options: tuple[int, ...] = ()
    """Thread counts the op lists are made for (``threads`` first)."""
    dtype: str = "float32"
    input_dtype: str = "float32"
    """Element type of the packed W_ih (``wx``), see ``input_weight_dtype``."""

    @property
    def spec(self) -> CellSpec:
        """The facts of the packed cell."""
        return cell_spec(self.cell)
    options: "CellOptions" = field(default_factory=lambda: CellOptions())
    """The cell's options beyond PyTorch's (activations, clip, input_forget, peepholes)."""
    call_arguments: dict[tuple[str, str | None, int], tuple[object, ...]] = field(default_factory=dict, compare=False)
    """The kernel's unchanging arguments per (schedule, isa, threads), filled by the first call (execution.py)."""

    @property
    def weight_bytes(self) -> int:
        """Bytes of the packed recurrent weights (W_h, and W_hr with a projection), padding included."""
        return int(self.weights.nbytes)


@dataclass(frozen=True)
class CellOptions:
    """A cell's options beyond PyTorch's, as the kernel takes them: ``activations`` float32
    (code, alpha, beta) per activation slot (empty: PyTorch's cell), ``clip`` (0: none),
    ``input_forget``, ``peepholes`` float32 (3 * hidden: i, f, o rows; empty: none)."""

    activations: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    clip: float = 0.0
    input_forget: bool = False
    peepholes: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))


def cell_options(layer: RecurrentLayer, weights: DirectionWeights) -> CellOptions:
    """The kernel's form of ``layer``'s cell options for one direction's ``weights``."""
    if layer.standard_cell:
        return CellOptions()
    slots = list(layer.activations) + [layer.activations[-1]] * (CELL_ACTIVATIONS - len(layer.activations))
    table = np.array([[ACTIVATION_CODES[a.name], a.alpha, a.beta] for a in slots], dtype=np.float32).ravel()
    peepholes = (np.zeros(0, dtype=np.float32) if weights.peepholes is None
                 else np.ascontiguousarray(weights.peepholes, dtype=np.float32).ravel())
    return CellOptions(table, layer.clip or 0.0, layer.input_forget, peepholes)


def pack_direction(
    program: Program,
    layer: RecurrentLayer,
    weights: DirectionWeights,
    threads: int,
    extra_programs: tuple[Program, ...] = (),
    dtype: str = "float32",
    isa: str = "generic",
    fewer_threads: tuple[int, ...] = (),
) -> PackedDirection:
    """Pack ``weights`` of one direction of ``layer`` for ``program`` run by ``threads`` threads.

    Row-blocks (and projection row-blocks) are dealt to threads round-robin (r % threads); each
    thread gets the body's ops of its rows in body order, and its tiles are stored in the order of
    their first use. ``extra_programs`` (same tiling) get op lists over the same packed weights, so
    the runtime can switch schedule per call without a second copy; ``fewer_threads`` (each below
    ``threads``) get op lists too, over the same weights (a thread then runs row-blocks whose tiles
    another thread's stretch holds: the streams are less sequential, the results bitwise the same).
    ``dtype`` (WEIGHT_DTYPES) is
    the element type of the packed W_h / W_hr tiles (bfloat16: rounded to nearest even; int8:
    symmetric, one scale per row of each tile, see ``quantize_rows``); W_ih's type follows from
    ``dtype`` and the ``isa`` it will run on (``input_weight_dtype``). Uses of
    W_x tiles (the naive schedule, which does not hoist) are not supported. For an original-form
    GRU the plan's ``r`` tiles (reset rows) and ``h`` tiles (update rows, then candidate rows) are
    packed as the kernel's reset and update/candidate tiles.
    """
    require_choice("dtype", dtype, WEIGHT_DTYPES)
    tiling = program.tiling
    w = weights.astype(np.float32)
    placed: list[dict[tuple[str, int, int], int]] = [{} for _ in range(threads)]
    chunks: list[np.ndarray] = []
    offset = 0
    op_lists: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
    for count in fewer_threads:
        if not 1 <= count < threads:
            raise InvalidParameterError("fewer_threads", count, f"each must be in [1, {threads - 1}]")
    for prog in (program, *extra_programs):
        rows_out: list[list[int]] = []
        op_start = [0]
        for p, ops in enumerate(_thread_ops(prog, threads)):
            for kind, row, col, step, nsteps, key in ops:
                woff = 0
                if key is not None:
                    if key not in placed[p]:
                        packed = _encode_tile(_tile_parts(w, tiling, *key), dtype)
                        placed[p][key] = offset
                        chunks.append(packed)
                        offset += packed.size
                    woff = placed[p][key]
                rows_out.append([kind, row, col, step, nsteps, woff])
            op_start.append(len(rows_out))
        op_lists[(prog.schedule, threads)] = _op_arrays(rows_out, op_start)
    for count in fewer_threads:
        for prog in (program, *extra_programs):
            rows_out, op_start = [], [0]
            for ops in _thread_ops(prog, count):
                rows_out += [[kind, row, col, step, nsteps, 0 if key is None else placed[row % threads][key]]
                             for kind, row, col, step, nsteps, key in ops]
                op_start.append(len(rows_out))
            op_lists[(prog.schedule, count)] = _op_arrays(rows_out, op_start)
    flat = _aligned_empty(offset, _STORAGE[dtype])
    if chunks:
        np.concatenate(chunks, out=flat)
    apart = layer.spec.recurrent_part_apart  # b_hh starts the recurrent sums, else joins b_ih in the hoisted part
    bias_h = _row_block_vectors(tiling, layer.variant, w.b_hh if apart else np.zeros_like(w.b_hh))
    bias_x = _row_block_vectors(tiling, layer.variant, w.b_ih if apart else (w.b_ih + w.b_hh).astype(np.float32))
    input_dtype = input_weight_dtype(dtype, isa)
    wx, xoff = _pack_input_tiles(w, tiling, layer.variant, threads, input_dtype)
    ops, op_start = op_lists[(program.schedule, threads)]
    return PackedDirection(
        cell=layer.cell,
        variant=layer.variant,
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
        input_dtype=input_dtype,
        programs={prog.schedule: prog for prog in (program, *extra_programs)},
        op_lists=op_lists,
        thread_options=(threads, *fewer_threads),
        options=cell_options(layer, weights),
    )


def _op_arrays(rows: list[list[int]], op_start: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Op records and per-thread offsets as the kernel's int64 arrays."""
    return np.asarray(rows, dtype=np.int64).reshape(-1, OP_FIELDS), np.asarray(op_start, dtype=np.int64)


def _thread_ops(program: Program, threads: int) -> list[list[tuple[int, int, int, int, int, tuple[str, int, int] | None]]]:
    """The body's ops dealt to threads by row-block (r % threads), in body order, as
    (kind, row, col, step, nsteps, tile key or None)."""
    per_thread: list[list[tuple[int, int, int, int, int, tuple[str, int, int] | None]]] = [[] for _ in range(threads)]
    proj_rows = len(program.tiling.proj_row_bounds)
    run = [op for op in program.body if op.kind not in (LOAD, EVICT)]
    first, last = min(op.step for op in run), max(op.step + op.nsteps - 1 for op in run)
    if last - first + 1 > MAX_BODY_SPAN_STEPS:
        raise UnsupportedModelError(
            f"schedule {program.schedule!r} spans {last - first + 1} steps per body; the kernel's "
            f"partial-sum ring holds {MAX_BODY_SPAN_STEPS}"
        )
    use_kinds = {"h": OP_USE_ZN if program.tiling.reset_before else OP_USE_H, "p": OP_USE_P, "r": OP_USE_R}
    for op in program.body:
        if op.kind == USE:
            if op.src not in use_kinds:
                raise UnsupportedModelError(
                    f"schedule {program.schedule!r} uses tiles of source {op.src!r} inside the recurrence; the "
                    "native kernel runs recurrent tiles only (W_x is hoisted over all steps)"
                )
            per_thread[op.row % threads].append(
                (use_kinds[op.src], op.row, op.col, op.step, op.nsteps, (op.src, op.row, op.col))
            )
        elif op.kind == FINISH:
            per_thread[op.row % threads].append((OP_FINISH, op.row, -1, op.step, 1, None))
        elif op.kind == RESET:
            per_thread[op.row % threads].append((OP_RESET, op.row, -1, op.step, 1, None))
        elif op.kind == PROJECT:
            for pr in range(proj_rows):
                per_thread[pr % threads].append((OP_PROJECT, pr, -1, op.step, 1, None))
        elif op.kind not in (LOAD, EVICT):  # buffer management has no meaning on a CPU cache
            raise UnsupportedModelError(
                f"schedule {program.schedule!r} uses op kind {op.kind!r}, which the native kernel does not run"
            )
    return per_thread


def _gate_grouped(tiling: Tiling, variant: str, row: int, matrix: np.ndarray) -> np.ndarray:
    """The gate rows of row-block ``row`` taken from ``matrix`` (gates * hidden rows in torch gate
    order, any columns), in the kernel's row-block layout (gate g from g * gate stride, zero padding)."""
    u0, u1 = tiling.row_bounds[row]
    stride, rows = block_layout(tiling.gates, variant, tiling.tile, u1 - u0)
    out = np.zeros((rows,) + matrix.shape[1:], dtype=np.float32)
    for g in range(tiling.gates):
        out[g * stride : g * stride + u1 - u0] = matrix[g * tiling.hidden + u0 : g * tiling.hidden + u1]
    return out


def _row_block_vectors(tiling: Tiling, variant: str, vector: np.ndarray) -> np.ndarray:
    """A (gates * hidden) vector in torch gate order as (R, RP): row-block r's gate-grouped entries."""
    width = block_layout(tiling.gates, variant, tiling.tile, tiling.tile)[1]
    out = np.zeros((tiling.row_blocks, width), dtype=np.float32)
    for r in range(tiling.row_blocks):
        block = _gate_grouped(tiling, variant, r, vector)
        out[r, : block.size] = block
    return out


def _pack_input_tiles(w: DirectionWeights, tiling: Tiling, variant: str, threads: int,
                      dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """W_ih as tiles (r, xc) of ``dtype``, thread by thread (row-blocks r % threads == p ascending,
    xc ascending), with the offset (elements) of each tile."""
    rows = tiling.row_blocks
    cols = len(tiling.col_bounds["x"])
    xoff = np.zeros((rows, cols), dtype=np.int64)
    chunks = []
    offset = 0
    for p in range(threads):
        for r in range(p, rows, threads):
            for xc in range(cols):
                c0, c1 = tiling.col_bounds["x"][xc]
                packed = _encode_tile([_gate_grouped(tiling, variant, r, w.w_ih[:, c0:c1])], dtype)
                xoff[r, xc] = offset
                chunks.append(packed)
                offset += packed.size
    # zeros a tile unit's load may read past the last tile
    overread = input_tail_bytes(dtype) // np.dtype(_STORAGE[dtype]).itemsize
    flat = _aligned_empty(offset + overread, _STORAGE[dtype])
    np.concatenate(chunks, out=flat[:offset])
    flat[offset:] = 0
    return flat, xoff


def to_bfloat16_bits(values: np.ndarray) -> np.ndarray:
    """float32 ``values`` rounded to bfloat16 (nearest, ties to even) as their uint16 bit patterns;
    finite inputs only (model weights are checked finite on load)."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    # a finite value that would round past the largest bfloat16 is cut instead (never infinite)
    near_max = (bits & np.uint32(0x7FFFFFFF)) >= np.uint32(0x7F7F8000)
    return (np.where(near_max, bits, rounded) >> np.uint32(16)).astype(np.uint16)


def from_bfloat16_bits(bits: np.ndarray) -> np.ndarray:
    """The float32 values of bfloat16 bit patterns ``bits`` (uint16)."""
    return (np.asarray(bits, dtype=np.uint16).astype(np.uint32) << np.uint32(16)).view(np.float32)


_STORAGE: dict[str, type] = {"float32": np.float32, "bfloat16": np.uint16, "int8": np.int8}
"""numpy element type of the packed weights of each WEIGHT_DTYPES entry (bfloat16 as its bits)."""
assert set(_STORAGE) == set(WEIGHT_DTYPES), "a kernel weight type has no packing"


def _tile_parts(w: DirectionWeights, tiling: Tiling, src: str, row: int, col: int) -> list[np.ndarray]:
    """One recurrent tile as the float blocks (rows x K) the kernel stores one after another: W_h
    tile (r, c) with every gate of its row-block (``h``), or for an original-form GRU its reset rows
    (``r``) or its update rows and its candidate rows (``h``, two parts: the kernel accumulates them
    apart); W_hr tile (``p``)."""
    c0, c1 = tiling.col_bounds[src][col]
    if src == "p":
        p0, p1 = tiling.proj_row_bounds[row]
        return [w.w_hr[p0:p1, c0:c1]]
    u0, u1 = tiling.row_bounds[row]
    hidden = tiling.hidden
    gates = {"r": (0,), "h": (1, 2) if tiling.reset_before else tuple(range(tiling.gates))}[src]
    if tiling.reset_before:
        return [w.w_hh[g * hidden + u0 : g * hidden + u1, c0:c1] for g in gates]
    return [np.concatenate([w.w_hh[g * hidden + u0 : g * hidden + u1, c0:c1] for g in gates])]


def _encode_tile(parts: list[np.ndarray], dtype: str) -> np.ndarray:
    """``parts`` (float blocks, rows x K) in the kernel's tile layout for weights of ``dtype``, one
    tile after another (each laid out as ``kernel_abi.tile_layout`` says)."""
    return np.concatenate([_encode_part(part, dtype) for part in parts])


def _encode_part(block: np.ndarray, dtype: str) -> np.ndarray:
    """One float block (rows x K) as one tile of ``dtype``: rows padded to VEC_FLOATS, groups of
    GROUP_ROWS rows, each [stored k / lane][group rows][lane] (``lane`` consecutive k of a row
    together; float32: lane 1, i.e. column-major [K][group rows]); int8 tiles end in their row
    scales and offsets where the layout puts them."""
    padded = np.zeros((pad_rows(block.shape[0]), block.shape[1]), dtype=np.float32)
    padded[: block.shape[0]] = block
    layout = tile_layout(dtype, block.shape[1], padded.shape[0])
    if dtype == "int8":
        q, scale = quantize_rows(padded)
        offsets = (q.astype(np.int32).sum(axis=1) * np.int32(INT8_ACT_OFFSET)).astype(np.int32)
        tile = np.zeros(layout.elements, dtype=np.int8)
        groups = _lane_groups(q, layout)
        tile[: groups.size] = groups
        assert layout.scales_at_bytes is not None and layout.offsets_at_bytes is not None
        tile[layout.scales_at_bytes : layout.scales_at_bytes + scale.nbytes] = scale.view(np.int8)
        tile[layout.offsets_at_bytes : layout.offsets_at_bytes + offsets.nbytes] = offsets.view(np.int8)
        return tile
    values = to_bfloat16_bits(padded) if dtype == "bfloat16" else padded
    tile = _lane_groups(values, layout)
    if tile.size != layout.elements:
        raise AssertionError(f"packed {tile.size} elements where the kernel's layout has {layout.elements}")
    return tile


def _lane_groups(values: np.ndarray, layout: TileLayout) -> np.ndarray:
    """``values`` (rows x K, rows a multiple of VEC_FLOATS) in groups of GROUP_ROWS rows, each
    [stored k / lane][group rows][lane] as ``layout`` says (zeros past K)."""
    rows, k = values.shape
    wide = np.zeros((rows, layout.stored_k), dtype=values.dtype)
    wide[:, :k] = values
    lanes = wide.reshape(rows, -1, layout.k_lane)
    return np.concatenate([lanes[g0 : g0 + GROUP_ROWS].transpose(1, 0, 2).ravel() for g0 in range(0, rows, GROUP_ROWS)])


def quantize_rows(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 quantization of each row of ``block`` (rows x K, finite): (q int8, scale
    float32 per row) with weight ~= q * scale, scale = max|row| / 127 and q = round(weight / scale)
    (ties to even); an all-zero row has scale 0 and q 0, so it stays exactly zero."""
    block = np.asarray(block, dtype=np.float32)
    if not np.isfinite(block).all():
        raise InvalidParameterError("weights", "non-finite values", "int8 quantization needs finite weights")
    top = np.abs(block).max(axis=1) if block.shape[1] else np.zeros(block.shape[0], dtype=np.float32)
    scale = (top / np.float32(127.0)).astype(np.float32)
    safe = np.where(scale > 0, scale, np.float32(1.0))
    q = np.clip(np.rint(block / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale


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
