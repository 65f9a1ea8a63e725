"""``tsilstm rtl``: run prints the interface the checks use; bad input exits 2 naming the option."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from tsilstm.cli.main import cli


def test_run_json_has_the_documented_keys(edge_design, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "w.npz", w_ih=rng.uniform(-0.2, 0.2, (96, 32)), w_hh=rng.uniform(-0.2, 0.2, (96, 32)),
             b_ih=rng.uniform(-0.2, 0.2, 96), b_hh=rng.uniform(-0.2, 0.2, 96))
    np.save(tmp_path / "x.npy", rng.uniform(-1, 1, (2, 1, 32)).astype(np.float32))
    args = ["rtl", "run", "--arch", "edge", "--cell", "gru", "--hidden", "32", "--input", "32", "--batch", "1", "--steps", "2",
            "--schedule", "tsi", "--buffer", "24KiB", "--tile", "16", "--weights", str(tmp_path / "w.npz"),
            "--inputs", str(tmp_path / "x.npy"), "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["max_abs_error_vs_fixed_point_reference"] == 0.0
    assert np.asarray(data["outputs"]).shape == (2, 1, 32)
    assert data["dram_bytes"]["weights"] > 0 and data["cycles"] > 0
    assert data["model_dram_bytes"]["weights"] == data["dram_bytes"]["weights"]
    assert data["cycles_vs_model"] == data["cycles"] / data["model_cycles"]
    assert abs(data["cycles_vs_model"] - 1.0) <= 0.05


def test_bad_input_names_the_option() -> None:
    result = CliRunner().invoke(cli, ["rtl", "run", "--hidden", "40", "--tile", "8", "--steps", "2"])
    assert result.exit_code == 2
    assert "tile" in result.output or "hidden" in result.output
