"""The machine's read bandwidth, measured in the same process as the benchmark.

k Python threads each stream their own contiguous slice of a float32 array much larger than the
last-level cache through a single-threaded BLAS dot product (``sdot`` of the slice with itself:
one read per element, vectorized, the GIL released). Bytes read over wall time, best pass over
several, for k = 1 and k = ``threads``; the larger is the read bandwidth the memory-bound kernels
can hope for (on a shared machine the best pass is the least disturbed one).
"""

from __future__ import annotations

import contextlib
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from tsilstm.validation import require_int

DEFAULT_ARRAY_BYTES = 512 * 1024 * 1024  # 16 x a 32 MiB L3: the passes stream from DRAM
DEFAULT_PASSES = 20  # a pass of 512 MiB takes ~15 ms: best of many rides out bursts of load from other processes


@dataclass(frozen=True)
class BandwidthMeasurement:
    """Read bandwidth in bytes per second (best pass; median pass of the same thread count) and how
    it was measured; ``by_threads_bytes_per_s`` holds the best pass of each thread count tried."""

    best_bytes_per_s: float
    median_bytes_per_s: float
    array_bytes: int
    threads: int
    passes: int
    by_threads_bytes_per_s: dict[int, float]
    method: str = "best pass of k threads x single-threaded float32 BLAS dot over disjoint slices, k in {1, threads}"

    @property
    def best_gbs(self) -> float:
        """Best pass in GB/s (10^9 bytes per second)."""
        return self.best_bytes_per_s / 1e9

    def as_dict(self) -> dict[str, object]:
        """JSON-ready fields (GB/s = 10^9 bytes/s)."""
        return {
            "bandwidth_gbs": self.best_gbs,
            "bandwidth_median_gbs": self.median_bytes_per_s / 1e9,
            "by_threads_gbs": {str(k): v / 1e9 for k, v in self.by_threads_bytes_per_s.items()},
            "array_bytes": self.array_bytes,
            "threads": self.threads,
            "passes": self.passes,
            "method": self.method,
        }


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without threadpoolctl the BLAS keeps its own threading
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _self_dot(part: np.ndarray) -> float:
    return float(np.dot(part, part))


def _pass_rates(data: np.ndarray, threads: int, passes: int) -> list[float]:
    slices = np.array_split(data, threads)
    rates = []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for index in range(passes + 1):
            start = time.perf_counter()
            list(pool.map(_self_dot, slices))
            elapsed = time.perf_counter() - start
            if index > 0:  # the first pass faults the pages in and warms the pool
                rates.append(data.nbytes / elapsed)
    return rates


def measure_read_bandwidth(
    threads: int, array_bytes: int = DEFAULT_ARRAY_BYTES, passes: int = DEFAULT_PASSES
) -> BandwidthMeasurement:
    """Measure the read bandwidth (bytes per second) of 1 and of ``threads`` threads streaming
    ``array_bytes`` bytes, ``passes`` timed passes each; the best pass of either wins."""
    threads = require_int("threads", threads)
    array_bytes = require_int("array_bytes", array_bytes, minimum=4 * threads)
    passes = require_int("passes", passes)
    data = np.ones(array_bytes // 4, dtype=np.float32)
    by_threads: dict[int, list[float]] = {}
    with _single_threaded_blas():
        for count in sorted({1, threads}):
            by_threads[count] = _pass_rates(data, count, passes)
    best_count = max(by_threads, key=lambda k: max(by_threads[k]))
    rates = by_threads[best_count]
    return BandwidthMeasurement(
        max(rates), float(np.median(rates)), data.nbytes, threads, passes,
        {k: max(v) for k, v in by_threads.items()},
    )
