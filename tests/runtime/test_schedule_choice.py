"""Schedule choice: the auto rule, and what plan_summary reports."""

from __future__ import annotations

import numpy as np
import pytest

import tsilstm
from tsilstm.errors import InvalidParameterError
from tsilstm.runtime.schedule_choice import choose_schedule, tsi_min_llc_fraction


def test_auto_rule() -> None:
    llc = 32 * 2**20
    for batch in (1, 2, 4, 8):
        edge = int(llc * tsi_min_llc_fraction(batch))
        big = choose_schedule("auto", edge + 1, llc, batch)
        small = choose_schedule("auto", edge - 1, llc, batch)
        assert big.schedule == "tsi" and "last-level cache" in big.reason
        assert small.schedule == "conventional"
    assert tsi_min_llc_fraction(1) <= tsi_min_llc_fraction(2) <= tsi_min_llc_fraction(4)
    assert choose_schedule("snake", 1, llc).schedule == "snake"
    unknown = choose_schedule("auto", 10 * llc, None)
    assert unknown.schedule == "conventional" and "does not state" in unknown.reason
    with pytest.raises(InvalidParameterError):
        choose_schedule("auto", 1, 0)
    with pytest.raises(InvalidParameterError):
        choose_schedule("fast", 1, llc)


class _TinyCacheLSTM(tsilstm.LSTM):
    """An LSTM on a machine with a 64 KiB last-level cache."""

    def machine_llc_bytes(self) -> int:
        return 64 * 1024


def test_auto_switches_schedule_by_batch_over_one_packing() -> None:
    """Untuned (no measurement), auto falls back to the cache-size rule: with a tiny cache it packs
    tsi and conventional over the same weights and picks per call by batch."""
    lstm = _TinyCacheLSTM(4, 64, schedule="auto", threads=2, tile=16, seed=0, tuning="off")  # 64 KiB of W_h = 1.0 x "LLC"
    x = np.random.default_rng(0).standard_normal((9, 1, 4)).astype(np.float32)
    out1, _ = lstm(x)
    assert lstm.schedule_info[0]["schedule"] == "tsi"
    x4 = np.repeat(x, 4, axis=1)
    out4, _ = lstm(x4)
    assert lstm.schedule_info[0]["schedule"] == "conventional" and "batch 4" in lstm.plan_summary()
    assert np.abs(out4 - out1).max() <= 1e-6


def test_plan_summary_reports_choice_and_fallback() -> None:
    module = tsilstm.LSTM(4, 40, proj_size=10, schedule="tsi", threads=2, tile=16, seed=0)
    summary = module.plan_summary()
    assert "fallback: tsi -> snake" in summary and "projection" in summary
    info = module.schedule_info[0]
    assert "note (snake)" in summary
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


@pytest.mark.keep_thread_policy
def test_small_layers_use_fewer_threads() -> None:
    from tsilstm.runtime.modules import MIN_WEIGHT_BYTES_PER_THREAD

    small = tsilstm.LSTM(8, 96, threads=2, seed=0)  # 144 KiB of W_h
    assert small.schedule_info[0]["threads"] == 1
    big = tsilstm.LSTM(8, 128, threads=2, seed=0)  # 256 KiB of W_h
    assert big.schedule_info[0]["threads"] == 2
    assert 4 * 4 * 96 * 96 < 2 * MIN_WEIGHT_BYTES_PER_THREAD <= 4 * 4 * 128 * 128


def test_layer_run_describes_the_last_call() -> None:
    lstm = tsilstm.LSTM(4, 48, schedule="conventional", threads=1, tile=16, seed=0)
    assert lstm.layer_runs[0].program.schedule == "conventional"
    lstm(np.zeros((3, 2, 4), np.float32))
    assert lstm.layer_runs[0].last_batch == 2
    assert lstm.layer_runs[0].choice.schedule == "conventional"
