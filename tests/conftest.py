"""Shared fixtures: the repository root and a few deep-model coefficient sets."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """Root of the deeplin checkout."""
    return REPO
