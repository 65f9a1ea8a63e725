"""The paper scenario: its headline splits tsi's gain against naive into hoisting and
interleaving, its region gives the share of a neighbourhood in which each figure holds, and it
says where the model cannot reach the paper."""

from __future__ import annotations

import pytest

from tsilstm.errors import InvalidParameterError
from tsilstm.report.paper_figures import PAPER_ENERGY_BAND
from tsilstm.report.paper_scenario import (
    HEADLINES, MIN_THROUGHPUT_GAIN_PCT, PAPER, Neighbourhood, get_scenario, lands_in_paper_band, run_scenario,
)
from tsilstm.report.scenario_report import headline_sentence, render_scenario

SMALL = Neighbourhood((45, 7), ("lpddr4", "hbm2"), (1, PAPER.batch))


@pytest.fixture(scope="module")
def paper_result() -> dict:
    return run_scenario(PAPER, SMALL)


def test_tsi_against_naive_is_hoisting_times_interleaving(paper_result: dict) -> None:
    assert [r["workload"].split()[0] for r in paper_result["results"]] == list(PAPER.workloads)
    for row in paper_result["region"]:
        for metric in ("energy_change_pct", "throughput_gain_pct"):
            whole = 1 + row["vs_naive"][metric] / 100
            parts = (1 + row["hoisting"][metric] / 100) * (1 + row["interleaving"][metric] / 100)
            assert whole == pytest.approx(parts)


def test_each_headline_gives_the_share_of_the_neighbourhood_where_it_holds(paper_result: dict) -> None:
    points = paper_result["region"]
    assert len(points) == SMALL.size(len(PAPER.workloads)) == paper_result["neighbourhood"]["points"]
    assert set(paper_result["headlines"]) == set(HEADLINES)
    for key, head in paper_result["headlines"].items():
        assert head["holds_points"] == sum(p["holds"][key] for p in points)
        assert head["holds_fraction"] == pytest.approx(head["holds_points"] / len(points))
    for point in points:
        vs_naive = point["vs_naive"]
        assert point["holds"]["both_vs_naive"] == lands_in_paper_band(vs_naive)


def test_the_model_states_the_figures_it_cannot_reach(paper_result: dict) -> None:
    # against a baseline that hoists W_x the gain is bounded by the traffic ratio: below +100 %
    assert all(p["vs_best"]["throughput_gain_pct"] < 100 for p in paper_result["region"])
    assert paper_result["headlines"]["throughput_vs_best"]["holds_fraction"] == 0.0
    assert any("+110.8" in text for text in paper_result["limits"])
    # at batch 1 DRAM is nearly all the energy: tsi saves more than the band against naive
    assert all(p["vs_naive"]["energy_change_pct"] < PAPER_ENERGY_BAND[0] for p in paper_result["region"] if p["batch"] == 1)


def test_the_report_quotes_the_shares_and_the_hoisting_gain(paper_result: dict) -> None:
    sentence = headline_sentence(paper_result)
    share = f"{100 * paper_result['headlines']['energy_vs_naive']['holds_fraction']:.0f} %"
    assert "hoisting W_x" in sentence and "interleaving" in sentence and share in sentence
    text = render_scenario(paper_result, PAPER.design(), "tsilstm report --scenario paper")
    assert sentence in text and "## The region" in text and "LPDDR4-3200" in text


def test_the_band_check_and_an_unknown_scenario() -> None:
    assert lands_in_paper_band({"energy_change_pct": -40.0, "throughput_gain_pct": MIN_THROUGHPUT_GAIN_PCT})
    assert not lands_in_paper_band({"energy_change_pct": -60.0, "throughput_gain_pct": 110.0})
    assert not lands_in_paper_band({"energy_change_pct": -40.0, "throughput_gain_pct": 90.0})
    with pytest.raises(InvalidParameterError, match="--scenario"):
        get_scenario("nature")
