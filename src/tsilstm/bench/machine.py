"""A description of the machine a benchmark ran on: CPU model, cores, cache sizes (from Linux sysfs
and /proc/cpuinfo where present), and the library versions that were compared."""

from __future__ import annotations

import os
import platform
from pathlib import Path

_SYSFS_CACHE = Path("/sys/devices/system/cpu/cpu0/cache")  # Linux: one indexN dir per cache level/type
_CPUINFO = Path("/proc/cpuinfo")


def parse_cache_size_bytes(text: str) -> int | None:
    """Bytes of a sysfs cache size such as ``32768K``, ``2M`` or ``512``; None when unreadable."""
    text = text.strip().upper()
    scale = {"K": 1024, "M": 1024**2, "G": 1024**3}.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in "KMG" else text
    return int(digits) * scale if digits.isdigit() else None


def cache_sizes_bytes(root: Path = _SYSFS_CACHE) -> dict[str, int]:
    """Per-core cache sizes by level (``L1d``, ``L1i``, ``L2``, ``L3``) in bytes, from sysfs; empty
    when the files are not there."""
    sizes: dict[str, int] = {}
    if not root.is_dir():
        return sizes
    for index in sorted(root.glob("index*")):
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = parse_cache_size_bytes((index / "size").read_text())
        except OSError:
            continue
        if size is None:
            continue
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
        sizes[f"L{level}{suffix}"] = size
    return sizes


def cpu_model(cpuinfo: Path = _CPUINFO) -> str:
    """The CPU model name from /proc/cpuinfo, else ``platform.processor()``, else ``unknown``."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def last_level_cache_bytes(caches: dict[str, int]) -> int | None:
    """Bytes of the highest cache level in ``caches`` (e.g. L3), or None if none is known."""
    for level in ("L4", "L3", "L2"):
        if level in caches:
            return caches[level]
    return None


def describe_machine(threads: int) -> dict[str, object]:
    """JSON-ready machine description: CPU model, logical cores, usable cores, caches in bytes,
    the benchmark's thread count, the 1-minute load average, OS and Python."""
    caches = cache_sizes_bytes()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load_1min = os.getloadavg()[0]
    except OSError:
        load_1min = None
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable,
        "cache_bytes": caches,
        "llc_bytes": last_level_cache_bytes(caches),
        "threads": threads,
        "load_average_1min": load_1min,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
