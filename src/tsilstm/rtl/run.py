"""One layer on the generated accelerator: plan (the accelerator model's, for the same config),
quantize, encode, simulate, and check the outputs against the fixed-point reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.cell_spec import cell_spec
from tsilstm.accel.counts import DRAM_KINDS
from tsilstm.accel.evaluate import evaluate_layer, layer_program
from tsilstm.errors import InvalidParameterError
from tsilstm.model import DirectionWeights, LayerShape, random_layer
from tsilstm.plan import SCHEDULES, expand
from tsilstm.rtl.build import build_simulator
from tsilstm.rtl.fixed_point import dequantize, quantize
from tsilstm.rtl.params import DesignParams, design_for, hardware_arch
from tsilstm.rtl.program import compile_program
from tsilstm.rtl.reference import float_reference, quantize_layer, reference_run
from tsilstm.rtl.simulate import SimulationStats, run_simulator
from tsilstm.validation import require_choice, require_int

RTL_SCHEDULES = tuple(s for s in SCHEDULES if s != "naive")
"""Schedules the accelerator runs: every hoisting schedule (naive streams W_x every step without
the hoisted product; its plan runs too, but the model charges it differently, so it is left out)."""
LINE_BUFFERS = {
    "weight_buffer": "weight_line_bits", "input_buffer": "act_line_bits", "h_buffer": "act_line_bits",
    "c_buffer": "act_line_bits", "acc_buffer": "acc_line_bits", "bias_buffer": "acc_line_bits",
}


@dataclass(frozen=True)
class RtlRunResult:
    """A simulated layer run: cycles, DRAM bytes by kind (the model's keys, plus ``biases``), SRAM
    bytes read and written per buffer, the outputs dequantized (T, B, H), and their largest
    differences from the fixed-point reference (0: bit-exact) and the float LSTM/GRU; beside them
    the accelerator model's cycles and DRAM bytes for the same config as the design builds it
    (``hardware_arch``), and the ratio of the two cycle counts."""

    schedule: str
    executed_schedule: str
    cell: str
    hidden: int
    input_size: int
    steps: int
    batch: int
    tile: int
    buffer_bytes: int
    slots: int
    cycles: int
    dram_bytes: dict[str, int]
    dram_read_bytes: dict[str, int]
    dram_write_bytes: dict[str, int]
    sram_read_bytes: dict[str, int]
    sram_write_bytes: dict[str, int]
    outputs: np.ndarray
    max_abs_error_vs_fixed_point_reference: float
    max_abs_error_vs_float: float
    model_cycles: int
    model_dram_bytes: dict[str, int]

    @property
    def cycles_vs_model(self) -> float:
        """RTL cycles / model cycles (1.0: the model predicts the hardware exactly)."""
        return self.cycles / self.model_cycles

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form (outputs as nested lists)."""
        out = {k: v for k, v in self.__dict__.items() if k != "outputs"}
        out["outputs"] = self.outputs.tolist()
        out["cycles_vs_model"] = self.cycles_vs_model
        return out


def design_arch(arch: ArchConfig, base: ArchConfig) -> ArchConfig:
    """The config the silicon is built for: ``arch`` with the larger of the two weight buffers, so
    one build runs programs for every buffer up to the preset's (a smaller buffer uses fewer slots)."""
    return arch.with_overrides(weight_buffer_bytes=max(arch.weight_buffer_bytes, base.weight_buffer_bytes))


def random_inputs(cell: str, hidden: int, input_size: int, steps: int, batch: int, seed: int = 0) -> tuple[DirectionWeights, np.ndarray]:
    """Seeded weights (torch's init) and inputs uniform in [-1, 1) (T, B, X)."""
    weights = random_layer(cell, input_size, hidden, seed=seed).directions[0]
    x = np.random.default_rng(seed + 1).uniform(-1.0, 1.0, size=(steps, batch, input_size))
    return weights, x


def run_layer(
    arch: ArchConfig, cell: str, hidden: int, input_size: int, steps: int, batch: int, schedule: str,
    weights: DirectionWeights, x: np.ndarray, *, design: DesignParams | None = None,
) -> RtlRunResult:
    """Simulate one layer direction of ``cell`` under ``schedule`` on the accelerator of ``arch``
    (``design``: the built silicon, default ``design_for(arch)``) with float ``weights`` (torch
    layout) and inputs ``x`` (T, B, X)."""
    gates = cell_spec(cell).gates
    require_choice("schedule", schedule, RTL_SCHEDULES)
    steps, batch = require_int("steps", steps), require_int("batch", batch)
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (steps, batch, input_size):
        raise InvalidParameterError("inputs", x.shape, f"must be (steps, batch, input) = {(steps, batch, input_size)}")
    for name, value, shape in (("w_ih", weights.w_ih, (gates * hidden, input_size)), ("w_hh", weights.w_hh, (gates * hidden, hidden)),
                               ("b_ih", weights.b_ih, (gates * hidden,)), ("b_hh", weights.b_hh, (gates * hidden,))):
        if np.shape(value) != shape:
            raise InvalidParameterError(name, np.shape(value), f"must be {shape} for a {cell} of hidden {hidden}, input {input_size}")
    design = design or design_for(arch)
    if arch.weight_buffer_bytes > design.weight_buffer_bytes:
        raise InvalidParameterError("buffer", arch.weight_buffer_bytes, f"must be at most the design's {design.weight_buffer_bytes} bytes")
    fmt = design.formats
    shape = LayerShape(cell, input_size, hidden)
    program = layer_program(shape, schedule, steps, arch)
    plan = expand(program, steps, batch)
    qlayer = quantize_layer(fmt, cell, weights)
    x_q = quantize(x, fmt.act_frac, fmt.activation_bits)
    compiled = compile_program(design, plan, qlayer, x_q, arch.weight_buffer_bytes)
    stats = run_simulator(build_simulator(design), design, compiled, arch)
    expected = reference_run(fmt, qlayer, x_q)
    outputs = dequantize(stats.outputs, fmt.act_frac)
    model = evaluate_layer(shape, schedule, steps, batch, hardware_arch(arch, design), full_timing=True)
    return RtlRunResult(
        schedule, program.schedule, cell, hidden, input_size, steps, batch, program.tiling.tile, arch.weight_buffer_bytes,
        compiled.slots, stats.cycles, _dram_bytes(stats), dict(stats.dram_read_bytes), dict(stats.dram_write_bytes),
        *_sram_bytes(design, stats), outputs,
        float(np.max(np.abs(stats.outputs - expected))) / (1 << fmt.act_frac),
        float(np.max(np.abs(outputs - float_reference(cell, weights, x)))),
        int(model.timing.cycles), {kind: int(num) for kind, num in model.counts.dram_bytes.items()},
    )


def _dram_bytes(stats: SimulationStats) -> dict[str, int]:
    kinds = {kind: 0 for kind in (*DRAM_KINDS, "biases")}
    for table in (stats.dram_read_bytes, stats.dram_write_bytes):
        for kind, num in table.items():
            kinds[kind] = kinds.get(kind, 0) + num
    return kinds


def _sram_bytes(design: DesignParams, stats: SimulationStats) -> tuple[dict[str, int], dict[str, int]]:
    reads, writes = {}, {}
    for buffer, width in LINE_BUFFERS.items():
        line_bytes = getattr(design, width) // 8
        reads[buffer] = stats.buffer_line_accesses[f"{buffer}_reads"] * line_bytes
        writes[buffer] = stats.buffer_line_accesses[f"{buffer}_writes"] * line_bytes
    return reads, writes
