"""schedule="auto" decides by measurement on this machine, records the decision, and later calls
and processes reuse it; a corrupt, foreign or unwritable store never breaks a call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import replace

import numpy as np
import pytest

import tsilstm
from tsilstm.errors import InvalidParameterError
from tsilstm.runtime.layer_run import _PROCESS_DECISIONS, decision_store
from tsilstm.runtime.decision_store import CACHE_DIR_ENV, STORE_FILE, TuningWarning
from tsilstm.runtime.schedule_tuning import (
    TUNING_ENV,
    Decision,
    batch_bucket,
    measured_decision,
    parse_candidate,
    tuning_mode,
)


@pytest.fixture
def store_dir(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An empty decision store of its own for one test."""
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(TUNING_ENV, raising=False)
    return tmp_path


def _call(module, batch: int = 1):  # type: ignore[no-untyped-def]
    x = np.random.default_rng(0).standard_normal((6, batch, module.input_size)).astype(np.float32)
    return module(x)


def test_first_call_measures_records_and_runs_the_winner(store_dir) -> None:  # type: ignore[no-untyped-def]
    lstm = tsilstm.LSTM(24, 40, tile=8, threads=2)
    assert "untuned (not measured yet" in lstm.plan_summary()
    _call(lstm)
    run = lstm.layer_runs[0]
    choice = run.choice
    assert "measured now" in choice.reason and "ms/step" in choice.reason
    recorded = json.loads((store_dir / STORE_FILE).read_text())
    (machine,) = recorded["machines"].values()
    (entry,) = machine["decisions"].values()
    # both schedules, on the layer's two threads and on one (the same packed weights)
    assert set(entry["ms_per_step"]) == {"tsi", "conventional", "tsi@1", "conventional@1"}
    fastest = min(entry["ms_per_step"], key=entry["ms_per_step"].get)
    best_full = min(("tsi", "conventional"), key=entry["ms_per_step"].get)
    assert entry["schedule"] == choice.schedule and entry["schedule"] in (fastest, best_full)
    schedule, threads = parse_candidate(choice.schedule)
    assert run.program.schedule == schedule and run.last_threads == (threads or 2)


def test_a_decision_for_fewer_threads_runs_them_with_the_same_result(store_dir) -> None:  # type: ignore[no-untyped-def]
    lstm = tsilstm.LSTM(24, 40, tile=8, threads=2, seed=3)
    x = np.random.default_rng(0).standard_normal((9, 2, 24)).astype(np.float32)
    config = replace(lstm.layer_runs[0].config, batch_bucket=2)
    for name in ("tsi@1", "tsi"):
        timings = {"tsi": 1.0, "tsi@1": 1.0, "conventional": 2.0, "conventional@1": 2.0}
        decision_store().put(config, Decision(name, timings, "now", 16, 2))
        _PROCESS_DECISIONS.clear()
        module = tsilstm.LSTM(24, 40, tile=8, threads=2, seed=3, tuning="read-only")  # as recorded, not re-checked
        out = module(x)[0]
        run = module.layer_runs[0]
        assert run.last_threads == (1 if name == "tsi@1" else 2) and run.program.schedule == "tsi"
        assert ("1 thread(s) (packed for 2)" in module.plan_summary()) == (name == "tsi@1")
        if name == "tsi@1":
            one_thread = out
    np.testing.assert_array_equal(out, one_thread)  # each row-block has one owner: bitwise the same


def test_a_new_module_of_the_same_configuration_reuses_the_record(store_dir) -> None:  # type: ignore[no-untyped-def]
    _call(tsilstm.GRU(12, 30, tile=8, threads=2))
    before = (store_dir / STORE_FILE).stat().st_mtime_ns
    gru = tsilstm.GRU(12, 30, tile=8, threads=2, seed=5)
    _call(gru)
    assert "measured now" not in gru.layer_runs[0].choice.reason
    assert (store_dir / STORE_FILE).stat().st_mtime_ns == before


def test_each_batch_bucket_is_decided_apart(store_dir) -> None:  # type: ignore[no-untyped-def]
    lstm = tsilstm.LSTM(8, 20, tile=8, threads=2)
    _call(lstm, 1)
    _call(lstm, 3)
    _call(lstm, 4)  # same bucket as 3
    keys = decision_store().decisions().keys()
    assert sorted(key.split("/")[5] for key in keys) == ["b1", "b4"]
    assert [batch_bucket(b) for b in (1, 2, 3, 5, 64, 65, 1000)] == [1, 2, 4, 8, 64, 64, 64]


_SECOND_PROCESS = """
import numpy as np, tsilstm
lstm = tsilstm.LSTM(16, 48, tile=16, threads=2)
lstm(np.ones((4, 2, 16), dtype=np.float32))
print(lstm.layer_runs[0].choice.reason)
"""


def test_a_second_process_reuses_the_first_ones_decisions(store_dir) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, CACHE_DIR_ENV: str(store_dir)}
    first = subprocess.run([sys.executable, "-c", _SECOND_PROCESS], env=env, capture_output=True, text=True, check=True)
    assert "measured now" in first.stdout
    # what the first process recorded, made independent of this machine's momentary load: a quiet
    # measurement on the layer's threads whose winner cannot look slower than recorded
    data = json.loads((store_dir / STORE_FILE).read_text())
    (machine,) = data["machines"].values()
    (entry,) = machine["decisions"].values()
    entry.update(schedule="tsi", noisy=False, ms_per_step={name: 10.0 for name in entry["ms_per_step"]})
    (store_dir / STORE_FILE).write_text(json.dumps(data))
    second = subprocess.run([sys.executable, "-c", _SECOND_PROCESS], env=env, capture_output=True, text=True, check=True)
    assert "on record" in second.stdout and "measured now" not in second.stdout


def test_two_processes_tuning_at_once_leave_a_valid_store(store_dir) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, CACHE_DIR_ENV: str(store_dir)}
    runs = [subprocess.Popen([sys.executable, "-c", _SECOND_PROCESS], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(3)]
    assert all(run.wait(timeout=120) == 0 for run in runs)
    assert json.loads((store_dir / STORE_FILE).read_text())["version"] == 1


def test_tuning_off_never_measures_nor_writes_and_says_so(store_dir) -> None:  # type: ignore[no-untyped-def]
    lstm = tsilstm.LSTM(8, 16, tile=8, tuning="off")
    _call(lstm)
    assert "untuned (tuning is off)" in lstm.layer_runs[0].choice.reason
    assert not (store_dir / STORE_FILE).exists()


def test_read_only_uses_records_but_never_measures(store_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(TUNING_ENV, "read-only")
    lstm = tsilstm.LSTM(8, 16, tile=8, threads=2)
    _call(lstm)
    assert "untuned (tuning is read-only and no decision is on record)" in lstm.layer_runs[0].choice.reason
    assert not (store_dir / STORE_FILE).exists()
    _call(tsilstm.LSTM(8, 16, tile=8, threads=2, tuning="on"))
    again = tsilstm.LSTM(8, 16, tile=8, threads=2)
    _call(again)
    assert "on record" in again.layer_runs[0].choice.reason


def test_corrupt_store_warns_and_measures_afresh(store_dir) -> None:  # type: ignore[no-untyped-def]
    (store_dir / STORE_FILE).write_text("{ not json")
    lstm = tsilstm.LSTM(8, 16, tile=8)
    with pytest.warns(TuningWarning, match="corrupt"):
        _call(lstm)
    assert "measured now" in lstm.layer_runs[0].choice.reason
    assert json.loads((store_dir / STORE_FILE).read_text())["version"] == 1


@pytest.mark.parametrize("content", [json.dumps({"version": 99}), json.dumps([1, 2]),
                                     json.dumps({"version": 1, "machines": {"x": {"decisions": {"k": 5}}}})])
def test_foreign_store_is_ignored(store_dir, content) -> None:  # type: ignore[no-untyped-def]
    (store_dir / STORE_FILE).write_text(content)
    lstm = tsilstm.LSTM(8, 16, tile=8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TuningWarning)
        out, _ = _call(lstm)
    assert np.all(np.isfinite(out)) and "measured now" in lstm.layer_runs[0].choice.reason


def test_another_machines_records_are_not_used(store_dir) -> None:  # type: ignore[no-untyped-def]
    _call(tsilstm.LSTM(8, 16, tile=8, threads=2))
    data = json.loads((store_dir / STORE_FILE).read_text())
    data["machines"] = {"another-machine": next(iter(data["machines"].values()))}
    (store_dir / STORE_FILE).write_text(json.dumps(data))
    from tsilstm.runtime import layer_run

    layer_run._PROCESS_DECISIONS.clear()
    lstm = tsilstm.LSTM(8, 16, tile=8, threads=2)
    _call(lstm)
    assert "measured now" in lstm.layer_runs[0].choice.reason


def test_unwritable_store_warns_and_keeps_the_decision_in_memory(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(CACHE_DIR_ENV, str(blocker / "sub"))  # a directory below a file cannot be made
    lstm = tsilstm.LSTM(8, 16, tile=8)
    with pytest.warns(TuningWarning, match="cannot write"):
        _call(lstm)
    assert "measured now" in lstm.layer_runs[0].choice.reason


def test_bad_tuning_values_are_named(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError) as error:
        tsilstm.LSTM(8, 16, tuning="sometimes")
    assert error.value.name == "tuning"
    monkeypatch.setenv(TUNING_ENV, "maybe")
    with pytest.raises(InvalidParameterError) as error:
        tuning_mode()
    assert error.value.name == TUNING_ENV


def test_the_fastest_candidate_wins() -> None:
    decision = measured_decision({"slow": lambda: time.sleep(0.004), "fast": lambda: None}, steps=2, batch=1, repeats=2)
    assert decision.schedule == "fast" and decision.ms_per_step["slow"] >= 1.5


def test_calibrate_fills_shows_and_clears_the_store(store_dir) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from tsilstm.cli.main import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["calibrate", "--hidden", "32,48", "--steps", "4", "--repeats", "1", "--json"])
    assert result.exit_code == 0, result.output
    shown = runner.invoke(cli, ["calibrate", "--show", "--json"])
    assert len(json.loads(shown.output)["decisions"]) == 2
    assert runner.invoke(cli, ["calibrate", "--clear"]).exit_code == 0
    assert not (store_dir / STORE_FILE).exists()


def test_one_step_calls_are_decided_apart(store_dir) -> None:  # type: ignore[no-untyped-def]
    """Streaming calls (one step each) get their own measurement: tsi's sweeps serve one step then."""
    gru = tsilstm.GRU(8, 24, tile=8, threads=2)
    gru(np.zeros((1, 1, 8), dtype=np.float32))
    one_step = gru.layer_runs[0].choice
    _call(gru)
    keys = sorted(decision_store().decisions())
    assert len(keys) == 2 and keys[0].endswith("/float32") and keys[1].endswith("/s1")
    assert "measured now" in one_step.reason
    assert json.loads((store_dir / STORE_FILE).read_text())["machines"]


def test_fewer_threads_win_only_consistently_and_by_a_margin() -> None:
    from tsilstm.runtime.schedule_tuning import choose_winner

    assert choose_winner({"tsi": [1.0, 1.0, 1.0], "tsi@1": [0.5, 0.5, 0.5]}) == "tsi@1"
    assert choose_winner({"tsi": [1.0, 1.0, 1.0], "tsi@1": [0.5, 1.2, 0.5]}) == "tsi"  # one slower round
    assert choose_winner({"tsi": [1.0, 1.0, 1.0], "tsi@1": [0.97, 0.98, 0.99]}) == "tsi"  # within the margin
    assert choose_winner({"tsi": [1.0, 2.0], "conventional": [0.9, 3.0], "tsi@1": [5.0, 5.0]}) == "conventional"


def test_a_measurement_beside_a_busy_process_is_flagged_noisy() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        decision = measured_decision({"a": lambda: time.sleep(0.02), "b": lambda: time.sleep(0.03)}, steps=1, batch=1,
                                     repeats=4)
    finally:
        busy.kill()
        busy.wait()
    assert decision.noisy and "busy" in decision.explain()


def test_a_noisy_or_outdated_record_is_measured_again(store_dir) -> None:  # type: ignore[no-untyped-def]
    lstm = tsilstm.LSTM(24, 40, tile=8, threads=2, seed=3)
    config = replace(lstm.layer_runs[0].config, batch_bucket=1)
    candidates = {"tsi": 1.0, "tsi@1": 1.0, "conventional": 2.0, "conventional@1": 2.0}
    # noisy: measured again; winner 1000x slower now than recorded (1e-6 ms/step): measured again
    for decision in (Decision("tsi", candidates, "then", 16, 1, noisy=True),
                     Decision("tsi", {**candidates, "tsi": 1e-6}, "then", 16, 1)):
        decision_store().put(config, decision)
        _PROCESS_DECISIONS.clear()
        module = tsilstm.LSTM(24, 40, tile=8, threads=2, seed=3)
        _call(module)
        assert "measured now" in module.layer_runs[0].choice.reason
        assert decision_store().get(config).measured_at != "then"
    # read-only adopts even a noisy record (it never measures)
    decision_store().put(config, Decision("tsi", candidates, "then", 16, 1, noisy=True))
    _PROCESS_DECISIONS.clear()
    module = tsilstm.LSTM(24, 40, tile=8, threads=2, seed=3, tuning="read-only")
    _call(module)
    assert "on record" in module.layer_runs[0].choice.reason and "busy" in module.layer_runs[0].choice.reason
