"""Facts about the machine this process runs on: caches, usable cores, available memory and the CPU's
identity, each read in one place (Linux sysfs and /proc where present).

One fallback policy: a fact the system does not state is ``None`` (or absent from a mapping), never
a guessed figure; each consumer says what it does without it. Every reader takes the file or folder
it reads as a parameter, so tests point it at a fixture instead of patching this module.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CACHE_SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")
"""Where Linux describes the caches of CPU 0: one ``indexN`` folder per cache (level, type, size)."""
CPUINFO = Path("/proc/cpuinfo")
"""Linux's description of the CPUs (model name, flags)."""
MEMINFO = Path("/proc/meminfo")
"""Linux's memory counters (MemAvailable)."""

SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "amx_tile", "asimd", "sve")
"""The /proc/cpuinfo flags that matter for the tile product (x86 SSE/AVX/AVX-512/AMX, Arm NEON/SVE)."""


def parse_cache_size_bytes(text: str) -> int | None:
    """Bytes of a sysfs cache size such as ``32768K``, ``2M`` or ``512``; None when unreadable."""
    text = text.strip().upper()
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in ("K", "M", "G") else text
    return int(digits) * scale if digits.isdigit() else None


def cache_sizes_bytes(root: Path = CACHE_SYSFS) -> dict[str, int]:
    """Cache sizes of CPU 0 by level in bytes, ``L1d``/``L1i`` for split caches and ``L2``, ``L3``
    for data or unified ones; a level the system does not describe is absent (empty off Linux)."""
    sizes: dict[str, int] = {}
    for index in sorted(root.glob("index*")) if root.is_dir() else []:
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = parse_cache_size_bytes((index / "size").read_text())
        except OSError:
            continue
        if size is None or not level.isdigit():
            continue
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "") if level == "1" else ""
        if kind == "Instruction" and level != "1":
            continue
        sizes[f"L{level}{suffix}"] = max(size, sizes.get(f"L{level}{suffix}", 0))
    return sizes


@lru_cache(maxsize=8)
def last_level_cache_bytes(root: Path = CACHE_SYSFS) -> int | None:
    """Bytes of the highest-level data or unified cache of CPU 0 (e.g. the L3), or None when the
    system does not say."""
    caches = cache_sizes_bytes(root)
    data_levels = [(int(name[1:].rstrip("d")), size) for name, size in caches.items() if not name.endswith("i")]
    return max(data_levels)[1] if data_levels else None


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), or ``os.cpu_count()`` where the system has
    no affinity call; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def logical_cores() -> int | None:
    """Logical CPUs of the machine (``os.cpu_count()``), None when the system does not say."""
    return os.cpu_count()


def meminfo_available_bytes(meminfo: Path = MEMINFO) -> int | None:
    """MemAvailable of /proc/meminfo in bytes, or None where the system does not say."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


PROC_SELF_STATUS = Path("/proc/self/status")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_V1_UNLIMITED_BYTES = 2**62
"""cgroup v1 reports "no limit" as a huge number (9223372036854771712 on x86-64); anything above
this is treated as no limit."""


def address_space_headroom_bytes(status: Path = PROC_SELF_STATUS) -> int | None:
    """RLIMIT_AS (soft) minus the address space in use (VmSize), in bytes, or None without a limit."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used_kib = _proc_field_kib(status, "VmSize:")
    return max(0, soft - (used_kib or 0) * 1024)


def cgroup_headroom_bytes(cgroup_file: Path = PROC_SELF_CGROUP, root: Path = CGROUP_ROOT) -> int | None:
    """The memory limit of this process's cgroup minus its usage, in bytes (cgroup v2
    ``memory.max`` / ``memory.current``, else v1 ``memory.limit_in_bytes`` /
    ``memory.usage_in_bytes``), the smallest over the cgroup and its ancestors; None without a limit."""
    try:
        lines = cgroup_file.read_text().splitlines()
    except OSError:
        return None
    headrooms = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _hierarchy, controllers, group = parts
        if controllers == "":  # cgroup v2 unified hierarchy
            base, limit_name, usage_name = root, "memory.max", "memory.current"
        elif "memory" in controllers.split(","):
            base, limit_name, usage_name = root / "memory", "memory.limit_in_bytes", "memory.usage_in_bytes"
        else:
            continue
        folder = base / group.lstrip("/")
        while True:
            headroom = _limit_headroom(folder / limit_name, folder / usage_name)
            if headroom is not None:
                headrooms.append(headroom)
            if folder == base or base not in folder.parents:
                break
            folder = folder.parent
    return min(headrooms) if headrooms else None


def _limit_headroom(limit_file: Path, usage_file: Path) -> int | None:
    try:
        text = limit_file.read_text().strip()
    except OSError:
        return None
    if not text.isdigit() or int(text) >= CGROUP_V1_UNLIMITED_BYTES:  # "max" (v2) or the v1 no-limit value
        return None
    try:
        usage = int(usage_file.read_text().strip())
    except (OSError, ValueError):
        usage = 0
    return max(0, int(text) - usage)


def _proc_field_kib(path: Path, name: str) -> int | None:
    """The number (kiB) after ``name`` in a /proc file of ``name value kB`` lines, or None."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


MEMORY_LIMITS: tuple[Callable[[], int | None], ...] = (
    meminfo_available_bytes, address_space_headroom_bytes, cgroup_headroom_bytes,
)
"""Readers of a bound on the memory this process can still allocate, in bytes (None: no bound
known): MemAvailable, the address-space limit (RLIMIT_AS, ``ulimit -v``) minus the address space in
use, and the cgroup v2 / v1 memory limit minus usage; ``available_memory_bytes`` takes the smallest."""


def available_memory_bytes(limits: tuple[Callable[[], int | None], ...] = MEMORY_LIMITS) -> int | None:
    """Bytes this process can still allocate: the smallest bound ``limits`` report, or None when
    none of them knows."""
    known = [bound for bound in (limit() for limit in limits) if bound is not None]
    return min(known) if known else None


@dataclass(frozen=True)
class CpuIdentity:
    """What the CPU is: its model name (``unknown`` when not stated) and its feature flags."""

    model: str
    flags: frozenset[str]

    @property
    def simd_flags(self) -> tuple[str, ...]:
        """The flags of ``SIMD_FLAGS`` this CPU has, in that order."""
        return tuple(flag for flag in SIMD_FLAGS if flag in self.flags)


def cpu_identity(cpuinfo: Path = CPUINFO) -> CpuIdentity:
    """Model name and flags of the first CPU in ``cpuinfo`` (x86 ``model name``/``flags``, Arm
    ``Features``); the model falls back to ``platform.processor()``, then ``unknown``; the flags
    are empty where the file does not list them."""
    model, flags = "", frozenset[str]()
    try:
        lines = cpuinfo.read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = frozenset(value.split())
    return CpuIdentity(model or platform.processor() or "unknown", flags)
