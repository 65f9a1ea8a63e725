"""Running a program on the Verilator simulator: files in, statistics and the DRAM image out."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.errors import InternalError
from tsilstm.rtl.hdl_top import COUNTERS
from tsilstm.rtl.params import DesignParams
from tsilstm.rtl.program import RtlProgram

MIN_LATENCY_CYCLES = 4
"""Shortest DRAM latency the testbench models (the load engine queues a tile's job before its data)."""
MAX_CYCLES = 200_000_000
"""A run that has not finished after this many cycles is a hung design."""


@dataclass(frozen=True)
class SimulationStats:
    """What one simulated run did: ``cycles`` from start to done, DRAM bytes read and written by
    region kind, line accesses per on-chip buffer (``COUNTERS``), and the output h (T, B, H) in the
    activation format."""

    cycles: int
    dram_read_bytes: dict[str, int]
    dram_write_bytes: dict[str, int]
    buffer_line_accesses: dict[str, int]
    outputs: np.ndarray


def dram_latency_cycles(arch: ArchConfig) -> int:
    """The DRAM latency of ``arch`` in whole cycles, as the testbench models it."""
    return max(MIN_LATENCY_CYCLES, round(arch.dram_latency_cycles))


def run_simulator(binary: Path, design: DesignParams, program: RtlProgram, arch: ArchConfig) -> SimulationStats:
    """Run ``program`` on the simulator ``binary`` with the DRAM bandwidth and latency of ``arch``."""
    with tempfile.TemporaryDirectory(prefix="tsilstm-rtl-") as tmp:
        folder = Path(tmp)
        words = b"".join(int(w).to_bytes(16, "little") for w in program.words)
        (folder / "program.bin").write_bytes(words)
        (folder / "image.bin").write_bytes(program.image)
        (folder / "regions.txt").write_text("".join(f"{r.kind} {r.start} {r.end}\n" for r in program.regions))
        command = [
            str(binary), str(folder / "program.bin"), str(folder / "image.bin"), str(folder / "regions.txt"),
            repr(arch.dram_bytes_per_cycle), str(dram_latency_cycles(arch)), str(MAX_CYCLES),
            str(folder / "image_out.bin"), str(folder / "stats.txt"),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise InternalError(f"the simulator failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        stats = (folder / "stats.txt").read_text().split("\n")
        image = (folder / "image_out.bin").read_bytes()
    cycles = 0
    reads: dict[str, int] = {}
    writes: dict[str, int] = {}
    counters: dict[str, int] = {}
    for line in stats:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "cycles":
            cycles = int(parts[1])
        elif parts[0] == "read":
            reads[parts[1]] = int(parts[2])
        elif parts[0] == "write":
            writes[parts[1]] = int(parts[2])
        elif parts[0] == "counter":
            counters[parts[1]] = int(parts[2])
    missing = set(COUNTERS) - set(counters)
    if missing:
        raise InternalError(f"the simulator reported no counters {sorted(missing)}")
    return SimulationStats(cycles, reads, writes, counters, program.outputs(image))
