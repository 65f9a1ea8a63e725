"""The hostile-file corpus (tests/security/make_hostile_files.py) through ``tsilstm inspect``: each
file is refused with the package's error naming the file and what was refused, within seconds,
under ``ulimit -v 4000000`` and below 1 GiB of RSS, and the TorchScript archive's code never runs.
Then the same public path with files that are fine (external data inside the folder, a symlink
that stays inside it) still loads, and the opt-in flag really runs code (so the corpus is live)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("h5py")
pytest.importorskip("onnx")

from tests.security.limited_run import run_cli_limited  # noqa: E402
from tests.security.make_hostile_files import BUILDERS, MARKER_NAME, make_hostile_files  # noqa: E402
from tsilstm.importers import ModelFileError, load_model  # noqa: E402

MAX_SECONDS = 10.0
MAX_RSS_BYTES = 2**30


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("hostile") / "corpus"
    return {item.name: item for item in make_hostile_files(folder)}


def test_every_builder_names_its_file(corpus):  # type: ignore[no-untyped-def]
    assert sorted(corpus) == sorted(build.__name__.lstrip("_") for build in BUILDERS)


@pytest.mark.parametrize("name", [build.__name__.lstrip("_") for build in BUILDERS])
def test_inspect_refuses_hostile_file(corpus, name):  # type: ignore[no-untyped-def]
    item = corpus[name]
    run = run_cli_limited(["inspect", str(item.path)], timeout_s=60)
    assert run.returncode == 2, (item.attack, run.returncode, run.stderr[-2000:])
    error_line = run.stderr.strip().splitlines()[-1]
    assert error_line.startswith("error: ") and item.path.name in error_line, error_line
    assert item.refusal in error_line, error_line
    assert "Traceback" not in run.stderr
    assert run.seconds < MAX_SECONDS, f"{item.name}: {run.seconds:.1f} s"
    assert run.peak_rss_bytes < MAX_RSS_BYTES, f"{item.name}: peak RSS {run.peak_rss_bytes} bytes"
    assert not (item.path.parent.parent / MARKER_NAME).exists()
    assert not (item.path.parent / MARKER_NAME).exists()


def test_trusting_the_torchscript_archive_runs_its_code(corpus):  # type: ignore[no-untyped-def]
    item = corpus["torchscript_setstate"]
    marker = item.path.parent.parent / MARKER_NAME
    with pytest.raises(ModelFileError, match="TorchScript archive"):
        load_model(item.path)
    assert not marker.exists()
    model = load_model(item.path, allow_code=True)  # documented as running the archive's code: it does
    assert marker.exists() and model.cell == "lstm"
    marker.unlink()


def _onnx_external_model(folder: Path, location: str) -> tuple[Path, np.ndarray]:
    import onnx
    from onnx import numpy_helper

    from tests.importers.onnx_builders import build_recurrent_model

    model = build_recurrent_model("LSTM", input_size=3, hidden=4)
    tensor = next(t for t in model.graph.initializer if t.name.endswith("_W"))
    weights = numpy_helper.to_array(tensor)
    onnx.external_data_helper.convert_model_to_external_data(model, all_tensors_to_one_file=True, location=location,
                                                             size_threshold=0)
    path = folder / "model.onnx"
    onnx.save(model, str(path))
    return path, weights


def test_onnx_external_data_inside_the_folder_loads(tmp_path):
    path, weights = _onnx_external_model(tmp_path, "weights.bin")
    model = load_model(path)
    assert model.layers[0].hidden_size == 4
    loaded = load_model(path)  # the proto on disk is unchanged by loading
    assert np.array_equal(loaded.layers[0].directions[0].w_ih, model.layers[0].directions[0].w_ih)
    assert weights.shape == (1, 16, 3)


def test_onnx_symlink_that_stays_inside_the_folder_loads(tmp_path):
    path, _ = _onnx_external_model(tmp_path, "weights.bin")
    (tmp_path / "data").mkdir()
    (tmp_path / "weights.bin").rename(tmp_path / "data" / "real.bin")
    (tmp_path / "weights.bin").symlink_to(tmp_path / "data" / "real.bin")
    assert load_model(path).layers[0].hidden_size == 4


def test_onnx_hard_links_all_inside_the_folder_load(tmp_path):
    path, _ = _onnx_external_model(tmp_path, "weights.bin")
    (tmp_path / "backup").mkdir()
    os.link(tmp_path / "weights.bin", tmp_path / "backup" / "weights.bin")
    assert os.stat(tmp_path / "weights.bin").st_nlink == 2
    assert load_model(path).layers[0].hidden_size == 4


def test_onnx_hard_link_to_a_file_outside_the_folder_is_refused_naming_tensor_and_location(tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    path, _ = _onnx_external_model(folder, "weights.bin")
    os.link(folder / "weights.bin", tmp_path / "elsewhere.bin")  # the same file, also reachable outside
    with pytest.raises(ModelFileError, match=r"input W .*'weights\.bin' is a file with 2 hard links, 1 of them found"):
        load_model(path)


def test_onnx_external_data_length_must_match_the_dims(tmp_path):
    import onnx

    path, _ = _onnx_external_model(tmp_path, "weights.bin")
    model = onnx.load(str(path), load_external_data=False)
    tensor = next(t for t in model.graph.initializer if t.name.endswith("_W"))
    for entry in tensor.external_data:
        if entry.key == "length":
            entry.value = str(int(entry.value) + 4)
    onnx.save(model, str(path))
    with pytest.raises(ModelFileError, match="external data length"):
        load_model(path)


def test_keras_soft_link_inside_the_file_is_followed(tmp_path):
    import h5py

    from tests.security.make_hostile_files import _keras_lstm

    path, name = _keras_lstm(tmp_path / "soft.h5")
    with h5py.File(path, "r+") as handle:
        handle.move(name, "/stash/recurrent")
        handle[name] = h5py.SoftLink("/stash/recurrent")
    assert load_model(path).layers[0].hidden_size == 4
