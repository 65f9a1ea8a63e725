"""The paper scenario: its computed figures land in Park et al.'s band under its stated
assumptions, and its variations show where they do not."""

from __future__ import annotations

import pytest

from tsilstm.errors import InvalidParameterError
from tsilstm.report.paper_figures import PAPER_ENERGY_BAND
from tsilstm.report.paper_scenario import MIN_THROUGHPUT_GAIN_PCT, PAPER, get_scenario, lands_in_paper_band, run_scenario


@pytest.fixture(scope="module")
def paper_result() -> dict:
    return run_scenario(PAPER)


def test_the_paper_scenario_lands_in_the_energy_band_at_the_paper_throughput(paper_result: dict) -> None:
    low, high = PAPER_ENERGY_BAND
    assert paper_result["holds"]
    assert [r["workload"].split()[0] for r in paper_result["results"]] == list(PAPER.workloads)
    for row in paper_result["results"]:
        assert low <= row["energy_change_pct"] <= high
        assert row["throughput_gain_pct"] >= MIN_THROUGHPUT_GAIN_PCT
        assert row["baseline"] == "naive" and row["target"] == "tsi" and row["batch"] == PAPER.batch
        assert row["energy_change_pct"] == pytest.approx(100 * (row["target_energy_pj"] / row["baseline_energy_pj"] - 1))


def test_the_variations_show_the_figures_depend_on_the_baseline_and_the_batch(paper_result: dict) -> None:
    variations = {v["label"]: v["rows"] for v in paper_result["variations"]}
    for row in variations["baseline hoists W_x (conventional)"]:
        assert row["baseline"] == "conventional" and row["throughput_gain_pct"] < 100  # bounded by the traffic ratio
    for row in variations["batch 1"]:
        assert row["energy_change_pct"] < PAPER_ENERGY_BAND[0]  # DRAM dominates: more saving than the paper's
    assert all(not all(row["in_paper_band"] for row in rows) for rows in variations.values())


def test_the_band_check_and_an_unknown_scenario() -> None:
    assert lands_in_paper_band({"energy_change_pct": -40.0, "throughput_gain_pct": 110.0})
    assert not lands_in_paper_band({"energy_change_pct": -60.0, "throughput_gain_pct": 110.0})
    assert not lands_in_paper_band({"energy_change_pct": -40.0, "throughput_gain_pct": 90.0})
    with pytest.raises(InvalidParameterError, match="--scenario"):
        get_scenario("nature")
