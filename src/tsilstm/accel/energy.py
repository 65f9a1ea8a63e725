"""Energy = sum(count x energy per event) + static power x time, with a breakdown that sums to the
total (docs/design.md section 5). All energies in pJ. Static power is the design's leakage
(``hardware_cost``) unless the config sets ``static_power_w``."""

from __future__ import annotations

from tsilstm.accel.arch_config import ArchConfig
from tsilstm.accel.counts import Counts
from tsilstm.accel.hardware_cost import design_cost

ENERGY_PARTS = (
    "dram_weights", "dram_input_weights", "dram_activations", "sram_weights", "sram_activations",
    "mac", "cell", "static",
)
"""Breakdown keys: DRAM traffic of recurrent weights, of W_x, of inputs/pre-activations/states/
outputs; weight-buffer and activation-buffer accesses; MACs; activation functions and element-wise
products of the cell update; static (leakage) energy over the run time."""


ENERGY_GROUPS = {
    "dram": ("dram_weights", "dram_input_weights", "dram_activations"),
    "sram": ("sram_weights", "sram_activations"),
    "compute": ("mac", "cell"),
    "static": ("static",),
}
"""The parts of ``ENERGY_PARTS`` by cause: DRAM traffic, SRAM accesses, arithmetic, leakage."""
GAIN_CAUSES = {"dram": "DRAM traffic", "sram": "SRAM accesses", "compute": "arithmetic", "static": "leakage (run time)"}
"""Each group of ``ENERGY_GROUPS`` in words, as the cause of an energy gain."""


def energy_change_by_cause(breakdown_pj: dict[str, float], baseline_pj: dict[str, float]) -> dict[str, float]:
    """The change of each group of ``ENERGY_GROUPS`` from ``baseline_pj`` to ``breakdown_pj`` as a
    fraction of the baseline's total energy (negative = saving); the values sum to the total change."""
    total = sum(baseline_pj.values())
    return {group: sum(breakdown_pj[k] - baseline_pj[k] for k in parts) / total for group, parts in ENERGY_GROUPS.items()}


def energy_gain_cause(changes: dict[str, float]) -> str | None:
    """The group (of ``energy_change_by_cause``'s ``changes``) that saves the most energy, or None
    when the total does not fall."""
    if sum(changes.values()) >= 0:
        return None
    return min(changes, key=lambda group: changes[group])


def static_power_w(arch: ArchConfig) -> float:
    """Static power of ``arch`` in W: ``static_power_w`` when the config sets it, else the design's leakage."""
    return arch.static_power_w if arch.static_power_w is not None else design_cost(arch).total_leakage_w


def energy_breakdown_pj(counts: Counts, seconds: float, arch: ArchConfig) -> dict[str, float]:
    """The energy of a run by part (``ENERGY_PARTS``), in pJ; the total is the sum of the parts."""
    cost = design_cost(arch)
    pj_per_dram_byte = 8.0 * arch.dram_pj_per_bit
    dram = counts.dram_bytes
    activation_dram = sum(v for k, v in dram.items() if k not in ("weights", "input_weights"))
    weight_sram = counts.sram_read_bytes["weight_buffer"] + counts.sram_write_bytes["weight_buffer"]
    act_sram = counts.sram_read_bytes["activation_buffer"] + counts.sram_write_bytes["activation_buffer"]
    return {
        "dram_weights": dram["weights"] * pj_per_dram_byte,
        "dram_input_weights": dram["input_weights"] * pj_per_dram_byte,
        "dram_activations": activation_dram * pj_per_dram_byte,
        "sram_weights": weight_sram * cost.weight_sram.pj_per_byte,
        "sram_activations": act_sram * cost.activation_sram.pj_per_byte,
        "mac": counts.macs * arch.mac_energy_pj,
        "cell": counts.activation_evaluations * arch.activation_energy_pj + counts.cell_multiplies * arch.multiply_energy_pj,
        "static": static_power_w(arch) * seconds * 1e12,
    }
