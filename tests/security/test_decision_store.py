"""The decision store's contents are untrusted: whatever sits at its path (a FIFO, a symlink to
/dev/zero, a directory, JSON of the wrong shape, JSON nested 100,000 deep, a huge file), a forward
call completes with a warning, within 30 s and 2 GiB of address space; concurrent writers of several
processes lose no decision; a read-only deployment with no record reads the file once, not on every
call."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tsilstm.runtime.decision_store import CACHE_DIR_ENV, MAX_STORE_BYTES, STORE_FILE, TuningWarning

FORWARD = (
    "import warnings, numpy as np, tsilstm\n"
    "with warnings.catch_warnings(record=True) as seen:\n"
    "    warnings.simplefilter('always')\n"
    "    out, _ = tsilstm.GRU(8, 16, threads=1)(np.ones((3, 1, 8), np.float32))\n"
    "print('ok', out.shape, any('decision' in str(w.message) or 'decisions' in str(w.message) for w in seen))\n"
)
LIMIT_BYTES = 2 * 1024 ** 3


def _forward_beside(store_dir: Path, timeout_s: float = 30.0) -> tuple[subprocess.CompletedProcess, float]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))

    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", FORWARD], capture_output=True, text=True, timeout=timeout_s,
                            preexec_fn=limit, env={**os.environ, CACHE_DIR_ENV: str(store_dir)})
    return result, time.monotonic() - start


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("kind", ["fifo", "dev_zero", "directory", "wrong_shape", "deeply_nested", "huge"])
def test_a_hostile_store_never_breaks_a_forward_call(tmp_path, kind):  # type: ignore[no-untyped-def]
    path = tmp_path / STORE_FILE
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev_zero":
        path.symlink_to("/dev/zero")
    elif kind == "directory":
        path.mkdir()
    elif kind == "wrong_shape":
        path.write_text(json.dumps({"version": 1, "machines": {"x": [1, 2], "y": "z"}}))
    elif kind == "deeply_nested":
        path.write_text('{"version": 1, "machines": ' + _nested(100_000) + "}")
    else:
        with open(path, "wb") as out:
            out.truncate(MAX_STORE_BYTES + 1)
    result, seconds = _forward_beside(tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok (3, 1, 16)") and seconds < 30
    if kind in ("fifo", "dev_zero", "deeply_nested", "huge"):
        assert result.stdout.strip().endswith("True")  # warned


def test_wrongly_shaped_records_are_absent_not_errors(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import tsilstm
    from tsilstm.runtime.layer_run import _PROCESS_DECISIONS, decision_store

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    store = decision_store()
    for machines in ([], {store.signature: []}, {store.signature: {"decisions": [], "inplace": 3}},
                     {store.signature: {"decisions": {"x": [1]}}}):
        (tmp_path / STORE_FILE).write_text(json.dumps({"version": 1, "machines": machines}))
        _PROCESS_DECISIONS.clear()
        out, _ = tsilstm.LSTM(4, 8, threads=1)(np.ones((2, 1, 4), np.float32))  # no AttributeError
        assert out.shape == (2, 1, 8) and store.get_record("inplace", "anything") is None


WRITER = (
    "import sys\n"
    "from tsilstm.runtime.layer_run import decision_store\n"
    "store = decision_store()\n"
    "for i in range(8):\n"
    "    store.put_record('inplace', f'{sys.argv[1]}-{i}', {'n': i})\n"
)


def test_concurrent_writers_lose_nothing(tmp_path):  # type: ignore[no-untyped-def]
    env = {**os.environ, CACHE_DIR_ENV: str(tmp_path)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(w)], env=env) for w in range(6)]
    assert all(w.wait(timeout=120) == 0 for w in writers)
    data = json.loads((tmp_path / STORE_FILE).read_text())
    (machine,) = data["machines"].values()
    assert len(machine["inplace"]) == 48


def test_read_only_without_a_record_reads_the_file_once(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import tsilstm
    from tsilstm.runtime import decision_store as store_module
    from tsilstm.runtime.layer_run import _PROCESS_DECISIONS

    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    (tmp_path / STORE_FILE).write_text(json.dumps({"version": 1, "machines": {"other": {"decisions": {}}}}))
    _PROCESS_DECISIONS.clear()
    reads = []
    original = store_module._read_at_most
    monkeypatch.setattr(store_module, "_read_at_most", lambda *a: reads.append(1) or original(*a))
    lstm = tsilstm.LSTM(4, 8, threads=1, tuning="read-only")
    x = np.ones((2, 1, 4), np.float32)
    for _ in range(50):
        lstm(x)
    assert len(reads) == 1
    (tmp_path / STORE_FILE).write_text(json.dumps({"version": 1, "machines": {}}))  # changed: read again
    lstm(x)
    assert len(reads) == 2


def test_a_warning_names_the_store(tmp_path):  # type: ignore[no-untyped-def]
    from tsilstm.runtime.decision_store import DecisionStore

    path = tmp_path / STORE_FILE
    path.write_text("{" * 50_000)
    with pytest.warns(TuningWarning, match=str(path)):
        assert DecisionStore(path, "sig", {}).decisions() == {}
