"""Importer fuzz (quick slice): mutated and truncated ONNX / Keras HDF5 / PyTorch files load
correctly or raise TsilstmError; never another exception type, a crash or a hang. Each file is
loaded in a worker process (tests/fuzz/importer_worker.py) so a crash or hang in a parser is caught
and named; one inside a third-party parser (h5py/libhdf5, onnx, protobuf, torch) is printed, not
failed: it is not tsilstm's to fix (docs/ROBUSTNESS.md lists the ones found). Size: TSILSTM_IMPORTER_MUTANTS (default 60); the full run of 600 is
``python -m tests.fuzz.importer_fuzz_run 600`` (docs/ROBUSTNESS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.importer_fuzz_run import ours, run, summarize


def test_mutated_model_files_load_or_raise_clear_error(tmp_path: Path, importer_mutants: int) -> None:
    pytest.importorskip("onnx")
    pytest.importorskip("h5py")
    pytest.importorskip("torch")
    mutants, results = run(importer_mutants, tmp_path, use_fixtures=True, seed=importer_mutants)
    assert len(results) == len(mutants)
    print(summarize(mutants, results))  # third-party crashes / hangs are listed here (reported upstream)
    assert not ours(results), summarize(mutants, results)
    outcomes = {r["outcome"] for r in results.values()}
    assert "clear_error" in outcomes  # the mutations do break files
