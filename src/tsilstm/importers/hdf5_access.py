"""Reading objects of an untrusted HDF5 file without leaving it: links are followed only when they
are hard or soft links inside the file (external links, which open another file, are refused);
datasets are read only after their declared storage is checked (no external raw-data files, no
virtual datasets, only HDF5's built-in filters, a floating-point type, and a declared size within
the file's size or the read budget). Every refusal is a ``ModelFileError`` naming the file and the
object."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from tsilstm.errors import ModelFileError
from tsilstm.importers.read_budget import check_read_budget
from tsilstm.optional_packages import import_optional

MAX_SOFT_LINK_HOPS = 32
"""Soft links followed while resolving one name (a longer chain is refused: it may be a cycle)."""
MAX_WALKED_GROUPS = 100_000
"""Layer groups one walk of a file visits at most (bounds the time of a walk over a huge file)."""
BUILTIN_FILTERS = {1: "deflate", 2: "shuffle", 3: "fletcher32", 4: "szip", 5: "nbit", 6: "scaleoffset", 32000: "lzf"}
"""Filters HDF5 and h5py implement themselves; any other id would make libhdf5 look for a plugin."""


@contextmanager
def open_hdf5(path: Path, expected: str) -> Iterator[Any]:
    """The HDF5 file at ``path`` open for reading (an ``h5py.File``), closed on leaving. A missing or
    unreadable file, and h5py's errors on a corrupt or truncated one while it is read, become a
    ``ModelFileError`` naming the file and what was ``expected`` (e.g. "a Keras .h5 model file")."""
    h5py = import_optional("h5py", "read HDF5 model files")
    if not path.is_file():
        raise ModelFileError(path, "", "no such file")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise ModelFileError(path, "", f"is not a readable HDF5 file ({str(error)[:200]})", expected) from error
    try:
        with handle:
            yield handle
    except (OSError, RuntimeError, KeyError) as error:  # h5py on a corrupt or truncated file
        if isinstance(error, KeyError) and "Unable to" not in str(error):  # not h5py's: a bug, let it show
            raise
        raise ModelFileError(path, "", f"could not be read, the HDF5 file is corrupt ({str(error)[:200]})",
                             "an intact " + expected.removeprefix("a ").removeprefix("an ")) from error


def resolve_in_file(group, name: str, path: Path, where: str, missing: str = ""):  # type: ignore[no-untyped-def]
    """The object ``name`` ('/'-separated, relative to ``group`` or absolute) reached through hard and
    soft links only. Raises ``ModelFileError`` for a missing name (with the text ``missing`` if
    given), an external or user-defined link on the way, or more than ``MAX_SOFT_LINK_HOPS`` soft links."""
    import h5py

    node = group.file if name.startswith("/") else group
    parts = [part for part in name.split("/") if part not in ("", ".")]
    hops = 0
    while parts:
        part = parts.pop(0)
        if not isinstance(node, h5py.Group):
            raise ModelFileError(path, where, f"{name!r} passes through a dataset", "a path of groups ending at the object")
        link = node.get(part, getlink=True)
        if link is None:
            raise ModelFileError(path, where, missing or f"{name!r} does not exist in the file")
        if isinstance(link, h5py.ExternalLink):
            raise ModelFileError(
                path, where, f"{name!r} is an external link to {link.filename!r}:{link.path!r}; refused "
                "(tsilstm reads nothing outside the model file)", "weights stored in the file itself",
            )
        if isinstance(link, h5py.SoftLink):
            hops += 1
            if hops > MAX_SOFT_LINK_HOPS:
                raise ModelFileError(path, where, f"{name!r} goes through more than {MAX_SOFT_LINK_HOPS} soft links")
            target = str(link.path)
            if target.startswith("/"):
                node = node.file
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        if not isinstance(link, h5py.HardLink):
            raise ModelFileError(path, where, f"{name!r} is a {type(link).__name__} link, which is refused",
                                 "hard or soft links inside the file")
        node = node[part]
    return node


class GroupWalk:
    """The layer groups a walk over one HDF5 file has visited: each object at most once (links may
    make a DAG of groups that a naive walk visits exponentially often), at most ``MAX_WALKED_GROUPS``
    in all, so a walk is linear in the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: dict[Any, str] = {}  # h5py object id (equal for every link to one object) -> where first seen

    def visit(self, group: Any, where: str) -> None:
        """Record a visit of ``group`` at ``where``; ``ModelFileError`` when it was visited before (it
        is reached through two links or listed twice) or the walk has visited too many groups."""
        first = self._seen.get(group.id)
        if first is not None:
            raise ModelFileError(self.path, where, f"is the same group as {first} (reached through two links or "
                                 "listed twice); refused", "each layer's group once")
        if len(self._seen) >= MAX_WALKED_GROUPS:
            raise ModelFileError(self.path, where, f"the file has more than {MAX_WALKED_GROUPS} layer groups; refused")
        self._seen[group.id] = where


def declared_shape(dataset, path: Path, where: str) -> tuple[int, ...]:  # type: ignore[no-untyped-def]
    """The shape ``dataset`` declares (metadata only, no data read); ``ModelFileError`` naming
    ``where`` when the object is not a dataset."""
    import h5py

    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(path, where, f"is a {type(dataset).__name__}, not a dataset", "a weight array")
    return tuple(int(extent) for extent in dataset.shape)


def read_weight_dataset(dataset, path: Path, where: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The contents of ``dataset`` after checking its storage (see module doc); raises
    ``ModelFileError`` naming ``where`` for anything refused, before reading a byte of data."""
    import h5py

    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(path, where, f"is a {type(dataset).__name__}, not a dataset", "a weight array")
    plist = dataset.id.get_create_plist()
    externals = plist.get_external_count()
    if externals:
        names = [plist.get_external(i)[0].decode(errors="replace") for i in range(min(externals, 3))]
        raise ModelFileError(
            path, where, f"stores its data in external file(s) {names}; refused (tsilstm reads nothing outside the model file)",
            "weights stored in the file itself",
        )
    if plist.get_layout() == h5py.h5d.VIRTUAL or dataset.is_virtual:
        raise ModelFileError(path, where, "is a virtual dataset (its data comes from other datasets or files); refused",
                             "weights stored in the file itself")
    for index in range(plist.get_nfilters()):
        filter_id = plist.get_filter(index)[0]
        if filter_id not in BUILTIN_FILTERS:
            raise ModelFileError(path, where, f"uses HDF5 filter {filter_id}, which is not built in; refused",
                                 "one of " + ", ".join(sorted(BUILTIN_FILTERS.values())))
    if dataset.dtype.kind != "f" or dataset.dtype.itemsize > 8:
        raise ModelFileError(path, where, f"has type {dataset.dtype}", "floating-point weights (float16/32/64)")
    declared_bytes = dataset.dtype.itemsize
    for extent in dataset.shape:
        declared_bytes *= int(extent)
    file_bytes = path.stat().st_size
    if plist.get_layout() == h5py.h5d.CONTIGUOUS and declared_bytes > file_bytes:
        raise ModelFileError(
            path, where, f"declares shape {dataset.shape} ({declared_bytes} bytes) in a file of {file_bytes} bytes; "
            "refused before reading", "weights stored in the file",
        )
    check_read_budget(path, where, declared_bytes, f"dataset {dataset.shape}")
    return np.asarray(dataset[()])
