"""The storage sizes a legacy (pre-1.6, non-zip) PyTorch file declares, read before torch sees it.

Such a file is four pickles (magic number, protocol version, system info, the object whose
tensors name their storages by key and element count) then a pickled list of storage keys, then
each listed storage's bytes (an 8-byte element count and the data). ``torch.load`` allocates every
storage at its declared size while unpickling the object, before any data is read, and leaves a
storage that the key list omits uninitialised. So the declarations are read here first, with an
unpickler that builds no object (every class it names is an inert stand-in), and the file is
refused unless every declared storage is listed and the file holds all their bytes."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from tsilstm.errors import ModelFileError

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
"""The first pickle of a legacy file (``torch.serialization.MAGIC_NUMBER``)."""
LEGACY_PROTOCOL_VERSION = 1001
"""Its second pickle (``torch.serialization.PROTOCOL_VERSION``)."""
STORAGE_RECORD_HEADER_BYTES = 8
"""The element count (int64) before each storage's bytes (torch's ``_set_from_file``)."""
STORAGE_ITEM_BYTES = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
    "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1,
    "ComplexDoubleStorage": 16, "ComplexFloatStorage": 8, "UntypedStorage": 1,
}
"""Bytes per element of each storage class a legacy file names (torch's typed storages)."""
LEGACY_HINT = "a file written by torch.save, whose storages are all stored in it"


class _Inert:
    """What every class or function a pickle names becomes: accepts any arguments and state, does nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        """Accept an item (a pickled list subclass)."""

    def extend(self, values: Any) -> None:
        """Accept items (a pickled list subclass)."""


class _DeclarationReader(pickle.Unpickler):
    """Unpickles with inert stand-ins for every global; records the storages persistent ids declare."""

    def __init__(self, file: Any) -> None:
        super().__init__(file, encoding="utf-8")
        self.storage_bytes: dict[str, int] = {}  # root key -> bytes declared
        self._stand_ins: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> type:
        key = (str(module), str(name))
        if key not in self._stand_ins:
            self._stand_ins[key] = type(str(name), (_Inert,), {})
        return self._stand_ins[key]

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) == 6 and pid[0] in ("storage", b"storage"):
            storage_type, root_key, numel = pid[1], str(pid[2]), pid[4]
            item_bytes = STORAGE_ITEM_BYTES.get(getattr(storage_type, "__name__", ""))
            if item_bytes is None or not isinstance(numel, int) or numel < 0:
                raise ValueError(f"storage {root_key!r} of type {getattr(storage_type, '__name__', storage_type)!r} "
                                 f"with {numel!r} elements")
            self.storage_bytes[root_key] = max(self.storage_bytes.get(root_key, 0), numel * item_bytes)
        return _Inert()


def check_legacy_storages(path: Path) -> None:
    """Refuse (``ModelFileError`` naming ``path``) a legacy-format file whose storages are not all
    listed in its key list or declare more bytes than follow that list in the file; also a file
    that is not a legacy PyTorch file at all. Reads only the pickles' structure, runs no code."""
    file_bytes = path.stat().st_size
    with open(path, "rb") as handle:
        try:
            magic = _DeclarationReader(handle).load() if _plain_pickle(handle) else None
            if magic != LEGACY_MAGIC_NUMBER:
                raise ModelFileError(path, "", "is neither a zip-format nor a legacy PyTorch file", LEGACY_HINT)
            if _DeclarationReader(handle).load() != LEGACY_PROTOCOL_VERSION:
                raise ModelFileError(path, "", "is a legacy PyTorch file of an unknown protocol version", LEGACY_HINT)
            _DeclarationReader(handle).load()  # system info
            reader = _DeclarationReader(handle)
            reader.load()
            keys = _DeclarationReader(handle).load()
        except ModelFileError:
            raise
        except Exception as error:  # noqa: BLE001 - a corrupt pickle raises any of many types
            raise ModelFileError(path, "", f"is not a readable legacy PyTorch file ({str(error)[:200]})", LEGACY_HINT) from error
        data_bytes = file_bytes - handle.tell()
    if not isinstance(keys, list) or any(str(key) not in reader.storage_bytes for key in keys):
        raise ModelFileError(path, "", "lists storage keys its tensors do not declare", LEGACY_HINT)
    listed = {str(key) for key in keys}
    unlisted = sorted(set(reader.storage_bytes) - listed)
    if unlisted:
        raise ModelFileError(path, f"storage {unlisted[0]!r}", "is declared but not stored in the file (torch would "
                             "leave it uninitialised); refused", LEGACY_HINT)
    needed_bytes = sum(STORAGE_RECORD_HEADER_BYTES + reader.storage_bytes[key] for key in listed)
    if needed_bytes > data_bytes:
        raise ModelFileError(path, "", f"declares {needed_bytes} bytes of storages but holds {data_bytes} bytes after "
                             "its pickles; refused before reading", LEGACY_HINT)


def _plain_pickle(handle: Any) -> bool:
    """True when the file starts like a pickle (protocol 2+ ``\\x80`` opcode); the position is kept."""
    start = handle.tell()
    first = handle.read(1)
    handle.seek(start)
    return first == b"\x80"
