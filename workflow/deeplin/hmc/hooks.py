"""Hooks: what runs after every iteration of `deeplin.hmc.sample`, outside the numerics.

A hook is any callable taking the `SamplerState` after the iteration; it must not change the state's
tensors. `on_draw` hands the kept draws to a callback, `Progress` shows how far the run is (the driver
adds it), and deeplin.checkpoint.PeriodicCheckpointer saves the state every so many seconds.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from torch import Tensor

if TYPE_CHECKING:
    from .driver import SamplerState

Hook = Callable[["SamplerState"], None]

# The progress lines' logger (the name the pipeline's posterior logs show).
log = logging.getLogger("deeplin.hmc")


def on_draw(callback: Callable[[int, Tensor], None]) -> Hook:
    """A hook calling ``callback(k, position)`` with each kept draw k = 0, 1, … (position (C, D), not a copy)."""

    def hook(state: SamplerState) -> None:
        index = state.kept_index
        if index is not None:
            callback(index, state.kernel.position)

    return hook


class Progress:
    """A tiny progress indicator: a carriage-return bar on an interactive stderr, else ~10 % log lines."""

    def __init__(self, total: int, start: int, enabled: bool | None) -> None:
        """Prepare for `total` iterations, `start` of which are already done; `enabled`: bar (None: if a TTY)."""
        self.total = max(total, 1)
        self.bar = sys.stderr.isatty() if enabled is None else bool(enabled)
        self.t0 = time.perf_counter()
        self.start = start
        self.last_draw = 0.0
        self.next_log = (start * 10 // self.total + 1) * self.total / 10.0

    def __call__(self, state: SamplerState) -> None:
        """Report after `state.iteration` completed iterations (syncs the device only when it prints)."""
        done = state.iteration
        now = time.perf_counter()
        finished = done >= self.total
        if self.bar:
            if now - self.last_draw < 0.2 and not finished:
                return
            self.last_draw = now
            sys.stderr.write("\r" + self._line(state, now) + ("\n" if finished else ""))
            sys.stderr.flush()
        elif done >= self.next_log or finished:
            while self.next_log <= done:
                self.next_log += self.total / 10.0
            log.info("%s", self._line(state, now))

    def _line(self, state: SamplerState, now: float) -> str:
        """One status line: phase, iteration counts, rate, step size, divergences."""
        done, warmup = state.iteration, state.plan.warmup
        phase = "warmup" if done <= warmup and warmup > 0 else "sampling"
        width = 24
        filled = int(width * done / self.total)
        rate = (done - self.start) / max(now - self.t0, 1e-9)
        # Warm-up divergences are part of finding the step size; only sampling ones count against the run.
        warmup_divergent = int(state.diagnostics.divergences_warmup.sum())
        sampling_divergent = int(state.diagnostics.divergences.sum())
        step = float(state.step_size.mean())
        return (
            f"HMC [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {phase} "
            f"{rate:.1f} it/s, mean step {step:.3g}, divergences: warm-up {warmup_divergent}, "
            f"sampling {sampling_divergent}"
        )
