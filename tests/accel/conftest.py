"""Shared accelerator configs for the accel tests: small, round numbers that make hand counts easy."""

from __future__ import annotations

import pytest

from tsilstm.accel.arch_config import ArchConfig

from tsilstm.accel.arch_file import arch_from_dict


def tiny_arch_dict(**changes: object) -> dict:
    """A config where one cycle moves 16 bytes, 16 MACs, 4 activation evaluations; no latencies and no
    sequencer overhead."""
    data = {
        "name": "tiny",
        "compute": {
            "clock_hz": 1e9, "mac_units": 16, "weight_bits": 16, "activation_bits": 16, "accumulator_bits": 32,
            "activation_units": 4, "mac_pipeline_cycles": 0, "cell_pipeline_cycles": 0, "issue_window": 1,
            "sequencer_cycles_per_op": 0,
        },
        "memory": {"weight_buffer_bytes": 128, "activation_buffer_bytes": "1 MiB", "tile_units": 4, "prefetch_tiles": 0},
        "dram": {"bandwidth_bytes_per_s": "16 GB/s", "latency_ns": 0, "energy_pj_per_bit": 1.0},
        "energy": {"static_power_w": 0, "mac_pj": 1.0, "multiply_pj": 0.0, "activation_pj": 0.0, "sram_pj_per_64bit": [[1, 0.0]]},
    }
    for dotted, value in changes.items():
        section, key = dotted.split("__")
        data[section][key] = value
    return data


@pytest.fixture
def tiny_arch() -> ArchConfig:
    """The tiny config (see ``tiny_arch_dict``)."""
    return arch_from_dict(tiny_arch_dict())
