"""Settings of the fuzz tests: the importer fuzz size comes from the TSILSTM_IMPORTER_MUTANTS
environment variable (default: the quick CI slice); the API fuzz size from the hypothesis profile
(``--hypothesis-profile=long``, registered in tests/conftest.py)."""

from __future__ import annotations

import os

import pytest

QUICK_IMPORTER_MUTANTS = 60
"""Mutated files per run in CI; the full run uses 600 (docs/ROBUSTNESS.md)."""


@pytest.fixture(scope="session")
def importer_mutants() -> int:
    """How many mutated files the importer fuzz loads (TSILSTM_IMPORTER_MUTANTS, default 60)."""
    return int(os.environ.get("TSILSTM_IMPORTER_MUTANTS", QUICK_IMPORTER_MUTANTS))
