"""The decision store: one small versioned JSON file of measured decisions per user (the user cache
directory, ``platformdirs``; ``TSILSTM_CACHE_DIR`` moves it), by machine signature and then by
configuration key.

Its contents are untrusted (another process, a crash, a user or an attacker may have put anything
there), so a forward call never depends on them being sane:

* It is read only as a regular file of at most ``MAX_STORE_BYTES``: opened without blocking (a FIFO
  at the path does not hang) and checked with ``fstat`` after opening (a symlink to ``/dev/zero`` or
  a directory is refused), read to that bound.
* It is parsed defensively (deeply nested JSON is a corrupt file, not a RecursionError) and every
  table on the way to an entry must have the expected type, or counts as absent; entries are
  validated by their readers.
* A parsed file is kept in memory with the file's identity (inode, size, modification time): a
  lookup, also a negative one (no record, as every call of a ``read-only`` deployment asks), costs
  one ``stat`` until the file changes.
* Writes are read-modify-write under an exclusive ``flock`` on ``PATH.lock`` (concurrent writers
  of several processes lose nothing), written to a temporary file and renamed into place.

Anything unreadable is ignored with a ``TuningWarning`` and an unwritable directory keeps decisions
in memory only.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import threading
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tsilstm.runtime.schedule_tuning import Decision, LayerConfig

CACHE_DIR_ENV = "TSILSTM_CACHE_DIR"
"""Environment variable naming the directory of the decision store (default: the user cache dir)."""
STORE_FILE = "schedule-decisions.json"
STORE_VERSION = 1
"""Format version of the store; a file of another version is ignored (with a warning) and replaced."""
MAX_STORE_BYTES = 8 * 1024 * 1024
"""Largest store file read (a store of every configuration a machine runs is a few hundred KiB)."""
DECISIONS = "decisions"
"""The section of ``auto``'s kernel schedule decisions."""


class TuningWarning(UserWarning):
    """The decision store could not be read or written; tuning goes on without it."""


def default_store_path() -> Path:
    """Where the decision store lives: TSILSTM_CACHE_DIR, else the platform's user cache dir."""
    override = os.environ.get(CACHE_DIR_ENV)
    if override:
        return Path(override) / STORE_FILE
    import platformdirs

    return Path(platformdirs.user_cache_dir("tsilstm")) / STORE_FILE


class DecisionStore:
    """The decisions of one machine, read from and written to ``path`` (see module doc)."""

    def __init__(self, path: Path, signature: str, identity: dict[str, object]) -> None:
        self.path = path
        self.signature = signature
        self.identity = identity
        self._lock = threading.Lock()
        self._parsed: tuple[tuple[int, int, int], dict[str, Any]] | None = None

    def get(self, config: LayerConfig) -> Decision | None:
        """The recorded decision for ``config`` on this machine, or None."""
        entry = self.get_record(DECISIONS, config.key)
        if entry is None:
            return None
        try:
            if not isinstance(entry, dict):
                raise TypeError("not an object")
            decision = Decision(str(entry["schedule"]), {str(k): float(v) for k, v in entry["ms_per_step"].items()},
                                str(entry["measured_at"]), int(entry["steps"]), int(entry["batch"]),
                                bool(entry.get("noisy", False)))
        except (KeyError, TypeError, ValueError, AttributeError):
            warnings.warn(f"ignoring a malformed schedule decision for {config.key} in {self.path}", TuningWarning,
                          stacklevel=3)
            return None
        return decision if decision.schedule in decision.ms_per_step else None

    def put(self, config: LayerConfig, decision: Decision) -> None:
        """Record ``decision`` for ``config``."""
        self.put_record(DECISIONS, config.key, asdict(decision))

    def get_record(self, section: str, key: str) -> object:
        """The JSON value recorded under ``section`` / ``key`` for this machine (None when absent);
        the caller validates its shape."""
        return self.section(section).get(key)

    def section(self, section: str) -> dict[str, Any]:
        """Every record of ``section`` for this machine, by key (empty when absent or malformed)."""
        with self._lock:
            return dict(_table(self._read(), ("machines", self.signature, section)))

    def put_record(self, section: str, key: str, record: object) -> None:
        """Record the JSON value ``record`` under ``section`` / ``key`` for this machine
        (read-modify-write under the store's file lock, renamed into place)."""
        with self._lock, _FileLock(self.path):
            self._parsed = None  # re-read under the lock: another process may have written since
            data = self._read()
            machine = _table(data, ("machines", self.signature), create=True)
            machine["identity"] = self.identity
            _table(machine, (section,), create=True)[key] = record
            self._write(data)

    def decisions(self) -> dict[str, Any]:
        """Every recorded kernel schedule decision of this machine, by configuration key."""
        return self.section(DECISIONS)

    def clear(self) -> bool:
        """Delete the store file; True when there was one."""
        with self._lock:
            self._parsed = None
            try:
                self.path.unlink()
            except FileNotFoundError:
                return False
            return True

    def _read(self) -> dict[str, Any]:
        """The parsed store (a fresh empty one when absent or unusable); the caller holds the lock."""
        empty: dict[str, Any] = {"version": STORE_VERSION}
        try:
            handle = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            self._parsed = None
            return empty
        except OSError as error:
            return self._ignored(f"cannot read the schedule decisions {self.path}: {error}", empty)
        try:
            info = os.fstat(handle)
            if not stat.S_ISREG(info.st_mode):
                return self._ignored(f"ignoring {self.path}: not a regular file", empty)
            if info.st_size > MAX_STORE_BYTES:
                return self._ignored(f"ignoring {self.path}: {info.st_size} bytes, more than a decision store's "
                                     f"{MAX_STORE_BYTES}", empty)
            identity = (info.st_ino, info.st_size, info.st_mtime_ns)
            if self._parsed is not None and self._parsed[0] == identity:
                return self._parsed[1]
            raw = _read_at_most(handle, MAX_STORE_BYTES + 1)
        except OSError as error:
            return self._ignored(f"cannot read the schedule decisions {self.path}: {error}", empty)
        finally:
            os.close(handle)
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return self._ignored(f"ignoring the corrupt schedule decisions file {self.path}", empty)
        if not isinstance(data, dict) or data.get("version") != STORE_VERSION:
            return self._ignored(f"ignoring {self.path}: not a version-{STORE_VERSION} tsilstm decision store", empty)
        self._parsed = (identity, data)
        return data

    def _ignored(self, message: str, empty: dict[str, Any]) -> dict[str, Any]:
        warnings.warn(message, TuningWarning, stacklevel=5)
        return empty

    def _write(self, data: dict[str, Any]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=".decisions-", suffix=".json", dir=self.path.parent)
            try:
                with os.fdopen(handle, "w") as out:
                    json.dump(data, out, indent=1, sort_keys=True)
                os.replace(temporary, self.path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            warnings.warn(f"cannot write the schedule decisions to {self.path}: {error}; the decision is kept for "
                          "this process only", TuningWarning, stacklevel=4)


def _table(data: dict[str, Any], path: tuple[str, ...], *, create: bool = False) -> dict[str, Any]:
    """The object at ``path`` inside ``data``: with ``create``, made (or a value of the wrong type
    replaced) on the way; without, an empty dict when anything on the way is missing or not an object."""
    current = data
    for name in path:
        found = current.get(name)
        if not isinstance(found, dict):
            if not create:
                return {}
            found = current[name] = {}
        current = found
    return current


def _read_at_most(handle: int, limit: int) -> bytes:
    chunks, size = [], 0
    while size < limit:
        chunk = os.read(handle, min(1 << 20, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


class _FileLock:
    """An exclusive ``flock`` on ``PATH.lock`` while held (best effort: where the lock file cannot be
    made, the write goes on unlocked, as the rename keeps the file whole either way)."""

    def __init__(self, path: Path) -> None:
        self.lock_path = path.with_name(path.name + ".lock")
        self.handle: int | None = None

    def __enter__(self) -> "_FileLock":
        try:
            import fcntl

            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
            self.handle = os.open(self.lock_path, flags, 0o600)
            if not stat.S_ISREG(os.fstat(self.handle).st_mode):
                os.close(self.handle)
                self.handle = None
                return self
            fcntl.flock(self.handle, fcntl.LOCK_EX)
        except (OSError, ImportError):
            if self.handle is not None:
                os.close(self.handle)
            self.handle = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            os.close(self.handle)  # closing releases the lock
            self.handle = None
