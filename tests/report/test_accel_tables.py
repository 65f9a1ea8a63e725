"""Gains against a baseline and their cause: an energy gain that comes from SRAM accesses, not
from DRAM traffic, is said so."""

from __future__ import annotations

import pytest

from tsilstm.accel.arch_file import load_arch
from tsilstm.accel.baselines import with_baselines
from tsilstm.accel.evaluate import evaluate_workload
from tsilstm.accel.workloads import single_layer_workload
from tsilstm.report.accel_tables import gain_cause_notes, gains_against


def _tsi_against_best(**changes: object) -> dict:
    results = with_baselines(evaluate_workload(single_layer_workload(128, None, steps=25), load_arch("edge").with_overrides(**changes)))
    by_name = {r.schedule: r for r in results}
    return {"gains": gains_against(by_name["tsi"], by_name["best-non-interleaved"]), "notes": gain_cause_notes(results)}


def test_a_gain_with_equal_dram_traffic_is_flagged_as_coming_from_sram() -> None:
    banked = _tsi_against_best()  # W_h (128 KiB) fits the 512 KiB buffer: every schedule moves the same DRAM bytes
    gains = banked["gains"]
    assert gains["energy_change_by_cause"]["dram"] == 0.0
    assert gains["energy_change"] < 0 and gains["energy_gain_cause"] == "sram"
    assert sum(gains["energy_change_by_cause"].values()) == pytest.approx(gains["energy_change"])
    assert any(note.startswith("tsi:") and "SRAM accesses" in note for note in banked["notes"])
    # priced as one 512 KiB bank the same reads cost over twice as much: most of that gain was the pricing
    one_bank = _tsi_against_best(weight_buffer_banks=1)["gains"]
    assert one_bank["energy_change"] < 2 * gains["energy_change"]
