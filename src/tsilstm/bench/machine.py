"""A description of the machine a benchmark ran on (CPU, cores, caches from ``tsilstm.hardware``),
with the load at the time and the platform."""

from __future__ import annotations

import os
import platform

from tsilstm.hardware import cache_sizes_bytes, cpu_identity, last_level_cache_bytes, logical_cores, usable_cores


def describe_machine(threads: int) -> dict[str, object]:
    """JSON-ready machine description: CPU model and SIMD flags, logical cores, usable cores, caches
    in bytes (levels the system does not state are absent; ``llc_bytes`` None when unknown), the
    benchmark's thread count, the 1-minute load average, OS and Python."""
    cpu = cpu_identity()
    try:
        load_1min = os.getloadavg()[0]
    except OSError:
        load_1min = None
    return {
        "cpu_model": cpu.model,
        "cpu_simd_flags": list(cpu.simd_flags),
        "logical_cores": logical_cores(),
        "usable_cores": usable_cores(),
        "cache_bytes": cache_sizes_bytes(),
        "llc_bytes": last_level_cache_bytes(),
        "threads": threads,
        "load_average_1min": load_1min,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
