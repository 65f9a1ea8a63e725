"""Schedule choice: cache size from sysfs, the auto rule, and what plan_summary reports."""

from __future__ import annotations

import numpy as np
import pytest

import tsilstm
from tsilstm.errors import InvalidParameterError
from tsilstm.runtime import schedule_choice
from tsilstm.runtime.schedule_choice import TSI_MIN_WEIGHT_FRACTION_OF_LLC, choose_schedule


def test_llc_read_from_sysfs(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name, level, kind, size in [("index0", 1, "Data", "32K"), ("index1", 1, "Instruction", "32K"),
                                    ("index2", 2, "Unified", "1024K"), ("index3", 3, "Unified", "32768K")]:
        d = tmp_path / name
        d.mkdir()
        (d / "level").write_text(f"{level}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    monkeypatch.setattr(schedule_choice, "CACHE_SYSFS", tmp_path)
    schedule_choice.last_level_cache_bytes.cache_clear()
    try:
        assert schedule_choice.last_level_cache_bytes() == 32 * 1024 * 1024
        monkeypatch.setattr(schedule_choice, "CACHE_SYSFS", tmp_path / "missing")
        schedule_choice.last_level_cache_bytes.cache_clear()
        assert schedule_choice.last_level_cache_bytes() == schedule_choice.FALLBACK_LLC_BYTES
    finally:
        schedule_choice.last_level_cache_bytes.cache_clear()


def test_auto_rule() -> None:
    llc = 32 * 2**20
    big = choose_schedule("auto", int(llc * TSI_MIN_WEIGHT_FRACTION_OF_LLC) + 1, 0, llc)
    small = choose_schedule("auto", int(llc * TSI_MIN_WEIGHT_FRACTION_OF_LLC) - 1, 0, llc)
    assert big.schedule == "tsi" and "last-level cache" in big.reason
    assert small.schedule == "conventional"
    assert choose_schedule("snake", 1, 0, llc).schedule == "snake"
    with pytest.raises(InvalidParameterError):
        choose_schedule("auto", 1, 0, 0)


def test_plan_summary_reports_choice_and_fallback() -> None:
    module = tsilstm.LSTM(4, 40, proj_size=10, schedule="tsi", threads=2, tile=16, seed=0)
    summary = module.plan_summary()
    assert "fallback: tsi -> snake" in summary and "projection" in summary
    info = module.schedule_info[0]
    assert info["requested"] == "tsi" and info["schedule"] == "snake" and info["fell_back"]
    auto = tsilstm.GRU(4, 40, schedule="auto", threads=2, seed=0)
    assert "requested auto" in auto.plan_summary()
    assert auto.schedule_info[0]["schedule"] in ("tsi", "conventional")


def test_import_is_cheap() -> None:
    import subprocess
    import sys

    code = "import sys, tsilstm; print('torch' in sys.modules, 'tsilstm.runtime' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]
    assert tsilstm.LSTM is tsilstm.runtime.LSTM
