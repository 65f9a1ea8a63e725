"""``tsilstm explore`` end to end on a tiny space (an in-process Dask cluster of threads), resume
after an interruption, and its input errors (exit 2 naming the option)."""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner

from tsilstm.cli.main import cli
from tsilstm.report.explore_run import run_chunks
from tsilstm.report.explore_store import ChunkStore

pytest.importorskip("distributed")

TINY = (
    "explore", "--workload", "deepbench-lstm-256-b1", "--buffers", "64KiB,256KiB", "--tiles", "64", "--macs", "256",
    "--clocks", "800MHz", "--weight-bits", "16", "--drams", "lpddr4,hbm2", "--nodes", "28", "--schedules",
    "conventional,tsi", "--chunk-size", "1", "--threads", "--workers", "1", "--quiet",
)


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_explore_writes_the_front_of_every_schedule_and_a_rerun_recomputes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    result = _run(*TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "4 chunks computed, 0 resumed" in result.output
    summary = json.loads((out / "explore.json").read_text())
    assert summary["valid_designs"] == 4 and summary["chunks"] == {"total": 4, "resumed": 0, "computed": 4}
    assert set(summary["pareto_front"]) == {"conventional", "tsi"}
    assert summary["iso_area"] and {"conventional", "tsi"} <= set(summary["iso_area"][-1])
    with (out / "designs.csv").open() as handle:
        assert len(list(csv.DictReader(handle))) == 8  # 4 designs x 2 schedules
    with (out / "pareto_front.csv").open() as handle:
        front = list(csv.DictReader(handle))
    assert {r["schedule"] for r in front} == {"conventional", "tsi"}
    assert (out / "pareto_energy_latency.png").stat().st_size > 0 and (out / "pareto_energy_area.svg").exists()
    again = _run(*TINY, "--out", str(out))
    assert again.exit_code == 0, again.output
    assert "0 chunks computed, 4 resumed" in again.output
    assert json.loads((out / "explore.json").read_text())["pareto_front"] == summary["pareto_front"]


def test_an_interrupted_run_resumes_without_recomputing_what_it_finished(tmp_path: Path) -> None:
    store = ChunkStore(tmp_path, "stamp")
    store.write(0, [{"chunk": 0, "from": "earlier run"}])
    store.write(2, [{"chunk": 2, "from": "earlier run"}])
    (store.directory / "chunk-00003.tmp").write_text("{half written")  # killed while writing chunk 3
    log = tmp_path / "evaluated.txt"  # the tasks are serialised to the worker: record calls in a file
    rows, resumed = run_chunks(partial(_evaluate_logged, log), [0, 1, 2, 3], store, workers=1, processes=False, show_progress=False)
    assert sorted(int(line) for line in log.read_text().split()) == [1, 3] and resumed == 2
    assert [(r["chunk"], r["from"]) for r in rows] == [
        (0, "earlier run"), (1, "this run"), (2, "earlier run"), (3, "this run"),
    ]
    assert sorted(store.finished()) == [0, 1, 2, 3]


def _evaluate_logged(log: Path, chunk: int) -> list[dict]:
    with log.open("a") as handle:
        handle.write(f"{chunk}\n")
    return [{"chunk": chunk, "from": "this run"}]


def test_another_exploration_into_the_same_directory_is_refused(tmp_path: Path) -> None:
    ChunkStore(tmp_path, "first")
    result = _run(*TINY, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--out" in result.output and "another exploration" in result.output


def test_a_space_without_a_valid_design_is_an_error_naming_the_axes(tmp_path: Path) -> None:
    result = _run("explore", "--workload", "deepbench-lstm-512-b1", "--buffers", "16KiB", "--weight-bits", "16",
                  "--out", str(tmp_path / "none"))
    assert result.exit_code == 2
    assert "--buffers" in result.output and "every design is impossible" in result.output and "one tile" in result.output


def test_an_unreachable_scheduler_is_an_error_naming_the_option(tmp_path: Path) -> None:
    result = _run(*TINY, "--out", str(tmp_path / "s"), "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout", "0.5")
    assert result.exit_code == 2
    assert "--scheduler" in result.output and "tcp://127.0.0.1:9" in result.output


def test_explore_needs_a_workload_or_a_model_file(tmp_path: Path) -> None:
    result = _run("explore", "--out", str(tmp_path))
    assert result.exit_code == 2 and "--workload" in result.output


def test_a_scheduler_address_without_a_port_is_refused_before_connecting(tmp_path: Path) -> None:
    result = _run(*TINY, "--out", str(tmp_path / "s"), "--scheduler", "my-cluster")
    assert result.exit_code == 2 and "--scheduler" in result.output and "HOST:PORT" in result.output
