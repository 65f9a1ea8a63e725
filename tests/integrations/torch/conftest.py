"""Shared fixture of the torch integration tests: torch single-threaded and seeded."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def single_torch_thread():  # type: ignore[no-untyped-def]
    """torch single-threaded, so the reference does not compete with the kernel; seeded."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)
