"""``tsilstm inspect`` on Keras weights-only files: without --architecture it says what it found and
what it needs (with an example architecture that loads the file); with one it lists the layers."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tsilstm.cli.main import cli

pytest.importorskip("h5py")

from tests.importers.keras_files import keras_cell_weights, write_keras3_weights_file  # noqa: E402


@pytest.fixture()
def weights_file(tmp_path):  # type: ignore[no-untyped-def]
    """A Keras 3 .weights.h5 file: a bidirectional LSTM of 8 units on 3 inputs, a reset-after GRU of 6."""
    lstm_f, lstm_b = keras_cell_weights("LSTM", 3, 8, seed=1), keras_cell_weights("LSTM", 3, 8, seed=2)
    gru = keras_cell_weights("GRU", 16, 6, reset_after=True, seed=3)
    roles = ("kernel", "recurrent_kernel", "bias")
    return write_keras3_weights_file(tmp_path / "model.weights.h5", [
        ("bidirectional", "encoder", [[lstm_f[r] for r in roles], [lstm_b[r] for r in roles]]),
        ("gru", "decoder", [[gru[r] for r in roles]]),
    ])


def test_inspect_without_architecture_says_what_it_found_and_needs(weights_file, tmp_path):
    result = CliRunner().invoke(cli, ["inspect", str(weights_file)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Keras weights-only file" in out and "Keras 3 .weights.h5 layout" in out
    assert "forward_layer/cell/vars/1 (8, 32)" in out and "cell/vars/2 (2, 18)" in out
    assert "LSTM, 8 units, input 3, bidirectional" in out and "GRU reset_after=true, 6 units, input 16" in out
    assert "--architecture ARCH.toml" in out
    example = out[out.index("# The file records no activations"):]
    (tmp_path / "arch.toml").write_text(example)
    loaded = CliRunner().invoke(cli, ["inspect", str(weights_file), "--architecture", str(tmp_path / "arch.toml"), "--json"])
    assert loaded.exit_code == 0, loaded.output
    rows = json.loads(loaded.output)["layers"]
    assert [(r["layer"], r["cell"], r["direction"], r["input_size"], r["hidden_size"]) for r in rows] == [
        ("encoder", "lstm", "bidirectional", 3, 8), ("decoder", "gru", "forward", 16, 6)]


def test_inspect_json_without_architecture(weights_file):
    result = CliRunner().invoke(cli, ["inspect", str(weights_file), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["weights_only"] and report["layers"] == [] and report["layout"] == "keras3"
    decoder = next(g for g in report["groups"] if g["layer"] == "decoder")
    assert decoder["path"] == "layers/gru" and decoder["implies"]["cell"] == "GRU" and decoder["implies"]["units"] == 6
    assert {"name": "layers/gru/cell/vars/1", "shape": [6, 18]} in decoder["datasets"]
    assert 'name = "decoder"' in report["example_architecture"]


def test_inspect_with_a_mismatching_architecture_exits_2_naming_the_layer(weights_file, tmp_path):
    (tmp_path / "bad.toml").write_text('[[layers]]\nname = "decoder"\ncell = "GRU"\nunits = 7\nreset_after = true\n'
                                       '[[layers]]\nname = "encoder"\ncell = "LSTM"\nunits = 8\nbidirectional = true\n')
    result = CliRunner().invoke(cli, ["inspect", str(weights_file), "--architecture", str(tmp_path / "bad.toml")])
    assert result.exit_code == 2
    assert "layer 'decoder': the architecture says units=7 but the weights have 6 units" in result.output
    (tmp_path / "typo.toml").write_text('[[layers]]\nname = "decoder"\ncell = "GRU"\nunit = 6\n')
    result = CliRunner().invoke(cli, ["inspect", str(weights_file), "--architecture", str(tmp_path / "typo.toml")])
    assert result.exit_code == 2 and "layers[0].unit" in result.output
