"""ONNX tensors whose data lives in an external file, read by tsilstm itself whatever the onnx
version: the file must be a regular file inside the model's folder (its real path, symlinks
resolved, may not leave the folder; FIFOs, devices and directories are refused, and it is opened
without blocking and without following a final symlink; a file with several hard links is read only
when every link is found inside the folder), and the bytes read are exactly the bytes the tensor's
type and dims declare, which must lie inside that file. Anything else is a
``ModelFileError`` naming the model file, the tensor and what was refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np

from tsilstm.errors import ModelFileError

ALLOWED_KEYS = ("location", "offset", "length", "checksum")
"""The external_data keys of the ONNX spec (``basepath`` and others are refused)."""
READ_CHUNK_BYTES = 1 << 30
"""Bytes per read call (Linux returns at most ~2 GiB per pread)."""
MAX_LINK_SEARCH_ENTRIES = 100_000
"""Directory entries of the model's folder (and its subfolders) searched at most for the other
hard links of a data file; a folder holding more is not searched to the end and the file is refused."""


def is_external(tensor) -> bool:  # type: ignore[no-untyped-def]
    """True when ``tensor`` (an onnx.TensorProto) keeps its data in an external file."""
    from onnx import TensorProto

    return tensor.HasField("data_location") and tensor.data_location == TensorProto.EXTERNAL


def with_external_data(tensor, model_path: Path, where: str):  # type: ignore[no-untyped-def]
    """A copy of ``tensor`` whose external data is read into ``raw_data`` (see module doc); the
    original is unchanged. Raises ``ModelFileError`` for anything refused."""
    from onnx import TensorProto, helper

    entries = {entry.key: entry.value for entry in tensor.external_data}
    unknown = sorted(set(entries) - set(ALLOWED_KEYS))
    if unknown or "location" not in entries:
        raise ModelFileError(model_path, where, f"external data entries {sorted(entries)}",
                             "'location' and optionally 'offset', 'length', 'checksum'")
    try:
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(tensor.data_type)).itemsize
    except (KeyError, TypeError, ValueError) as error:
        raise ModelFileError(model_path, where, f"external data of type {tensor.data_type}", "a numeric tensor type") from error
    if tensor.data_type == TensorProto.STRING or any(d < 0 for d in tensor.dims):
        raise ModelFileError(model_path, where, f"external data of type {tensor.data_type}, dims {list(tensor.dims)}",
                             "a numeric tensor with non-negative dims")
    declared_bytes = itemsize
    for extent in tensor.dims:
        declared_bytes *= int(extent)
    offset = _whole(entries.get("offset", "0"), "offset", model_path, where)
    if "length" in entries and _whole(entries["length"], "length", model_path, where) != declared_bytes:
        raise ModelFileError(model_path, where, f"external data length {entries['length']} differs from the "
                             f"{declared_bytes} bytes its type and dims {list(tensor.dims)} declare")
    data = _read_inside_folder(model_path, entries["location"], offset, declared_bytes, where)
    copy = TensorProto()
    copy.CopyFrom(tensor)
    del copy.external_data[:]
    copy.data_location = TensorProto.DEFAULT
    copy.raw_data = data
    return copy


def _whole(text: str, key: str, model_path: Path, where: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise ModelFileError(model_path, where, f"external data {key}={text!r}", "a non-negative integer")
    return int(text)


def _read_inside_folder(model_path: Path, location: str, offset: int, size: int, where: str) -> bytes:
    """``size`` bytes at ``offset`` of the regular file ``location`` inside the model's folder."""
    folder = os.path.realpath(os.path.dirname(os.path.abspath(model_path)))
    if not location or "\x00" in location or os.path.isabs(location):
        raise ModelFileError(model_path, where, f"external data location {location!r} is not a relative path; refused",
                             "a file in the model's folder")
    target = os.path.realpath(os.path.join(folder, location))
    if os.path.commonpath([folder, target]) != folder or target == folder:
        raise ModelFileError(model_path, where, f"external data location {location!r} resolves to {target}, outside the "
                             f"model's folder {folder}; refused (symlinks and '..' may not leave the folder)",
                             "a file in the model's folder")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(target, flags)
    except OSError as error:
        raise ModelFileError(model_path, where, f"external data file {location!r} cannot be opened ({error.strerror})") from error
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ModelFileError(model_path, where, f"external data location {location!r} is not a regular file "
                                 "(a FIFO, device or directory); refused", "a regular file in the model's folder")
        if info.st_nlink > 1:
            _refuse_links_outside(model_path, where, location, folder, info)
        if offset + size > info.st_size:
            raise ModelFileError(model_path, where, f"external data needs bytes {offset}..{offset + size} of {location!r}, "
                                 f"which has {info.st_size} bytes; refused before reading",
                                 "offset + the tensor's bytes within the file")
        chunks = []
        done = 0
        while done < size:  # pread returns at most ~2 GiB per call
            chunk = os.pread(descriptor, min(size - done, READ_CHUNK_BYTES), offset + done)
            if not chunk:
                break
            chunks.append(chunk)
            done += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(descriptor)
    if len(data) != size:
        raise ModelFileError(model_path, where, f"external data file {location!r} ended after {len(data)} of {size} bytes")
    return data


def _refuse_links_outside(model_path: Path, where: str, location: str, folder: str, info: os.stat_result) -> None:
    """Raise ``ModelFileError`` unless all ``info.st_nlink`` hard links of the data file are found
    inside ``folder`` (a hard link made in the folder to a file elsewhere, e.g. /etc/shadow on the
    same file system, passes every path check: only the link count tells). The folder is searched
    without following symlinks, at most ``MAX_LINK_SEARCH_ENTRIES`` entries."""
    found = 0
    seen = 0
    pending = [folder]
    while pending and found < info.st_nlink and seen <= MAX_LINK_SEARCH_ENTRIES:
        try:
            listing = os.scandir(pending.pop())
        except OSError:
            continue
        with listing:
            for entry in listing:
                seen += 1
                if seen > MAX_LINK_SEARCH_ENTRIES:
                    break
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif entry.inode() == info.st_ino and entry.stat(follow_symlinks=False).st_dev == info.st_dev:
                        found += 1
                except OSError:
                    continue
    if found < info.st_nlink:
        raise ModelFileError(model_path, where, f"external data location {location!r} is a file with {info.st_nlink} "
                             f"hard links, {found} of them found in the model's folder {folder}; refused (a hard link "
                             "can reach a file outside the folder)", "a file whose every link is in the model's folder")
