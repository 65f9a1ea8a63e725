"""The regression corpus of hostile model files (docs/ROBUSTNESS.md, "Threat model"): small files
that try to run code, read files outside their folder, block on a FIFO or make the importer
allocate far more than they hold. Each is generated here (nothing binary is committed), a few KiB
to a few hundred KiB, in a fresh folder; tests/security/test_hostile_files.py loads each through
``tsilstm inspect`` and checks that it is refused with the package's error, quickly, within bounded
memory and without touching anything outside the model's folder.

usage: python -m tests.security.make_hostile_files DIR     (writes the files, prints one per line)
"""

from __future__ import annotations

import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

MARKER_NAME = "written_by_the_model_file"
"""The file a code-running model tries to create (in the corpus folder's parent)."""
OUTSIDE_SECRET_BYTES = 1 << 16
"""Size of the file outside the model folders that escaping external data points at."""
ZIP_BOMB_INFLATED_BYTES = 200 * 2**20
"""The deflated .pt member inflates to this many bytes (the file is ~200 KiB)."""


@dataclass(frozen=True)
class HostileFile:
    """One corpus entry: the model file, the text the refusal must contain, what it tries."""

    name: str
    path: Path
    refusal: str
    attack: str


def _keras_lstm(path: Path, config_units: int = 4) -> tuple[Path, str]:
    """A one-LSTM Keras 2 file (3 inputs, 4 units; its config says ``config_units``); returns it
    and the HDF5 path of its recurrent_kernel."""
    from tests.importers.keras_files import keras_cell_weights, layer_config, weight_names, write_keras_h5

    w = keras_cell_weights("LSTM", 3, 4, seed=0)
    names = weight_names("lstm", "LSTM", False)
    write_keras_h5(path, [(layer_config("LSTM", "lstm", config_units, False),
                           list(zip(names, (w["kernel"], w["recurrent_kernel"], w["bias"]))))])
    return path, f"model_weights/lstm/{names[1]}"


def _replace_dataset(path: Path, name: str, make: Callable) -> None:  # type: ignore[type-arg]
    import h5py

    with h5py.File(path, "r+") as handle:
        data = handle[name][()]
        del handle[name]
        make(handle, name, data)


def _torchscript_setstate(folder: Path) -> HostileFile:
    """A TorchScript archive whose submodule's scripted __setstate__ writes a file on load."""
    from typing import Tuple

    import torch

    marker_path = str(folder.parent / MARKER_NAME)

    class Marker(torch.nn.Module):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path
            self.written = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

        @torch.jit.export
        def __getstate__(self) -> Tuple[str, bool]:
            return (self.path, self.training)

        @torch.jit.export
        def __setstate__(self, state: Tuple[str, bool]) -> None:
            self.path = state[0]
            self.training = state[1]
            self.written = int(torch.from_file(state[0], shared=True, size=16, dtype=torch.uint8).fill_(65).sum())

    class Model(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(3, 4)
            self.marker = Marker(marker_path)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.marker(self.lstm(x)[0])

    path = folder / "torchscript_setstate.pt"
    torch.jit.script(Model()).save(str(path))
    return HostileFile("torchscript_setstate", path, "TorchScript archive", f"runs code on load: writes {marker_path}")


def _torch_key_bomb(folder: Path) -> HostileFile:
    import torch

    state = dict(torch.nn.LSTM(3, 4).state_dict())
    state["bias_ih_l30000000"] = torch.zeros(16)
    path = folder / "torch_key_bomb.pt"
    torch.save(state, path)
    return HostileFile("torch_key_bomb", path, "layers/directions missing", "a layer index of 3e7: a set over every index")


def _torch_zip_bomb(folder: Path) -> HostileFile:
    """A torch.save file re-zipped with deflate plus a member of zeros inflating to 200 MiB."""
    import torch

    plain = folder / "plain.pt"
    torch.save(torch.nn.GRU(3, 4).state_dict(), plain)
    path = folder / "torch_zip_bomb.pt"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        prefix = source.namelist()[0].split("/")[0]
        for info in source.infolist():
            bomb.writestr(info.filename, source.read(info))
        with bomb.open(f"{prefix}/data/99", "w", force_zip64=True) as member:
            zeros = bytes(1 << 20)
            for _ in range(ZIP_BOMB_INFLATED_BYTES >> 20):
                member.write(zeros)
    plain.unlink()
    return HostileFile("torch_zip_bomb", path, "inflated zip members", f"{path.stat().st_size} bytes inflate to 200 MiB")


def _keras_external_passwd(folder: Path) -> HostileFile:
    path, name = _keras_lstm(folder / "keras_external_passwd.h5")
    _replace_dataset(path, name, lambda h, n, d: h.create_dataset(n, shape=d.shape, dtype=d.dtype,
                                                                   external=[("/etc/passwd", 0, d.nbytes)]))
    return HostileFile("keras_external_passwd", path, "external file", "W_hh read from /etc/passwd")


def _keras_external_fifo(folder: Path) -> HostileFile:
    sub = folder / "keras_fifo"
    sub.mkdir()
    os.mkfifo(sub / "weights.fifo")
    path, name = _keras_lstm(sub / "keras_external_fifo.h5")
    _replace_dataset(path, name, lambda h, n, d: h.create_dataset(n, shape=d.shape, dtype=d.dtype,
                                                                   external=[(str(sub / "weights.fifo"), 0, d.nbytes)]))
    return HostileFile("keras_external_fifo", path, "external file", "W_hh read from a FIFO: blocks forever")


def _keras_virtual(folder: Path) -> HostileFile:
    import h5py

    sub = folder / "keras_virtual"
    sub.mkdir()
    source = sub / "source.h5"
    with h5py.File(source, "w") as handle:
        handle["data"] = np.ones((4, 16), np.float32)
    path, name = _keras_lstm(sub / "keras_virtual.h5")

    def make(handle, dataset_name, data):  # type: ignore[no-untyped-def]
        layout = h5py.VirtualLayout(shape=data.shape, dtype=data.dtype)
        layout[:] = h5py.VirtualSource(str(source), "data", shape=data.shape)
        handle.create_virtual_dataset(dataset_name, layout)

    _replace_dataset(path, name, make)
    return HostileFile("keras_virtual", path, "virtual dataset", "W_hh mapped from another file")


def _keras_external_link(folder: Path) -> HostileFile:
    import h5py

    sub = folder / "keras_link"
    sub.mkdir()
    other, _ = _keras_lstm(folder / "outside_weights.h5")
    path, _ = _keras_lstm(sub / "keras_external_link.h5")
    with h5py.File(path, "r+") as handle:
        del handle["model_weights/lstm"]
        handle["model_weights/lstm"] = h5py.ExternalLink(str(other), "/model_weights/lstm")
    return HostileFile("keras_external_link", path, "external link", f"the layer's weights read from {other}")


def _keras_declared_24gib(folder: Path) -> HostileFile:
    """A ~10 KiB file whose LSTM (units 40000, as its config says) declares a 23.8 GiB recurrent kernel."""
    import h5py

    path, _ = _keras_lstm(folder / "keras_declared_24gib.h5", config_units=40000)

    with h5py.File(path, "r+") as handle:
        group = handle["model_weights/lstm/lstm/lstm_cell"]
        for role, shape in (("kernel:0", (3, 160000)), ("recurrent_kernel:0", (40000, 160000)), ("bias:0", (160000,))):
            del group[role]
            group.create_dataset(role, shape=shape, dtype=np.float32)  # contiguous, never written: no storage
    return HostileFile("keras_declared_24gib", path, "refused before reading", "23.8 GiB declared in ~10 KiB")


def _keras_chunked_bomb(folder: Path) -> HostileFile:
    """Compressed chunks that are never written: HDF5 returns the fill value for 256 MB."""
    import h5py

    path, _ = _keras_lstm(folder / "keras_chunked_bomb.h5", config_units=8000)

    with h5py.File(path, "r+") as handle:
        group = handle["model_weights/lstm/lstm/lstm_cell"]
        for role, shape in (("kernel:0", (3, 32000)), ("recurrent_kernel:0", (8000, 32000)), ("bias:0", (32000,))):
            del group[role]
            group.create_dataset(role, shape=shape, dtype=np.float32, chunks=True, compression="gzip")
    return HostileFile("keras_chunked_bomb", path, "read budget", "1 GiB of fill values from compressed chunks")


def _keras_shape_vs_config(folder: Path) -> HostileFile:
    path, name = _keras_lstm(folder / "keras_shape_vs_config.h5")
    _replace_dataset(path, name, lambda h, n, d: h.create_dataset(n, shape=(40000, 160000), dtype=np.float32))
    return HostileFile("keras_shape_vs_config", path, "config says units=4", "a 23.8 GiB W_hh where the config says 4 units")


def _onnx_with_external_w(folder: Path, file_name: str, location: str, dims: tuple[int, ...] | None = None) -> Path:
    """An ONNX LSTM whose W initializer points at external ``location`` (nothing else is external)."""
    import onnx
    from onnx import TensorProto

    from tests.importers.onnx_builders import build_recurrent_model

    model = build_recurrent_model("LSTM", input_size=3, hidden=4)
    tensor = next(t for t in model.graph.initializer if t.name.endswith("_W"))
    if dims is not None:
        del tensor.dims[:]
        tensor.dims.extend(dims)
    tensor.ClearField("raw_data")
    del tensor.float_data[:]
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", location
    path = folder / file_name
    onnx.save(model, str(path))
    return path


def _outside_secret(folder: Path) -> Path:
    secret = folder / "outside_secret.bin"
    if not secret.exists():
        secret.write_bytes(np.arange(OUTSIDE_SECRET_BYTES // 4, dtype=np.float32).tobytes())
    return secret


def _onnx_linked_out(folder: Path, name: str, link: Callable[[Path, Path], None], refusal: str, attack: str) -> HostileFile:
    """An ONNX model in its own folder whose W data file ``weights.bin`` is ``link(outside, there)``."""
    sub = folder / name
    sub.mkdir()
    link(_outside_secret(folder), sub / "weights.bin")
    return HostileFile(name, _onnx_with_external_w(sub, f"{name}.onnx", "weights.bin"), refusal, attack)


def _onnx_symlink_escape(folder: Path) -> HostileFile:
    return _onnx_linked_out(folder, "onnx_symlink_escape", os.symlink, "outside the model's folder",
                            "W read through a symlink out of the folder")


def _onnx_hard_link_escape(folder: Path) -> HostileFile:
    return _onnx_linked_out(folder, "onnx_hard_link_escape", os.link, "hard links",
                            "W read through a hard link to a file outside the folder")


def _onnx_dotdot(folder: Path) -> HostileFile:
    sub = folder / "onnx_dotdot"
    sub.mkdir()
    _outside_secret(folder)
    path = _onnx_with_external_w(sub, "onnx_dotdot.onnx", "../outside_secret.bin")
    return HostileFile("onnx_dotdot", path, "outside the model's folder", "W read from ../")


def _onnx_absolute(folder: Path) -> HostileFile:
    sub = folder / "onnx_absolute"
    sub.mkdir()
    path = _onnx_with_external_w(sub, "onnx_absolute.onnx", "/etc/passwd")
    return HostileFile("onnx_absolute", path, "not a relative path", "W read from /etc/passwd")


def _onnx_fifo(folder: Path) -> HostileFile:
    sub = folder / "onnx_fifo"
    sub.mkdir()
    os.mkfifo(sub / "weights.fifo")
    path = _onnx_with_external_w(sub, "onnx_fifo.onnx", "weights.fifo")
    return HostileFile("onnx_fifo", path, "not a regular file", "W read from a FIFO: blocks forever")


def _onnx_size_lie(folder: Path) -> HostileFile:
    sub = folder / "onnx_size_lie"
    sub.mkdir()
    (sub / "weights.bin").write_bytes(bytes(64))
    path = _onnx_with_external_w(sub, "onnx_size_lie.onnx", "weights.bin", dims=(1, 160000, 40000))
    return HostileFile("onnx_size_lie", path, "refused before reading", "24 GiB declared for a 64-byte data file")


BUILDERS: tuple[Callable[[Path], HostileFile], ...] = (
    _torchscript_setstate, _torch_key_bomb, _torch_zip_bomb,
    _keras_external_passwd, _keras_external_fifo, _keras_virtual, _keras_external_link, _keras_declared_24gib,
    _keras_chunked_bomb, _keras_shape_vs_config,
    _onnx_symlink_escape, _onnx_hard_link_escape, _onnx_dotdot, _onnx_absolute, _onnx_fifo, _onnx_size_lie,
)


def make_hostile_files(folder: Path) -> list[HostileFile]:
    """Write every corpus file into ``folder`` (created; must be empty) and describe each."""
    folder.mkdir(parents=True, exist_ok=True)
    return [build(folder) for build in BUILDERS]


if __name__ == "__main__":
    for item in make_hostile_files(Path(sys.argv[1])):
        print(f"{item.name}\t{item.path}\t{item.path.stat().st_size} bytes\t{item.attack}")
