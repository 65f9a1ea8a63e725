"""Resumable storage of an exploration's results: one JSON file per finished chunk of design points
under ``OUT/chunks``, each stamped with the fingerprint of the exploration (workload, base config,
space, schedules, chunk size), so a rerun with the same inputs skips every chunk already written
and a rerun with other inputs into the same directory is refused instead of mixed."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tsilstm.errors import InvalidParameterError

CHUNK_DIR = "chunks"
"""Sub-directory of the output directory that holds the finished chunks."""


def fingerprint(description: dict[str, Any]) -> str:
    """A short hash of ``description`` (JSON-ready): equal for equal explorations."""
    text = json.dumps(description, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ChunkStore:
    """The finished chunks of one exploration in ``out_dir``/chunks (``chunk-00012.json``)."""

    def __init__(self, out_dir: Path, stamp: str) -> None:
        self.directory = Path(out_dir) / CHUNK_DIR
        self.stamp = stamp
        self.directory.mkdir(parents=True, exist_ok=True)
        manifest = self.directory / "manifest.json"
        if manifest.exists():
            found = json.loads(manifest.read_text(encoding="utf-8")).get("fingerprint")
            if found != stamp:
                raise InvalidParameterError(
                    "--out", str(out_dir),
                    f"holds the results of another exploration (fingerprint {found}, this one {stamp}): give a new --out "
                    f"directory, or delete {self.directory} to start over",
                )
        else:
            _write_atomically(manifest, {"fingerprint": stamp})

    def path(self, index: int) -> Path:
        """The file of chunk ``index``."""
        return self.directory / f"chunk-{index:05d}.json"

    def finished(self) -> dict[int, list[dict[str, Any]]]:
        """The rows of every chunk already written, by chunk index (unreadable files are ignored and
        recomputed: a run killed while writing leaves at most a temporary file)."""
        out: dict[int, list[dict[str, Any]]] = {}
        for path in sorted(self.directory.glob("chunk-*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if data.get("fingerprint") == self.stamp:
                out[int(data["index"])] = data["rows"]
        return out

    def write(self, index: int, rows: list[dict[str, Any]]) -> None:
        """Store the rows of chunk ``index`` (written to a temporary file, then renamed)."""
        _write_atomically(self.path(index), {"fingerprint": self.stamp, "index": index, "rows": rows})


def _write_atomically(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data), encoding="utf-8")
    os.replace(temporary, path)
