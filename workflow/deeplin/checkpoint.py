"""Periodic checkpoints of a running posterior job, so that a killed job resumes instead of restarting.

A checkpoint holds the HMC kernel state (positions, adaptation, counters, RNG streams: resuming is
bitwise identical to not stopping), the draws recorded so far and the retry attempt. It is tagged with a
fingerprint of everything that determines the run; a checkpoint with another fingerprint (changed data,
sampler settings, device type or dtype) is ignored, never resumed. It is not a Snakemake output: the job
deletes it once its outputs are written.
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

FORMAT = 1


@dataclass
class Checkpoint:
    """What a resumed job needs: the attempt it was in, the kernel state and the draws so far."""

    attempt: int
    state: dict
    draws: torch.Tensor  # (kept so far, chains, test points), on the CPU


def save_checkpoint(path: str | Path, fingerprint: str, checkpoint: Checkpoint) -> None:
    """Write atomically: a kill during the write leaves the previous checkpoint intact."""
    record = {"format": FORMAT, "fingerprint": fingerprint, "attempt": checkpoint.attempt,
              "state": checkpoint.state, "draws": checkpoint.draws}  # fmt: skip
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
    if record.get("format") != FORMAT or record.get("fingerprint") != fingerprint:
        log.warning("checkpoint %s belongs to other data or sampler settings: starting afresh", path)
        return None
    return Checkpoint(attempt=int(record["attempt"]), state=record["state"], draws=record["draws"])


def remove_checkpoint(path: str | Path | None) -> None:
    """Delete the checkpoint after a successful finish (it must never outlive the outputs it led to)."""
    if path is not None:
        Path(path).unlink(missing_ok=True)


class PeriodicCheckpointer:
    """An `on_iteration` hook for hmc.sample: saves `snapshot(state)` at most every ``seconds`` (0 = never)."""

    def __init__(self, path: str | Path | None, fingerprint: str, seconds: float,
                 snapshot: Callable[[Any], Checkpoint]) -> None:  # fmt: skip
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
