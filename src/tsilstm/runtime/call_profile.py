"""Where the time of the native kernel's calls goes: the hoisted input product, the tile products
of the sweeps, the cell updates and the waits for other threads, per thread.

Profiling is off by default (then the kernel reads no clock). ``profiling()`` turns it on for a
block and gives the figures summed over every kernel call made inside it (every layer, direction,
time chunk and batch slice of a module call; concurrent callers' calls too)::

    with call_profile.profiling() as profile:
        module(x)
    print(profile.result.share("hoist_s"))
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

from tsilstm.runtime import _kernel as kernel

NS_PER_S = 1e9


@dataclass(frozen=True)
class ThreadTimes:
    """One kernel thread's time in seconds, summed over the profiled calls: ``hoist_s`` (input
    product W_ih x + b for the thread's row-blocks), ``update_s`` (cell updates: finish, reset and
    projection ops), ``wait_s`` (waiting for other threads' progress) and ``total_s``."""

    hoist_s: float
    update_s: float
    wait_s: float
    total_s: float

    @property
    def products_s(self) -> float:
        """The recurrent tile products: what remains of the total, in seconds."""
        return max(0.0, self.total_s - self.hoist_s - self.update_s - self.wait_s)


@dataclass(frozen=True)
class CallProfile:
    """Kernel calls profiled (``calls``), the callers' preparation of x before the threads start
    (quantizing or splitting it, ``prepare_s`` seconds) and each thread's times."""

    calls: int
    prepare_s: float
    threads: tuple[ThreadTimes, ...]

    def share(self, part: str) -> float:
        """Fraction of the threads' summed total time spent in ``part`` (``hoist_s``, ``update_s``,
        ``wait_s`` or ``products_s``), 0 when nothing was profiled."""
        if part not in ("hoist_s", "update_s", "wait_s", "products_s"):
            raise ValueError(f"part: expected hoist_s, update_s, wait_s or products_s, got {part!r}")
        total = sum(thread.total_s for thread in self.threads)
        return sum(getattr(thread, part) for thread in self.threads) / total if total > 0 else 0.0


@dataclass
class ProfileBlock:
    """Filled in when its ``profiling()`` block ends."""

    result: CallProfile | None = field(default=None)


def take_profile() -> CallProfile:
    """The figures summed since the last take (or since profiling was turned on); clears them."""
    calls, prepare_ns, threads = kernel.take_profile()
    return CallProfile(
        int(calls), prepare_ns / NS_PER_S,
        tuple(ThreadTimes(*(value / NS_PER_S for value in row)) for row in threads),
    )


@contextmanager
def profiling() -> Iterator[ProfileBlock]:
    """Profile the kernel calls made inside the block; the block's figures are in ``.result`` after it."""
    block = ProfileBlock()
    previous = kernel.set_profiling(True)
    take_profile()  # drop figures from before the block
    try:
        yield block
    finally:
        block.result = take_profile()
        kernel.set_profiling(previous)
