"""Shared fixtures of the runtime tests: torch (skipped when missing) and seeded data."""

from __future__ import annotations

import numpy as np
import pytest


def pytest_configure(config):  # type: ignore[no-untyped-def]
    config.addinivalue_line("markers", "keep_thread_policy: keep the runtime's threads-by-size policy")


@pytest.fixture(scope="session")
def torch():  # type: ignore[no-untyped-def]
    """The torch module, single-threaded so the reference does not compete with the kernel."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator."""
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True)
def exact_thread_counts(monkeypatch, request):  # type: ignore[no-untyped-def]
    """Run the requested thread count even on the tests' small layers (the runtime otherwise uses
    fewer threads for layers under MIN_WEIGHT_BYTES_PER_THREAD per thread), so threading is tested."""
    if "keep_thread_policy" in request.keywords:
        return
    from tsilstm.runtime import modules

    monkeypatch.setattr(modules, "MIN_WEIGHT_BYTES_PER_THREAD", 0)
