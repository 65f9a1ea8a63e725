"""Regressions found by the importer fuzz: each malformed file gives a ModelFileError (a
TsilstmError), where it used to escape as a plain ValueError / AttributeError / TypeError /
UnicodeDecodeError / KeyError from numpy, zipfile or h5py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tsilstm.errors import TsilstmError
from tsilstm.importers import load_models


@pytest.fixture
def seeds(tmp_path: Path) -> dict[str, Path]:
    pytest.importorskip("onnx")
    pytest.importorskip("h5py")
    pytest.importorskip("torch")
    from tests.fuzz.importer_mutants import synthetic_seeds

    return {path.name: path for path in synthetic_seeds(tmp_path / "seeds")}


def test_onnx_initializer_whose_data_does_not_match_its_type(seeds: dict[str, Path], tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto

    model = onnx.load(str(seeds["synthetic_lstm_reverse.onnx"]))
    model.graph.initializer[0].data_type = TensorProto.DOUBLE  # raw data of float32 read as float64
    onnx.save(model, str(tmp_path / "m.onnx"))
    with pytest.raises(TsilstmError, match="cannot be read as a tensor"):
        load_models(tmp_path / "m.onnx")


def test_torch_zip_with_undecodable_member_name(seeds: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(seeds["synthetic_lstm.pt"].read_bytes())
    central = data.rfind(b"synthetic_lstm/")  # a member name in the central directory
    assert central > 0
    data[central] = 0xFF
    (tmp_path / "m.pt").write_bytes(bytes(data))
    with pytest.raises(TsilstmError):
        load_models(tmp_path / "m.pt")


@pytest.mark.parametrize("breakage", ["config is a string", "class_name is a number"])
def test_keras_layer_entries_of_the_wrong_type(seeds: dict[str, Path], tmp_path: Path, breakage: str) -> None:
    import shutil

    import h5py

    path = tmp_path / "m.h5"
    shutil.copyfile(seeds["synthetic_bidir.h5"], path)
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        layer = next(entry for entry in config["config"]["layers"] if entry["class_name"] == "Bidirectional")
        if breakage == "config is a string":
            layer["config"] = "Weird"
        else:
            layer["class_name"] = 10**9
        handle.attrs["model_config"] = json.dumps(config).encode()
    with pytest.raises(TsilstmError):
        load_models(path)
