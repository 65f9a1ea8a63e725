"""Shared fixtures of the runtime tests: torch (skipped when missing) and seeded data."""

from __future__ import annotations

import numpy as np
import pytest


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
