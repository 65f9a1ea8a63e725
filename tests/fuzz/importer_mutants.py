"""Mutated and truncated model files for the importer fuzz: seeds (small synthetic ONNX / Keras
HDF5 / PyTorch files, and the cached trained fixtures when present) and mutations of two kinds:
byte-level (truncate, flip bits, overwrite, zero, insert or delete a span) and structural (an ONNX
attribute, initializer shape or dtype changed; a Keras config or dataset broken; a state_dict key
dropped, reshaped, NaN or integer). Deterministic for a given seed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import numpy as np

FIXTURE_SEEDS = ("silero-vad", "resemblyzer", "nsnet2", "ddddocr")
"""Trained fixtures used as seeds when cached (tsilstm.fixtures), smallest first."""


def synthetic_seeds(folder: Path) -> list[Path]:
    """Small valid model files of every format, written into ``folder``."""
    import onnx
    import torch

    from tests.importers.keras_files import bidirectional_config, keras_cell_weights, layer_config, weight_names, write_keras_h5
    from tests.importers.onnx_builders import build_recurrent_model, recurrent_node_arrays

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for op, direction, attrs in (("LSTM", "forward", {}), ("GRU", "bidirectional", {"linear_before_reset": 1}),
                                 ("LSTM", "reverse", {})):
        dirs = 2 if direction == "bidirectional" else 1
        arrays = recurrent_node_arrays(op, 3, 5, dirs, seed=len(paths), peephole=op == "LSTM" and direction == "reverse")
        model = build_recurrent_model(op, input_size=3, hidden=5, direction=direction, attributes=attrs, arrays=arrays)
        path = folder / f"synthetic_{op.lower()}_{direction}.onnx"
        onnx.save(model, str(path))
        paths.append(path)
    for class_name in ("LSTM", "GRU"):
        w = keras_cell_weights(class_name, 3, 4, seed=1)
        name = class_name.lower()
        entry = layer_config(class_name, name, 4, False)
        weights = list(zip(weight_names(name, class_name, False), (w["kernel"], w["recurrent_kernel"], w["bias"])))
        paths.append(write_keras_h5(folder / f"synthetic_{name}.h5", [(entry, weights)]))
    inner = layer_config("LSTM", "lstm", 4, True)
    fw, bw = keras_cell_weights("LSTM", 3, 4, seed=2), keras_cell_weights("LSTM", 3, 4, seed=3)
    names = weight_names("bidir", "LSTM", True, "forward_lstm") + weight_names("bidir", "LSTM", True, "backward_lstm")
    arrays = [fw["kernel"], fw["recurrent_kernel"], fw["bias"], bw["kernel"], bw["recurrent_kernel"], bw["bias"]]
    paths.append(write_keras_h5(folder / "synthetic_bidir.h5", [(bidirectional_config(inner, "bidir", True), list(zip(names, arrays)))],
                                keras3=True))
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 6, num_layers=2, proj_size=2)
    torch.save({"model_state": {f"lstm.{k}": v for k, v in lstm.state_dict().items()}, "step": 3}, folder / "synthetic_lstm.pt")
    torch.save(torch.nn.GRU(4, 5, bidirectional=True).state_dict(), folder / "synthetic_gru.pth")
    paths += [folder / "synthetic_lstm.pt", folder / "synthetic_gru.pth"]
    return paths + untrusted_seeds(folder)


EXTERNAL_DATA_FILE = "synthetic_external.bin"
"""The external data file of the ONNX external-data seed; copied next to the mutants."""


def untrusted_seeds(folder: Path) -> list[Path]:
    """Seeds of the untrusted-file cases: a TorchScript archive (refused: it runs code), an ONNX
    file whose tensors live in an external data file in its folder (loads), and a Keras file whose
    recurrent kernel is stored in an external raw file (refused)."""
    import h5py
    import onnx
    import torch

    from tests.importers.onnx_builders import build_recurrent_model

    torchscript = folder / "synthetic_torchscript.pt"
    torch.jit.script(torch.nn.LSTM(3, 4)).save(str(torchscript))
    model = build_recurrent_model("GRU", input_size=3, hidden=5, attributes={"linear_before_reset": 1})
    onnx.external_data_helper.convert_model_to_external_data(model, all_tensors_to_one_file=True,
                                                             location=EXTERNAL_DATA_FILE, size_threshold=0)
    external_onnx = folder / "synthetic_external.onnx"
    onnx.save(model, str(external_onnx))
    external_h5 = shutil.copyfile(folder / "synthetic_lstm.h5", folder / "synthetic_external.h5")
    with h5py.File(external_h5, "r+") as handle:
        names: list[str] = []
        handle.visititems(lambda name, obj: names.append(name) if name.endswith("recurrent_kernel:0") else None)
        data = handle[names[0]][()]
        raw = folder / "synthetic_external_kernel.raw"
        raw.write_bytes(data.tobytes())
        del handle[names[0]]
        handle.create_dataset(names[0], shape=data.shape, dtype=data.dtype, external=[(str(raw), 0, data.nbytes)])
    return [torchscript, external_onnx, Path(external_h5)]


def fixture_seeds() -> list[Path]:
    """The cached trained fixture files (empty when the cache is absent)."""
    from tsilstm.fixtures.catalog import fixture_path

    return [path for path in map(fixture_path, FIXTURE_SEEDS) if path is not None]


# ------------------------------------------------------------------ byte-level mutations

def _truncate(data: bytes, rng: np.random.Generator) -> bytes:
    cut = int(rng.choice([rng.integers(0, 16), rng.integers(0, max(1, len(data)))]))
    return data[:cut]


def _flip_bits(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    head = min(len(buf), int(rng.choice([512, 4096, len(buf)])))  # structure lives near the start
    for _ in range(int(rng.integers(1, 24))):
        i = int(rng.integers(0, head))
        buf[i] ^= 1 << int(rng.integers(0, 8))
    return bytes(buf)


def _overwrite(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    start = int(rng.integers(0, len(buf)))
    span = int(rng.integers(1, 64))
    fill = rng.integers(0, 256, span, dtype=np.uint8).tobytes() if rng.random() < 0.5 else b"\xff" * span
    buf[start : start + span] = fill[: len(buf) - start]
    return bytes(buf)


def _zero_span(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    start = int(rng.integers(0, len(buf)))
    end = min(len(buf), start + int(rng.integers(1, 4096)))
    buf[start:end] = bytes(end - start)
    return bytes(buf)


def _insert(data: bytes, rng: np.random.Generator) -> bytes:
    at = int(rng.integers(0, len(data) + 1))
    return data[:at] + rng.integers(0, 256, int(rng.integers(1, 32)), dtype=np.uint8).tobytes() + data[at:]


def _delete(data: bytes, rng: np.random.Generator) -> bytes:
    start = int(rng.integers(0, len(data)))
    return data[:start] + data[start + int(rng.integers(1, 256)) :]


BYTE_MUTATIONS: dict[str, Callable[[bytes, np.random.Generator], bytes]] = {
    "truncate": _truncate, "flip_bits": _flip_bits, "overwrite": _overwrite, "zero_span": _zero_span,
    "insert": _insert, "delete": _delete,
}


# ------------------------------------------------------------------ structural mutations

def _mutate_onnx(src: Path, dst: Path, rng: np.random.Generator) -> str:
    import onnx
    from onnx import TensorProto

    model = onnx.load(str(src), load_external_data=False)
    external = [t for g in _graphs(model.graph) for t in g.initializer if t.data_location == TensorProto.EXTERNAL]
    if external and rng.random() < 0.5:
        tensor = external[int(rng.integers(0, len(external)))]
        entry = next(e for e in tensor.external_data if e.key == "location")
        key, value = [("location", "../outside.bin"), ("location", "/etc/passwd"), ("location", "missing.bin"),
                      ("location", "."), ("offset", str(2**40)), ("offset", "-4"), ("length", "7"),
                      ("basepath", "/etc")][int(rng.integers(0, 8))]
        if key == "location":
            entry.value = value
        else:
            added = tensor.external_data.add()
            added.key, added.value = key, value
        onnx.save(model, str(dst))
        return f"onnx external {key}={value}"
    nodes = [n for g in _graphs(model.graph) for n in g.node if n.op_type in ("LSTM", "GRU")]
    inits = [t for g in _graphs(model.graph) for t in g.initializer]
    choice = int(rng.integers(0, 7))
    if choice == 0 and nodes:
        node = nodes[int(rng.integers(0, len(nodes)))]
        attr = next((a for a in node.attribute if a.name == "hidden_size"), None)
        if attr is not None:
            attr.i = int(rng.choice([0, -1, attr.i + 1, attr.i - 1, 2**40]))
        what = "hidden_size"
    elif choice == 1 and nodes:
        node = nodes[int(rng.integers(0, len(nodes)))]
        options = [("direction", "sideways"), ("clip", 1.5), ("activations", ["Relu", "Tanh", "Tanh"]),
                   ("linear_before_reset", 7), ("input_forget", 1), ("layout", 1)]
        name, value = options[int(rng.integers(0, len(options)))]
        kept = [a for a in node.attribute if a.name != name]
        del node.attribute[:]
        node.attribute.extend(kept + [onnx.helper.make_attribute(name, value)])
        what = f"attribute {name}"
    elif choice == 2 and inits:
        tensor = inits[int(rng.integers(0, len(inits)))]
        if tensor.dims:
            tensor.dims[int(rng.integers(0, len(tensor.dims)))] += int(rng.choice([-1, 1, 7]))
        what = "initializer dims"
    elif choice == 3 and inits:
        tensor = inits[int(rng.integers(0, len(inits)))]
        tensor.data_type = int(rng.choice([TensorProto.INT64, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.STRING]))
        what = "initializer dtype"
    elif choice == 4 and nodes:
        node = nodes[int(rng.integers(0, len(nodes)))]
        if len(node.input) > 1:
            node.input[int(rng.integers(1, len(node.input)))] = str(rng.choice(["", "missing_tensor"]))
        what = "node input"
    elif choice == 5 and nodes:
        node = nodes[int(rng.integers(0, len(nodes)))]
        node.op_type = "GRU" if node.op_type == "LSTM" else "LSTM"
        what = "op type"
    elif inits:
        tensor = inits[int(rng.integers(0, len(inits)))]
        if tensor.raw_data:
            raw = bytearray(tensor.raw_data)
            raw[: min(len(raw), 4)] = np.array([np.nan], np.float32).tobytes()[: min(len(raw), 4)]
            tensor.raw_data = bytes(raw)
        elif tensor.float_data:
            tensor.float_data[0] = float("nan")
        what = "NaN weight"
    else:
        what = "unchanged"
    onnx.save(model, str(dst))
    return f"onnx {what}"


def _graphs(graph):  # type: ignore[no-untyped-def]
    """``graph`` and its subgraphs (If / Loop bodies)."""
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.g is not None and attr.HasField("g"):
                yield from _graphs(attr.g)
            for sub in attr.graphs:
                yield from _graphs(sub)


def _mutate_keras(src: Path, dst: Path, rng: np.random.Generator) -> str:
    import h5py

    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as handle:
        datasets: list[str] = []
        handle.visititems(lambda name, obj: datasets.append(name) if isinstance(obj, h5py.Dataset) else None)
        choice = int(rng.integers(0, 5))
        if choice == 0:
            config = json.loads(handle.attrs["model_config"])
            layers = config["config"]["layers"]
            layer = layers[int(rng.integers(0, len(layers)))]
            key = str(rng.choice(["units", "class_name", "config", "reset_after", "activation"]))
            target = layer if key in ("class_name", "config") else layer.get("config", {})
            target[key] = [None, -3, "Weird", 0, 10**9][int(rng.integers(0, 5))]
            handle.attrs["model_config"] = json.dumps(config).encode()
            return f"keras config {key}"
        if choice == 1:
            handle.attrs["model_config"] = b"{not json"
            return "keras config text"
        if not datasets:
            return "keras unchanged"
        name = datasets[int(rng.integers(0, len(datasets)))]
        data = handle[name][()]
        del handle[name]
        if choice == 2:
            handle.create_dataset(name, data=np.resize(data, (max(1, data.shape[0] - 1),) + data.shape[1:]))
            return "keras dataset shape"
        if choice == 3:
            handle.create_dataset(name, data=np.full_like(data, np.nan) if data.dtype.kind == "f" else data)
            return "keras dataset NaN"
        return "keras dataset deleted"


def _mutate_torch(src: Path, dst: Path, rng: np.random.Generator) -> str:
    import torch

    obj = torch.load(src, map_location="cpu", weights_only=False)
    state = obj
    while isinstance(state, dict) and not any(hasattr(v, "shape") for v in state.values()):
        nested = [v for v in state.values() if isinstance(v, dict)]
        if not nested:
            break
        state = nested[0]
    keys = [k for k, v in state.items() if hasattr(v, "shape")]
    key = keys[int(rng.integers(0, len(keys)))]
    choice = int(rng.integers(0, 5))
    if choice == 0:
        del state[key]
        what = "key dropped"
    elif choice == 1:
        state[key] = state[key].reshape(-1)[: max(1, state[key].numel() - 1)].clone()
        what = "tensor reshaped"
    elif choice == 2:
        state[key] = torch.full_like(state[key], float("nan"))
        what = "NaN tensor"
    elif choice == 3:
        state[key] = state[key].to(torch.int64)
        what = "integer tensor"
    else:
        state[key] = "not a tensor"
        what = "not a tensor"
    torch.save(obj, dst)
    return f"torch {what}"


STRUCTURAL = {".onnx": _mutate_onnx, ".h5": _mutate_keras, ".pt": _mutate_torch, ".pth": _mutate_torch}


def write_mutants(seeds: list[Path], folder: Path, count: int, seed: int = 0) -> list[tuple[Path, str]]:
    """``count`` mutated files in ``folder`` (round-robin over ``seeds``, every third round structural),
    each with a description of its mutation."""
    folder.mkdir(parents=True, exist_ok=True)
    for data_file in {seed_path.parent / EXTERNAL_DATA_FILE for seed_path in seeds}:
        if data_file.exists():  # external tensor data the ONNX mutants refer to, in their folder
            shutil.copyfile(data_file, folder / EXTERNAL_DATA_FILE)
    rng = np.random.default_rng(seed)
    out = []
    cache: dict[Path, bytes] = {}
    for i in range(count):
        src = seeds[i % len(seeds)]
        dst = folder / f"mutant_{i:04d}_{src.stem}{src.suffix}"
        structural = None if "torchscript" in src.stem else STRUCTURAL.get(src.suffix)  # bytes only: never run it
        big = src.stat().st_size > 8 * 2**20
        if structural is not None and (i // len(seeds)) % 3 == 2 and not big:  # every third round, whatever the seed count
            what = structural(src, dst, rng)
        else:
            data = cache.setdefault(src, src.read_bytes())
            name = str(rng.choice(sorted(BYTE_MUTATIONS)))
            dst.write_bytes(BYTE_MUTATIONS[name](data, rng))
            what = f"bytes {name}"
        out.append((dst, f"{src.name}: {what}"))
    return out
