"""Named report scenarios: the figures Park et al. report (ISLPED 2020) set beside the model's
under stated assumptions, and the REGION of assumptions (node x DRAM interface x batch x workload)
in which each headline figure holds. Every figure is computed by the accelerator model when the
scenario runs; nothing here is a result.

The headline separates the two gains inside "tsi against naive": hoisting W_x (conventional
against naive: W_x loaded once instead of every step) and interleaving (tsi against conventional),
whose ratios multiply to tsi's against naive; and it gives tsi against the best non-interleaved
schedule on the same design (the fair baseline). Timing does not depend on the node (the clock is
the design's), so each (DRAM interface, batch, workload) is simulated once and priced at every
node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tsilstm.accel.arch_config import ArchConfig

from tsilstm.accel.arch_file import load_arch
from tsilstm.accel.baselines import NON_INTERLEAVED, best_non_interleaved
from tsilstm.accel.dram_types import DRAM_TYPES
from tsilstm.accel.energy import energy_breakdown_pj
from tsilstm.accel.evaluate import ScheduleResult, evaluate_workload
from tsilstm.accel.technology import NODES_NM
from tsilstm.accel.workloads import Workload, get_workload
from tsilstm.errors import InvalidParameterError
from tsilstm.report.paper_figures import PAPER_ENERGY_BAND, PAPER_THROUGHPUT_GAIN

MIN_THROUGHPUT_GAIN_PCT = 105.0
"""The least throughput gain (%) counted as reproducing the paper's +110.8 %."""
SCHEDULES_NEEDED = ("naive", *NON_INTERLEAVED, "tsi")
"""The schedules a scenario point evaluates: the baselines and tsi."""
HEADLINES = {
    "energy_vs_naive": "tsi's energy change against naive lies in the paper's band",
    "throughput_vs_naive": "tsi's throughput gain against naive is at least +105 %",
    "both_vs_naive": "both of the above (the paper's two figures together)",
    "energy_vs_best": "tsi's energy change against the best non-interleaved schedule lies in the paper's band",
    "throughput_vs_best": "tsi's throughput gain against the best non-interleaved schedule is at least +105 %",
    "both_vs_best": "both of the above",
}
"""Each headline figure's test, in words (``region`` gives the share of the neighbourhood where it holds)."""


@dataclass(frozen=True)
class Neighbourhood:
    """The assumptions varied around a scenario: every combination is one point of its region."""

    nodes_nm: tuple[int, ...]
    dram_types: tuple[str, ...]
    batches: tuple[int, ...]

    def size(self, workloads: int) -> int:
        """Points of the region for ``workloads`` workloads."""
        return len(self.nodes_nm) * len(self.dram_types) * len(self.batches) * workloads


@dataclass(frozen=True)
class Scenario:
    """``target`` against naive, conventional and the best non-interleaved schedule for
    ``workloads`` at ``batch`` on preset ``arch`` at ``node_nm`` with DRAM ``dram_type``;
    ``assumptions`` say why each choice, ``neighbourhood`` what the region varies."""

    name: str
    title: str
    arch: str
    node_nm: int
    dram_type: str
    workloads: tuple[str, ...]
    batch: int
    assumptions: tuple[str, ...]
    neighbourhood: Neighbourhood

    def design(self, node_nm: int | None = None, dram_type: str | None = None) -> ArchConfig:
        """The scenario's accelerator, at another node or DRAM interface when given."""
        arch = load_arch(self.arch).with_dram_type(dram_type or self.dram_type)
        return arch.with_overrides(node_nm=node_nm or self.node_nm)

    def workload(self, name: str, batch: int | None = None) -> Workload:
        """Workload ``name`` run at the scenario's batch (or ``batch``): the same layers and steps,
        ``batch`` sequences at once."""
        base = get_workload(name)
        batch = batch or self.batch
        label = base.name if batch == base.batch else f"{base.name} with {batch} sequences batched"
        return Workload(label, base.layers, base.steps, batch, base.family, base.source)


PAPER = Scenario(
    name="paper",
    title="Park et al. (ISLPED 2020) under stated assumptions, and the region where each figure holds",
    arch="edge",
    node_nm=45,
    dram_type="lpddr4",
    workloads=("deepbench-lstm-1024-b1", "deepbench-lstm-2048-b1"),
    batch=8,
    assumptions=(
        "Baselines: `naive`, a conventional LSTM accelerator that streams the whole weight matrix [W_x; W_h] from DRAM "
        "every time step (the paper's comparison is against such a scheme), `conventional`, which hoists W_x (loaded "
        "once, used for every step) and streams W_h every step, and the best non-interleaved schedule (least energy "
        "of conventional, snake and pinned) on the same design. tsi against naive = hoisting W_x (conventional "
        "against naive) times interleaving (tsi against conventional).",
        "Design: the edge preset (its 512 KiB weight buffer, 256 16-bit MACs at 800 MHz, banked SRAM) at 45 nm, the "
        "node of Horowitz's energy table and of accelerators of the paper's time, with one real DRAM interface: "
        "LPDDR4-3200 x32, 12.8 GB/s at 8 pJ/bit (the model's LPDDR4 energy is an estimate).",
        "Workloads: DeepBench's 1024- and 2048-unit LSTMs (25 steps, input = hidden), run with 8 sequences batched "
        "(DeepBench lists these layers at batch 1; a batch of 8 is a server batching requests): more MAC work per "
        "weight, so the MAC array and SRAM take a share of the energy.",
        "Region: every node the model has (45 .. 7 nm) x every DRAM interface (lpddr4, ddr4, gddr5, hbm2) x batch "
        "1, 2, 4, 8, 12, 16 x both workloads; each headline figure is given with the share of that neighbourhood "
        "in which it holds.",
    ),
    neighbourhood=Neighbourhood(NODES_NM, tuple(DRAM_TYPES), (1, 2, 4, 8, 12, 16)),
)
SCENARIOS = {PAPER.name: PAPER}
"""Every named scenario (``tsilstm report --scenario NAME``)."""


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; raises naming ``--scenario`` and the choices."""
    if name not in SCENARIOS:
        raise InvalidParameterError("--scenario", name, "one of " + ", ".join(SCENARIOS))
    return SCENARIOS[name]


def _change(new: ScheduleResult, base: ScheduleResult) -> dict[str, float]:
    return {
        "energy_change_pct": 100 * (new.energy_pj / base.energy_pj - 1),
        "throughput_gain_pct": 100 * (new.steps_per_second / base.steps_per_second - 1),
    }


def _repriced(result: ScheduleResult, arch: ArchConfig) -> ScheduleResult:
    """``result`` with its energy priced on ``arch`` (same counts and cycles: another node)."""
    return ScheduleResult(
        result.schedule, result.workload, arch, result.counts, result.cycles,
        energy_breakdown_pj(result.counts, result.cycles / arch.clock_hz, arch), result.layers,
    )


def compare(results: list[ScheduleResult]) -> dict[str, Any]:
    """tsi against naive, conventional and the best non-interleaved schedule among ``results``, and
    the two gains inside tsi against naive: hoisting (conventional vs naive) and interleaving (tsi vs
    conventional). Energy changes and throughput gains in %."""
    by_name = {r.schedule: r for r in results}
    best = best_non_interleaved(results)
    assert best is not None
    tsi, naive, conventional = by_name["tsi"], by_name["naive"], by_name["conventional"]
    return {
        "workload": tsi.workload.name, "batch": tsi.workload.batch, "node_nm": tsi.arch.node_nm, "dram": tsi.arch.dram_type,
        "vs_naive": _change(tsi, naive),
        "hoisting": _change(conventional, naive),
        "interleaving": _change(tsi, conventional),
        "vs_best": {**_change(tsi, best), "best": best.stands_for},
    }


def in_band(energy_change_pct: float) -> bool:
    """True when an energy change (%) lies in the paper's band."""
    low, high = PAPER_ENERGY_BAND
    return low <= energy_change_pct <= high


def lands_in_paper_band(row: dict[str, float]) -> bool:
    """True when ``row``'s energy change is inside the paper's band and its gain at least +105 %."""
    return in_band(row["energy_change_pct"]) and row["throughput_gain_pct"] >= MIN_THROUGHPUT_GAIN_PCT


def holds(point: dict[str, Any]) -> dict[str, bool]:
    """Which headline figures (``HEADLINES``) hold at one compared point."""
    out = {}
    for against in ("naive", "best"):
        row = point[f"vs_{against}"]
        out[f"energy_vs_{against}"] = in_band(row["energy_change_pct"])
        out[f"throughput_vs_{against}"] = row["throughput_gain_pct"] >= MIN_THROUGHPUT_GAIN_PCT
        out[f"both_vs_{against}"] = out[f"energy_vs_{against}"] and out[f"throughput_vs_{against}"]
    return out


def region(scenario: Scenario, neighbourhood: Neighbourhood | None = None) -> list[dict[str, Any]]:
    """Every point of the neighbourhood (default: the scenario's): its comparison and which
    headline figures hold. Each (DRAM interface, batch, workload) is simulated once, priced per node."""
    hood = neighbourhood or scenario.neighbourhood
    points = []
    for dram in hood.dram_types:
        base = scenario.design(node_nm=hood.nodes_nm[0], dram_type=dram)
        for batch in hood.batches:
            for name in scenario.workloads:
                results = evaluate_workload(scenario.workload(name, batch), base, SCHEDULES_NEEDED)
                for node in hood.nodes_nm:
                    arch = base.with_overrides(node_nm=node)
                    point = compare([_repriced(r, arch) for r in results])
                    points.append({**point, "holds": holds(point)})
    return points


def region_summary(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Per headline figure: the share of ``points`` where it holds, and the DRAM interfaces, nodes
    and batches of those points."""
    out: dict[str, Any] = {}
    for key, words in HEADLINES.items():
        inside = [p for p in points if p["holds"][key]]
        out[key] = {
            "test": words, "holds_fraction": len(inside) / len(points), "holds_points": len(inside), "points": len(points),
            "drams": sorted({p["dram"] for p in inside}), "nodes_nm": sorted({p["node_nm"] for p in inside}),
            "batches": sorted({p["batch"] for p in inside}),
        }
    return out


LIMITS = (
    "Against a baseline that hoists W_x (conventional, snake, pinned) the model cannot reach the paper's +110.8 %: tsi "
    "loads each recurrent tile (T + 1) / 2 times in T steps instead of T (13/25 of conventional's bytes at T = 25), so "
    "when DRAM bounds both its throughput gain is below +100 % (+92 % at 25 steps), and less once compute or the "
    "activation traffic takes a share. The paper's figure needs its baseline, which streams W_x every step too: "
    "against naive, part of tsi's gain is the hoisting of W_x, shown apart.",
    "The energy band needs DRAM to be a large but not overwhelming share: at batch 1 weight traffic is nearly all the "
    "energy and tsi saves more than the band's -57.3 % against naive; with HBM2's bandwidth the design is bound by "
    "its MAC array, so no schedule's throughput differs much.",
)
"""Where the model cannot reach the paper's figures, and why (stated in the report and the JSON)."""


def run_scenario(scenario: Scenario, neighbourhood: Neighbourhood | None = None) -> dict[str, Any]:
    """The scenario's comparison per workload at its own assumptions (``compare``), the region over
    its neighbourhood with the share in which each headline figure holds, and its limits. JSON-ready."""
    hood = neighbourhood or scenario.neighbourhood
    arch = scenario.design()
    points = region(scenario, hood)
    main = [
        p for p in points
        if p["node_nm"] == scenario.node_nm and p["dram"] == scenario.dram_type and p["batch"] == scenario.batch
    ]
    if not main:  # the scenario's own point outside a given neighbourhood
        main = [
            {**(point := compare(evaluate_workload(scenario.workload(name), arch, SCHEDULES_NEEDED))), "holds": holds(point)}
            for name in scenario.workloads
        ]
    return {
        "scenario": scenario.name, "title": scenario.title, "arch": arch.as_dict(), "batch": scenario.batch,
        "dram": scenario.dram_type, "node_nm": scenario.node_nm, "assumptions": list(scenario.assumptions),
        "paper": {"energy_band_pct": list(PAPER_ENERGY_BAND), "throughput_gain_pct": PAPER_THROUGHPUT_GAIN,
                  "throughput_gain_at_least_pct": MIN_THROUGHPUT_GAIN_PCT},
        "results": main,
        "neighbourhood": {"nodes_nm": list(hood.nodes_nm), "dram_types": list(hood.dram_types), "batches": list(hood.batches),
                          "workloads": list(scenario.workloads), "points": hood.size(len(scenario.workloads))},
        "headlines": region_summary(points),
        "limits": list(LIMITS),
        "region": points,
    }
