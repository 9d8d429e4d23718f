"""Fixtures shared by every test folder: the repository root, and one torch thread per test process."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """Root of the deeplin checkout."""
    return REPO


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Small batched problems are launch-bound; two intra-op threads on a busy 2-core box are far slower."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
