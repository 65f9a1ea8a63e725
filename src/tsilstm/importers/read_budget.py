"""How many bytes an importer may materialise from one model file, decided before reading: data
stored compressed (deflated zip members, chunked HDF5 datasets) can declare far more bytes than the
file holds, so a declared size is checked against this budget before anything is inflated."""

from __future__ import annotations

from pathlib import Path

from tsilstm.units import format_bytes
from tsilstm.errors import ModelFileError
from tsilstm.hardware import available_memory_bytes

MAX_INFLATION_RATIO = 32
"""A file may inflate to at most this many times its own size (trained float weights compress by
less than 2x; a deflate bomb of zeros by ~1000x)."""
SMALL_READ_BYTES = 64 * 2**20
"""Any file may materialise this many bytes whatever its size (small, very compressible models)."""
READ_COPIES = 3
"""Weights exist up to three times while importing (the parser's buffer, the numpy copy, the
model's float32 arrays), so at most a third of the available memory is budgeted."""


def read_budget_bytes(file_bytes: int) -> int:
    """Bytes the importer may read or inflate from a file of ``file_bytes`` bytes: at most
    ``MAX_INFLATION_RATIO`` times its size (at least ``SMALL_READ_BYTES``) and at most a third of
    the memory this process may still allocate."""
    budget = max(SMALL_READ_BYTES, MAX_INFLATION_RATIO * file_bytes)
    available = available_memory_bytes()
    return budget if available is None else min(budget, available // READ_COPIES)


def check_read_budget(path: Path, where: str, declared_bytes: int, what: str) -> None:
    """Raise ``ModelFileError`` naming ``path`` and ``where`` when ``declared_bytes`` (the size the
    file declares for ``what``) exceeds ``read_budget_bytes`` of the file."""
    file_bytes = path.stat().st_size
    budget = read_budget_bytes(file_bytes)
    if declared_bytes > budget:
        raise ModelFileError(
            path, where,
            f"declares {declared_bytes} bytes ({format_bytes(declared_bytes)}) of {what} in a file of {file_bytes} bytes; "
            f"refused before reading (the read budget is {budget} bytes: {MAX_INFLATION_RATIO} x the file size, "
            f"at least {format_bytes(SMALL_READ_BYTES)}, at most a third of the memory available)",
            "a model file whose weights are stored in it, not inflated from a small file",
        )
