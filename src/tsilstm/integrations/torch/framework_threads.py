"""torch's own OpenMP threads lent to the kernel: calls of converted modules run their threads on the
team torch runs its operators on (``runtime.worker_threads.share_framework_threads`` says why)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from tsilstm.runtime.worker_threads import share_framework_threads

OPENMP_LIBRARY_PREFIXES = ("libgomp", "libiomp5", "libomp")
"""File names of the OpenMP runtimes torch builds ship (GNU, Intel, LLVM)."""


def torch_openmp_library(maps_path: str = "/proc/self/maps") -> str | None:
    """The file of the OpenMP runtime this process loaded from torch's installation (its ``lib`` or
    the wheel's ``torch.libs`` folder), None when there is none or it cannot be told (not Linux)."""
    roots = (Path(torch.__file__).resolve().parent, Path(torch.__file__).resolve().parent.parent / "torch.libs")
    try:
        with open(maps_path, encoding="utf-8", errors="replace") as maps:
            lines = maps.read().splitlines()
    except OSError:
        return None
    for line in lines:
        path = line.split(maxsplit=5)[5] if len(line.split(maxsplit=5)) == 6 else ""
        name = os.path.basename(path)
        if name.startswith(OPENMP_LIBRARY_PREFIXES) and any(Path(path).is_relative_to(root) for root in roots):
            return path
    return None


_shared: bool | None = None


def share_torch_threads() -> bool:
    """Register torch's OpenMP team with the kernel, once per process (the first converted module's
    first call); returns whether calls run on it."""
    global _shared
    if _shared is None:
        _shared = share_framework_threads(torch_openmp_library())
    return _shared
