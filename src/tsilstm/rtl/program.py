"""From a plan to what the accelerator loads at run time: the instruction words (isa.py) and the
DRAM image (tiles, biases, inputs, room for the outputs) with its regions named by traffic kind.

Weight-buffer slots: the buffer is cut into slots of the largest tile; each ``load`` takes the
free slot that has been free longest (so the load engine can run ahead into the slots the plan
leaves free), each ``evict`` frees its tile's slot. A program may use fewer slots than the
physical buffer has (``buffer_bytes``): a smaller buffer on the same silicon.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from tsilstm.errors import InvalidParameterError
from tsilstm.plan.ops import EVICT, FINISH, LOAD, USE, Op, Plan
from tsilstm.plan.tiling import Tile, Tiling
from tsilstm.rtl.isa import FETCH_BIAS, FETCH_INPUT, encode
from tsilstm.rtl.params import DesignParams
from tsilstm.rtl.reference import ACC_GATES, QuantizedLayer

_INT_TYPES = {8: "<i1", 16: "<i2", 32: "<i4"}
DRAM_KINDS = ("weights", "input_weights", "biases", "inputs", "outputs")
"""Regions of the DRAM image; the first two and ``inputs``/``outputs`` are keys of the model's
``dram_bytes``; ``biases`` the model does not count."""


@dataclass(frozen=True)
class DramRegion:
    """Bytes ``start .. end - 1`` of the DRAM image hold data of traffic kind ``kind``."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class RtlProgram:
    """A program and its DRAM image for one layer run: ``words`` (128-bit instructions), ``image``
    bytes, ``regions``, and what is needed to read the outputs back."""

    words: tuple[int, ...]
    image: bytes
    regions: tuple[DramRegion, ...]
    steps: int
    batch: int
    hidden: int
    slots: int
    activation_bits: int

    def outputs(self, image: bytes) -> np.ndarray:
        """The (T, B, H) h sequence (activation format) stored in ``image`` after a run."""
        region = next(r for r in self.regions if r.kind == "outputs")
        raw = np.frombuffer(image[region.start : region.end], dtype=_INT_TYPES[self.activation_bits])
        return raw.astype(np.int64).reshape(self.steps, self.batch, self.hidden)


class _Image:
    """The DRAM image under construction, beat aligned."""

    def __init__(self, beat_bytes: int) -> None:
        self.beat_bytes = beat_bytes
        self.chunks: list[bytes] = []
        self.size = 0
        self.regions: list[DramRegion] = []

    def append(self, data: bytes) -> int:
        """Append ``data`` (a whole number of beats); returns its first beat."""
        beat = self.size // self.beat_bytes
        self.chunks.append(data)
        self.size += len(data)
        return beat

    def region(self, kind: str, start: int) -> None:
        """Name the bytes from ``start`` to the current end."""
        if self.size > start:
            self.regions.append(DramRegion(kind, start, self.size))


def _check_fits(design: DesignParams, tiling: Tiling, steps: int, batch: int) -> None:
    lanes = design.lanes
    checks = (
        ("hidden", tiling.hidden, design.max_hidden), ("input", tiling.input, design.max_input),
        ("steps", steps, design.max_steps), ("batch", batch, design.max_batch),
    )
    for name, value, limit in checks:
        if value > limit:
            raise InvalidParameterError(name, value, f"the design holds at most {limit} (build one with a larger max_{name})")
    for name, value in (("hidden", tiling.hidden), ("input", tiling.input), ("tile", tiling.tile)):
        if value % lanes:
            raise InvalidParameterError(name, value, f"must be a multiple of the MAC array's {lanes} lanes")
    if tiling.proj or tiling.reset_before:
        raise InvalidParameterError("cell", "projection / reset_before GRU", "the generated accelerator runs plain LSTM and reset-after GRU layers")


def _tile_lines(tiling: Tiling, tile: Tile, lanes: int) -> int:
    r0, r1 = tiling.row_bounds[tile.row]
    c0, c1 = tiling.col_bounds[tile.src][tile.col]
    return tiling.gates * ((r1 - r0) // lanes) * ((c1 - c0) // lanes)


def _tile_bytes(design: DesignParams, tiling: Tiling, layer: QuantizedLayer, tile: Tile) -> bytes:
    """The lines of ``tile`` in buffer order: gate, unit chunk, column chunk; each a lanes x lanes
    block in row-major order."""
    lanes, hidden = design.lanes, tiling.hidden
    matrix = layer.w_hh if tile.src == "h" else layer.w_ih
    r0, r1 = tiling.row_bounds[tile.row]
    c0, c1 = tiling.col_bounds[tile.src][tile.col]
    blocks = []
    for gate in range(tiling.gates):
        rows = matrix[gate * hidden + r0 : gate * hidden + r1, c0:c1]
        for ur in range((r1 - r0) // lanes):
            for cc in range((c1 - c0) // lanes):
                blocks.append(rows[ur * lanes : (ur + 1) * lanes, cc * lanes : (cc + 1) * lanes].reshape(-1))
    return np.concatenate(blocks).astype(_INT_TYPES[design.weight_bits]).tobytes()


def compile_program(design: DesignParams, plan: Plan, layer: QuantizedLayer, x_q: np.ndarray, buffer_bytes: int) -> RtlProgram:
    """Encode ``plan`` for ``design`` with the quantized ``layer`` and inputs ``x_q`` (T, B, X),
    using ``buffer_bytes`` of the weight buffer. Raises ``InvalidParameterError`` for what the
    design cannot run (sizes beyond its limits or not multiples of its lanes, projections, a plan
    that needs more tile slots than the buffer has, a program longer than its memory)."""
    tiling = plan.tiling
    steps, batch = plan.steps, plan.batch
    _check_fits(design, tiling, steps, batch)
    if x_q.shape != (steps, batch, tiling.input):
        raise InvalidParameterError("inputs", x_q.shape, f"must be (steps, batch, input) = {(steps, batch, tiling.input)}")
    lanes = design.lanes
    hidden_chunks = tiling.hidden // lanes
    image = _Image(design.dram_port_bytes)
    tile_beat: dict[Tile, int] = {}
    for kind, src in (("weights", "h"), ("input_weights", "x")):
        start = image.size
        for tile in tiling.tiles(src):
            tile_beat[tile] = image.append(_tile_bytes(design, tiling, layer, tile))
        image.region(kind, start)
    start = image.size
    bias = np.zeros((ACC_GATES, hidden_chunks * lanes), dtype=np.int64)
    bias[:, : tiling.hidden] = layer.bias
    bias_beat = image.append(bias.astype(_INT_TYPES[design.accumulator_bits]).tobytes())
    image.region("biases", start)
    slot_lines = max(_tile_lines(tiling, tile, lanes) for tile in tile_beat)
    slot_bytes = slot_lines * design.weight_line_bits // 8
    slots = min(buffer_bytes // slot_bytes, design.weight_lines // slot_lines)
    if slots < 1:
        raise InvalidParameterError("buffer", buffer_bytes, f"must hold one tile slot of {slot_bytes} bytes")
    words = [
        encode("config", batch=batch, gru=int(not tiling.spec.has_cell_state), hidden_chunks=hidden_chunks, dram_addr=0),
        encode("fetch", target=FETCH_BIAS, dram_addr=bias_beat, line_base=0, outer=ACC_GATES, stride=design.hidden_chunks, inner=hidden_chunks),
    ]
    inputs_start = image.size
    free = deque(range(slots))
    resident: dict[Tile, int] = {}
    fetched: set[tuple[int, int]] = set()
    seen: set[tuple] = set()
    act_type = _INT_TYPES[design.activation_bits]
    for op in plan.ops:
        if op.kind == LOAD:
            if not free:
                raise InvalidParameterError("buffer", buffer_bytes, f"the plan keeps more tiles resident than the {slots} slots of {slot_bytes} bytes")
            slot = free.popleft()
            resident[op.tile] = slot
            words.append(encode("load", slot=slot, line_base=slot * slot_lines, n_lines=_tile_lines(tiling, op.tile, lanes), dram_addr=tile_beat[op.tile]))
        elif op.kind == EVICT:
            slot = resident.pop(op.tile)
            free.append(slot)
            words.append(encode("evict", slot=slot))
        elif op.kind == USE:
            if op.src not in ("h", "x"):
                raise InvalidParameterError("plan", op.describe(), "the generated accelerator runs W_h and W_x tiles only")
            if op.src == "x":
                words += _fetches(design, tiling, op, x_q, batch, fetched, image, act_type)
            words += _uses(design, tiling, op, resident[op.tile], slot_lines, seen)
        elif op.kind == FINISH:
            u0, u1 = tiling.row_bounds[op.row]
            words.append(encode("finish", row_chunk=u0 // lanes, row_chunks=(u1 - u0) // lanes, step=op.step))
        else:
            raise InvalidParameterError("plan", op.describe(), "the generated accelerator has no such op")
    words.append(encode("end"))
    image.region("inputs", inputs_start)
    start = image.size
    out_beat = image.append(bytes(steps * batch * hidden_chunks * design.act_line_bits // 8))
    image.region("outputs", start)
    words[0] = encode("config", batch=batch, gru=int(not tiling.spec.has_cell_state), hidden_chunks=hidden_chunks, dram_addr=out_beat)
    if len(words) > design.program_words:
        raise InvalidParameterError("steps", steps, f"the program has {len(words)} instructions, more than the design's {design.program_words}")
    return RtlProgram(tuple(words), b"".join(image.chunks), tuple(image.regions), steps, batch, tiling.hidden, slots, design.activation_bits)


def _fetches(design: DesignParams, tiling: Tiling, op: Op, x_q: np.ndarray, batch: int, fetched: set, image: _Image, act_type: str) -> list[int]:
    """A fetch of the inputs of the columns of ``op`` for its steps not fetched yet (the first W_x
    tile of each column block brings them on chip; later ones reuse them)."""
    lanes = design.lanes
    steps = [t for t in range(op.step, op.step + op.nsteps) if (op.col, t) not in fetched]
    if not steps:
        return []
    if steps != list(range(steps[0], steps[-1] + 1)):
        raise InvalidParameterError("plan", op.describe(), "fetches inputs of steps that are not consecutive")
    fetched.update((op.col, t) for t in steps)
    c0, c1 = tiling.col_bounds["x"][op.col]
    block = x_q[steps[0] : steps[-1] + 1, :, c0:c1].reshape(len(steps) * batch, (c1 - c0) // lanes, lanes)
    beat = image.append(np.ascontiguousarray(block.transpose(1, 0, 2)).astype(act_type).tobytes())
    return [encode(
        "fetch", target=FETCH_INPUT, dram_addr=beat, line_base=(c0 // lanes) * design.vectors + steps[0] * batch,
        outer=(c1 - c0) // lanes, stride=design.vectors, inner=len(steps) * batch,
    )]


def _uses(design: DesignParams, tiling: Tiling, op: Op, slot: int, slot_lines: int, seen: set) -> list[int]:
    """The use instruction(s) of ``op``: one, or one per step when its steps differ in which
    accumulators they start (first_shared / first_own)."""
    lanes = design.lanes
    r0, r1 = tiling.row_bounds[op.row]
    c0, c1 = tiling.col_bounds[op.src][op.col]
    flags = []
    for t in range(op.step, op.step + op.nsteps):
        flags.append((int((op.row, t) not in seen), int((op.row, t, op.src) not in seen)))
        seen.update({(op.row, t), (op.row, t, op.src)})
    runs = [(op.step, op.nsteps, flags[0])] if len(set(flags)) == 1 else [(t, 1, f) for t, f in zip(range(op.step, op.step + op.nsteps), flags)]
    return [
        encode(
            "use", slot=slot, line_base=slot * slot_lines, src_h=int(op.src == "h"), row_chunk=r0 // lanes,
            row_chunks=(r1 - r0) // lanes, col_chunk=c0 // lanes, col_chunks=(c1 - c0) // lanes, step=step, nsteps=nsteps,
            first_shared=first[0], first_own=first[1],
        )
        for step, nsteps, first in runs
    ]
