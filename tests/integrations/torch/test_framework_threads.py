"""Calls of converted modules run their threads on torch's own OpenMP team (framework_threads): no
worker of the kernel's is started, results equal torch's; with the team refused (the environment
variable, or a team that cannot have the call's size) the kernel's workers run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tsilstm.errors import InvalidParameterError
from tsilstm.integrations.torch.framework_threads import torch_openmp_library
from tsilstm.runtime import worker_threads

torch = pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[3]
OPENMP = "OpenMP" in torch.__config__.parallel_info() and torch_openmp_library() is not None

CHILD = """
import json, torch, tsilstm
from tsilstm.runtime import worker_threads
torch.set_num_threads(2)
torch.manual_seed(0)
results = {}
for cls in (torch.nn.LSTM, torch.nn.GRU):
    model = cls(16, 128, num_layers=2).eval()
    converted = tsilstm.convert(model, schedule="tsi", threads=2)
    x = torch.randn(9, 3, 16)
    with torch.inference_mode():
        conv = torch.nn.functional.conv1d(torch.randn(1, 8, 64), torch.randn(8, 8, 3))  # torch's team, awake
        got, expected = converted(x), model(x)
    flat = lambda r: [r[0]] + (list(r[1]) if isinstance(r[1], tuple) else [r[1]])
    results[cls.__name__] = max(float((a - b).abs().max()) for a, b in zip(flat(got), flat(expected)))
from tsilstm.integrations.torch.framework_threads import share_torch_threads
print(json.dumps({"errors": results, "workers": len(worker_threads.worker_thread_ids()),
                  "shared": share_torch_threads()}))
"""


def _child(**env: str) -> dict:  # type: ignore[type-arg]
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TSILSTM_TUNING": "off", **env})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not OPENMP, reason="this torch build runs no OpenMP runtime of its own")
def test_calls_run_on_torchs_team_and_equal_torch() -> None:
    report = _child()
    assert report["shared"] and report["workers"] == 0
    assert max(report["errors"].values()) <= 1e-5


@pytest.mark.skipif(not OPENMP, reason="this torch build runs no OpenMP runtime of its own")
def test_refused_or_short_team_uses_the_kernels_workers() -> None:
    off = _child(TSILSTM_SHARE_FRAMEWORK_THREADS="off")
    assert not off["shared"] and off["workers"] >= 1 and max(off["errors"].values()) <= 1e-5
    short = _child(OMP_THREAD_LIMIT="1")  # a team of one: the call's two threads cannot run on it
    assert short["shared"] and short["workers"] >= 1 and max(short["errors"].values()) <= 1e-5


def test_a_bad_setting_is_named(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(worker_threads.SHARE_THREADS_ENV, "sometimes")
    with pytest.raises(InvalidParameterError, match=worker_threads.SHARE_THREADS_ENV):
        worker_threads.share_framework_threads("/nonexistent/libgomp.so.1")


def test_a_library_without_openmp_registers_nothing(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(worker_threads.SHARE_THREADS_ENV, raising=False)
    assert not worker_threads.share_framework_threads("/nonexistent/libgomp.so.1")
    assert not worker_threads.share_framework_threads(None)
    library = torch_openmp_library()
    if library is not None:  # (put back what the process had)
        assert worker_threads.share_framework_threads(library)


def test_no_library_found_in_foreign_maps(tmp_path) -> None:  # type: ignore[no-untyped-def]
    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libgomp.so.1\n")
    assert torch_openmp_library(str(maps)) is None
    lib = Path(torch.__file__).resolve().parent / "lib" / "libgomp-abc.so.1"
    maps.write_text(f"7f00-7f01 r-xp 00000000 08:01 1 {lib}\n")
    assert torch_openmp_library(str(maps)) == str(lib)


FORK_CHILD = """
import os, sys, torch, tsilstm
torch.set_num_threads(2)
model = torch.nn.GRU(16, 128, num_layers=2).eval()
converted = tsilstm.convert(model, schedule="tsi", threads=2)
x = torch.randn(5, 2, 16)
with torch.inference_mode():
    expected = model(x)[0]
    converted(x)  # the team is used in the parent
    pid = os.fork()
    if pid == 0:
        ok = float((converted(x)[0] - expected).abs().max()) <= 1e-5  # (the child: the kernel's workers)
        os._exit(0 if ok else 3)
    _, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not OPENMP or not hasattr(os, "fork"), reason="no OpenMP team to share, or no fork()")
def test_a_forked_child_runs_without_the_parents_team() -> None:
    done = subprocess.run([sys.executable, "-c", FORK_CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "TSILSTM_TUNING": "off"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "0"
