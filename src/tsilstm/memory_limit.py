"""The memory this process may still allocate: the smallest of the kernel's MemAvailable, the
address-space limit (RLIMIT_AS, ``ulimit -v``) minus the address space in use, and the cgroup v2 /
v1 memory limit of the process's cgroup minus its current usage."""

from __future__ import annotations

from pathlib import Path

PROC_MEMINFO = Path("/proc/meminfo")
PROC_SELF_STATUS = Path("/proc/self/status")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_V1_UNLIMITED_BYTES = 2**62
"""cgroup v1 reports "no limit" as a huge number (9223372036854771712 on x86-64); anything above
this is treated as no limit."""


def available_memory_bytes() -> int | None:
    """Bytes this process may still allocate: the smallest of MemAvailable, the RLIMIT_AS headroom
    and the cgroup (v2 or v1) headroom, or None when none of them is known (e.g. not Linux)."""
    figures = [f for f in (meminfo_available_bytes(), address_space_headroom_bytes(), cgroup_headroom_bytes()) if f is not None]
    return min(figures) if figures else None


def meminfo_available_bytes(meminfo: Path = PROC_MEMINFO) -> int | None:
    """MemAvailable of /proc/meminfo in bytes, or None where the system does not say."""
    value = _field_kib(meminfo, "MemAvailable:")
    return None if value is None else value * 1024


def address_space_headroom_bytes(status: Path = PROC_SELF_STATUS) -> int | None:
    """RLIMIT_AS (soft) minus the address space in use (VmSize), in bytes, or None without a limit."""
    try:
        import resource
    except ImportError:  # not POSIX
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used_kib = _field_kib(status, "VmSize:")
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


def _field_kib(path: Path, name: str) -> int | None:
    """The number (kiB) after ``name`` in a /proc file of ``name value kB`` lines, or None."""
    try:
        for line in path.read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
