"""Periodic checkpoints of a running sampler job, so that a killed job resumes instead of restarting.

A checkpoint holds the sampler state (deeplin.hmc.SamplerState.state_dict(): positions, adaptation,
counters, RNG streams, so that resuming is bitwise identical to not stopping), the draws recorded so far
and the retry attempt. It is tagged with a fingerprint of everything that determines the run; a checkpoint
with another fingerprint (changed data, sampler settings, device type or dtype) or written in another
format is ignored, never resumed. It is not a Snakemake output: the job deletes it once its outputs are
written. `PeriodicCheckpointer` is the hook that writes it (deeplin.hmc.hooks).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .io import atomic_write

log = logging.getLogger("deeplin.checkpoint")

# 3: the sampler state as nested records (kernel, adaptation, diagnostics, random streams) with its block
# checks of the stopping criterion.
FORMAT = 3


@dataclass
class Checkpoint:
    """What a resumed job needs: the attempt it was in, the kernel state and the draws so far."""

    attempt: int
    state: dict
    draws: torch.Tensor  # (kept so far, chains, test points), on the CPU


def save_checkpoint(path: str | Path, fingerprint: str, checkpoint: Checkpoint) -> None:
    """Write atomically: a kill during the write leaves the previous checkpoint intact."""
    record = {
        "format": FORMAT,
        "fingerprint": fingerprint,
        "attempt": checkpoint.attempt,
        "state": checkpoint.state,
        "draws": checkpoint.draws,
    }
    with atomic_write(path, "wb") as handle:
        torch.save(record, handle)


def load_checkpoint(path: str | Path, fingerprint: str) -> Checkpoint | None:
    """The checkpoint at ``path`` if it belongs to this run; None (with a log line saying why) otherwise."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 (any unreadable file means: start afresh)
        log.warning("checkpoint %s is unreadable (%s): starting afresh", path, exc)
        return None
    if not isinstance(record, dict):
        log.warning("checkpoint %s holds no checkpoint record: starting afresh", path)
        return None
    if record.get("format") != FORMAT:
        log.warning(
            "checkpoint %s has format %s, not %d (another deeplin version): starting afresh",
            path,
            record.get("format"),
            FORMAT,
        )
        return None
    if record.get("fingerprint") != fingerprint:
        log.warning("checkpoint %s belongs to other data or sampler settings: starting afresh", path)
        return None
    return Checkpoint(attempt=int(record["attempt"]), state=record["state"], draws=record["draws"])


def remove_checkpoint(path: str | Path | None) -> None:
    """Delete the checkpoint after a successful finish (it must never outlive the outputs it led to)."""
    if path is not None:
        Path(path).unlink(missing_ok=True)


class PeriodicCheckpointer:
    """A hook for deeplin.hmc.sample: saves `snapshot(state)` at most every ``seconds`` (0 = never)."""

    def __init__(
        self, path: str | Path | None, fingerprint: str, seconds: float, snapshot: Callable[[Any], Checkpoint]
    ) -> None:
        self.path, self.fingerprint, self.seconds, self.snapshot = path, fingerprint, seconds, snapshot
        self.last = time.monotonic()
        self.saved = 0

    def __call__(self, state: Any) -> None:
        """Save when the interval has passed since the last save (or since the start)."""
        if self.path is None or self.seconds <= 0 or time.monotonic() - self.last < self.seconds:
            return
        save_checkpoint(self.path, self.fingerprint, self.snapshot(state))
        self.saved += 1
        self.last = time.monotonic()
