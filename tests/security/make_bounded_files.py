"""Small model files that try to make an importer allocate or walk far more than they hold: a .pt
whose tensors are stride-0 views of one stored element, a legacy-format .pt, many keys viewing one
storage, a sparse tensor; Keras weights-only files whose groups soft-link to the next level (a DAG
visited N^depth times by a naive walk) or list one layer thousands of times; an ONNX model with
thousands of subgraphs over thousands of initializers (a walk copying its scope per subgraph is
quadratic). Each is generated here, in a given folder; tests/security/test_bounded_reads.py loads
them through ``tsilstm inspect`` under an address-space limit.

usage: python -m tests.security.make_bounded_files DIR     (writes the files, prints one per line)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import numpy as np

ZERO_STRIDE_HIDDEN = 8000
"""Hidden size of the stride-0 .pt: W_hh (32000 x 8000) would be 977 MiB as float32, from ~1.8 KB."""
SHARED_STORAGE_ELEMENTS = 65536
"""Elements of the one storage every key of the shared-storage .pt views (256 KiB)."""
SHARED_STORAGE_KEYS = 300
"""Keys viewing that storage: 75 MiB of copies from a 256 KiB file (over the 64 MiB minimum budget)."""
LINK_DAG_FANOUT = 6
"""Soft links per level of the Keras link DAG, each to the same next-level group."""
LINK_DAG_DEPTH = 8
"""Levels of nested models in the link DAG: a naive walk visits 6^8 = 1.7 million groups."""
REPEATED_LAYER_NAMES = 20000
"""How often the Keras 2 weights-only file lists its one layer in ``layer_names``."""
ONNX_SUBGRAPHS = 10000
"""``If`` nodes of the many-subgraph ONNX model (two subgraphs each)."""
ONNX_INITIALIZERS = 25000
"""Initializers of its main graph (a scope copied per subgraph: 500 million entries)."""


def zero_stride_pt(folder: Path) -> Path:
    """A state_dict of an LSTM (8 inputs, hidden ``ZERO_STRIDE_HIDDEN``) whose every tensor is an
    expanded view of one stored zero."""
    import torch

    hidden = ZERO_STRIDE_HIDDEN
    stored = torch.zeros(1)
    state = {"weight_ih_l0": stored.expand(4 * hidden, 8), "weight_hh_l0": stored.expand(4 * hidden, hidden),
             "bias_ih_l0": stored.expand(4 * hidden), "bias_hh_l0": stored.expand(4 * hidden)}
    path = folder / "zero_stride.pt"
    torch.save(state, path)
    return path


def legacy_pt(folder: Path) -> Path:
    """An LSTM state_dict in torch's legacy (non-zip) format."""
    import torch

    path = folder / "legacy.pt"
    torch.save(torch.nn.LSTM(3, 4).state_dict(), path, _use_new_zipfile_serialization=False)
    return path


def legacy_unread_pt(folder: Path) -> Path:
    """A legacy-format file (written here as torch's legacy writer lays it out) whose W_hh declares a
    storage of 32000 x 8000 floats that its storage key list omits: torch would allocate it and
    return uninitialised memory as weights."""
    import io
    import pickle
    from collections import OrderedDict

    import torch

    hidden = ZERO_STRIDE_HIDDEN

    class Storage:
        def __init__(self, key: str, numel: int) -> None:
            self.key, self.numel = key, numel

    class Tensor:
        def __init__(self, storage: Storage, shape: tuple[int, ...]) -> None:
            self.storage, self.shape = storage, shape

        def __reduce__(self):  # type: ignore[no-untyped-def]
            strides = (self.shape[1], 1) if len(self.shape) == 2 else (1,)
            return torch._utils._rebuild_tensor_v2, (self.storage, 0, self.shape, strides, False, OrderedDict())

    class Writer(pickle.Pickler):
        def persistent_id(self, obj):  # type: ignore[no-untyped-def]
            if isinstance(obj, Storage):
                return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel, None)
            return None

    shapes = {"weight_ih_l0": (4 * hidden, 8), "weight_hh_l0": (4 * hidden, hidden), "bias_ih_l0": (4 * hidden,),
              "bias_hh_l0": (4 * hidden,)}
    state = OrderedDict((key, Tensor(Storage(str(index), int(np.prod(shape))), shape))
                        for index, (key, shape) in enumerate(shapes.items()))
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
        pickle.dump(header, out, protocol=2)
    Writer(out, protocol=2).dump(state)
    pickle.dump([], out, protocol=2)  # no storage is listed: none is ever read
    path = folder / "legacy_unread.pt"
    path.write_bytes(out.getvalue())
    return path


def shared_storage_pt(folder: Path) -> Path:
    """An LSTM state_dict plus ``SHARED_STORAGE_KEYS`` keys that each view one stored array."""
    import torch

    state = dict(torch.nn.LSTM(3, 4).state_dict())
    stored = torch.zeros(SHARED_STORAGE_ELEMENTS)
    state.update({f"copy{index}": stored[:] for index in range(SHARED_STORAGE_KEYS)})
    path = folder / "shared_storage.pt"
    torch.save(state, path)
    return path


def sparse_pt(folder: Path) -> Path:
    """An LSTM state_dict whose W_hh is a sparse COO tensor."""
    import torch

    state = dict(torch.nn.LSTM(3, 4).state_dict())
    state["weight_hh_l0"] = state["weight_hh_l0"].to_sparse()
    path = folder / "sparse.pt"
    torch.save(state, path)
    return path


def keras_link_dag(folder: Path) -> Path:
    """A Keras 3 ``.weights.h5`` whose nested-model containers hold ``LINK_DAG_FANOUT`` soft links
    each, all to the one group of the next level, ``LINK_DAG_DEPTH`` levels deep; the last level
    holds one LSTM cell."""
    import h5py

    from tests.importers.keras_files import keras_cell_weights

    path = folder / "keras_link_dag.weights.h5"
    weights = keras_cell_weights("LSTM", 3, 4)
    with h5py.File(path, "w") as handle:
        handle.create_group("vars").attrs["name"] = "sequential"
        for level in range(LINK_DAG_DEPTH + 1):
            group = handle.create_group(f"level{level}")
            group.create_group("vars").attrs["name"] = f"model{level}"
            if level == LINK_DAG_DEPTH:
                variables = group.create_group("cell/vars")
                for index, role in enumerate(("kernel", "recurrent_kernel", "bias")):
                    variables.create_dataset(str(index), data=weights[role])
        containers = ["layers"] + [f"level{level}/layers" for level in range(LINK_DAG_DEPTH)]
        for level, container in enumerate(containers):
            created = handle.create_group(container)
            for key in range(LINK_DAG_FANOUT):
                created[f"model_{key}"] = h5py.SoftLink(f"/level{level}")
    return path


def keras_repeated_layer_names(folder: Path) -> Path:
    """A Keras 2 weights-only file with one LSTM group listed ``REPEATED_LAYER_NAMES`` times."""
    import h5py

    from tests.importers.keras_files import keras_cell_weights, weight_names, write_keras2_weights_file

    weights = keras_cell_weights("LSTM", 3, 4)
    names = weight_names("lstm", "LSTM", False)
    path = write_keras2_weights_file(folder / "keras_repeated_names.h5",
                                     [("lstm", list(zip(names, (weights["kernel"], weights["recurrent_kernel"],
                                                                weights["bias"]))))])
    with h5py.File(path, "r+") as handle:  # chunked as Keras writes a long list: layer_names0, layer_names1
        del handle.attrs["layer_names"]
        half = REPEATED_LAYER_NAMES // 2
        for chunk in range(2):
            handle.attrs[f"layer_names{chunk}"] = np.array([b"lstm"] * half)
    return path


def onnx_many_subgraphs(folder: Path) -> Path:
    """An ONNX LSTM model whose main graph also holds ``ONNX_INITIALIZERS`` small initializers and
    ``ONNX_SUBGRAPHS`` ``If`` nodes with two one-node subgraphs each."""
    import onnx
    from onnx import TensorProto, helper

    from tests.importers.onnx_builders import build_recurrent_model

    model = build_recurrent_model("LSTM", input_size=3, hidden=4)
    graph = model.graph
    graph.initializer.extend(helper.make_tensor(f"c{index}", TensorProto.FLOAT, [1], [0.0])
                             for index in range(ONNX_INITIALIZERS))
    graph.initializer.append(helper.make_tensor("flag", TensorProto.BOOL, [], [True]))
    branch_output = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    nodes = []
    for index in range(ONNX_SUBGRAPHS):
        branches = [helper.make_graph([helper.make_node("Identity", ["c0"], ["y"])], f"b{index}_{side}", [], [branch_output])
                    for side in ("then", "else")]
        nodes.append(helper.make_node("If", ["flag"], [f"if{index}"], then_branch=branches[0], else_branch=branches[1]))
    graph.node.extend(nodes)
    path = folder / "onnx_many_subgraphs.onnx"
    onnx.save(model, str(path))
    return path


BUILDERS: tuple[Callable[[Path], Path], ...] = (
    zero_stride_pt, legacy_pt, legacy_unread_pt, shared_storage_pt, sparse_pt, keras_link_dag, keras_repeated_layer_names,
    onnx_many_subgraphs,
)


if __name__ == "__main__":
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for build in BUILDERS:
        built = build(target)
        print(f"{built}\t{built.stat().st_size} bytes")
