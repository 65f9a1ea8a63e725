"""Named report scenarios: stated assumptions (baseline, design, workloads) under which the model
is compared with the figures Park et al. report (ISLPED 2020), and variations that show where the
figures stop holding. Every figure is computed by the accelerator model when the scenario runs;
nothing here is a result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tsilstm.accel.arch_config import ArchConfig, load_arch
from tsilstm.accel.evaluate import evaluate_workload
from tsilstm.accel.workloads import Workload, get_workload
from tsilstm.errors import InvalidParameterError
from tsilstm.report.paper_figures import PAPER_ENERGY_BAND, PAPER_THROUGHPUT_GAIN

MIN_THROUGHPUT_GAIN_PCT = 105.0
"""The least throughput gain (%) the scenario counts as reproducing the paper's +110.8 %."""


@dataclass(frozen=True)
class Variation:
    """One assumption changed: ``arch`` overrides, another batch or another baseline."""

    label: str
    arch_changes: dict[str, Any] = field(default_factory=dict)
    batch: int | None = None
    baseline: str | None = None


@dataclass(frozen=True)
class Scenario:
    """A comparison of ``target`` against ``baseline`` for ``workloads`` at ``batch`` on the preset
    ``arch`` with ``arch_changes``; ``assumptions`` say why each choice, ``variations`` what moves it."""

    name: str
    title: str
    arch: str
    arch_changes: dict[str, Any]
    workloads: tuple[str, ...]
    batch: int
    baseline: str
    target: str
    assumptions: tuple[str, ...]
    variations: tuple[Variation, ...]

    def design(self, changes: dict[str, Any] | None = None) -> ArchConfig:
        """The scenario's accelerator, with ``changes`` on top."""
        return load_arch(self.arch).with_overrides(**{**self.arch_changes, **(changes or {})})

    def workload(self, name: str, batch: int | None = None) -> Workload:
        """Workload ``name`` at the scenario's batch (or ``batch``)."""
        base = get_workload(name)
        batch = batch or self.batch
        label = base.name if batch == base.batch else f"{base.name} at batch {batch}"
        return Workload(label, base.layers, base.steps, batch, base.family, base.source)


PAPER = Scenario(
    name="paper",
    title="Park et al. (ISLPED 2020) under stated assumptions",
    arch="edge",
    arch_changes={"node_nm": 45, "dram_pj_per_bit": 3.9},
    workloads=("deepbench-lstm-1024-b1", "deepbench-lstm-2048-b1"),
    batch=12,
    baseline="naive",
    target="tsi",
    assumptions=(
        "Baseline: `naive`, a conventional LSTM accelerator that streams the whole weight matrix [W_x; W_h] from DRAM "
        "every time step (it does not hoist the input projection). The paper's comparison is against such a "
        "conventional scheme; against a baseline that hoists W_x (`conventional` here) the traffic ratio bounds the "
        "gain below +100 % (see the variations).",
        "Design: the edge preset (its buffer, bandwidth, MAC array and 16-bit weights as in the table below) at "
        "45 nm, the node of the model's energy tables (Horowitz, ISSCC 2014) and of "
        "accelerators of the paper's time.",
        "DRAM access energy 3.9 pJ/bit (the HBM2 figure of O'Connor et al., MICRO 2017, standing for a low-energy "
        "DRAM interface); with LPDDR4's 8 pJ/bit DRAM energy weighs more and the saving leaves the band (variations).",
        "Workloads: DeepBench's 1024- and 2048-unit LSTMs (25 steps, input = hidden) at batch 12, a server batching "
        "12 requests: enough MAC work per weight that the MAC array and SRAM share the energy with DRAM, which brings "
        "the energy saving into the paper's band.",
    ),
    variations=(
        Variation("baseline hoists W_x (conventional)", baseline="conventional"),
        Variation("batch 1", batch=1),
        Variation("batch 16", batch=16),
        Variation("LPDDR4 energy, 8 pJ/bit", arch_changes={"dram_pj_per_bit": 8.0}),
        Variation("28 nm node", arch_changes={"node_nm": 28}),
        Variation("DRAM bandwidth 25.6 GB/s", arch_changes={"dram_bandwidth_bytes_per_s": 25.6e9}),
    ),
)
SCENARIOS = {PAPER.name: PAPER}
"""Every named scenario (``tsilstm report --scenario NAME``)."""


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; raises naming ``--scenario`` and the choices."""
    if name not in SCENARIOS:
        raise InvalidParameterError("--scenario", name, "one of " + ", ".join(SCENARIOS))
    return SCENARIOS[name]


def compare(workload: Workload, arch: ArchConfig, baseline: str, target: str) -> dict[str, Any]:
    """Energy change and throughput gain (%) of ``target`` against ``baseline`` for ``workload`` on
    ``arch``, with both schedules' energy (pJ) and steps per second."""
    results = {r.schedule: r for r in evaluate_workload(workload, arch, tuple(dict.fromkeys((baseline, target))))}
    base, new = results[baseline], results[target]
    return {
        "workload": workload.name, "batch": workload.batch, "baseline": baseline, "target": target,
        "energy_change_pct": 100 * (new.energy_pj / base.energy_pj - 1),
        "throughput_gain_pct": 100 * (new.steps_per_second / base.steps_per_second - 1),
        "baseline_energy_pj": base.energy_pj, "target_energy_pj": new.energy_pj,
        "baseline_steps_per_second": base.steps_per_second, "target_steps_per_second": new.steps_per_second,
    }


def lands_in_paper_band(row: dict[str, Any]) -> bool:
    """True when the energy change is inside the paper's band and the gain at least +105 %."""
    low, high = PAPER_ENERGY_BAND
    return low <= row["energy_change_pct"] <= high and row["throughput_gain_pct"] >= MIN_THROUGHPUT_GAIN_PCT


def run_scenario(scenario: Scenario) -> dict[str, Any]:
    """The scenario's comparison per workload (``compare``), whether each lands in the paper's band,
    and the same for every variation. JSON-ready."""
    arch = scenario.design()
    main = [compare(scenario.workload(name), arch, scenario.baseline, scenario.target) for name in scenario.workloads]
    for row in main:
        row["in_paper_band"] = lands_in_paper_band(row)
    variations = []
    for variation in scenario.variations:
        design = scenario.design(variation.arch_changes)
        rows = [
            compare(scenario.workload(name, variation.batch), design, variation.baseline or scenario.baseline, scenario.target)
            for name in scenario.workloads
        ]
        for row in rows:
            row["in_paper_band"] = lands_in_paper_band(row)
        variations.append({"label": variation.label, "rows": rows})
    return {
        "scenario": scenario.name, "title": scenario.title, "arch": arch.as_dict(), "batch": scenario.batch,
        "baseline": scenario.baseline, "target": scenario.target, "assumptions": list(scenario.assumptions),
        "paper": {"energy_band_pct": list(PAPER_ENERGY_BAND), "throughput_gain_pct": PAPER_THROUGHPUT_GAIN,
                  "throughput_gain_at_least_pct": MIN_THROUGHPUT_GAIN_PCT},
        "results": main, "holds": all(row["in_paper_band"] for row in main), "variations": variations,
    }
