"""deeplin.hmc.hooks: hooks run after every iteration, in order; kept draws; the progress display."""

from __future__ import annotations

import logging

import torch
from deeplin.hmc import HMCConfig, SamplerState, autograd_potential_and_grad, on_draw, sample

POTENTIAL = autograd_potential_and_grad(lambda x: 0.5 * (x**2).sum(-1))


def test_hooks_run_after_every_iteration_in_order_and_see_the_kept_draws():
    calls: list[tuple[str, int]] = []
    draws: dict[int, torch.Tensor] = {}

    def first(state: SamplerState) -> None:
        calls.append(("first", state.iteration))

    def second(state: SamplerState) -> None:
        calls.append(("second", state.iteration))

    config = HMCConfig(warmup=4, samples=7, thin=3, progress=False)
    result = sample(
        POTENTIAL,
        torch.zeros(2, 3),
        config,
        0,
        [first, on_draw(lambda k, x: draws.__setitem__(k, x.clone())), second],
    )
    assert calls == [(name, it) for it in range(1, 12) for name in ("first", "second")]
    assert sorted(draws) == [0, 1, 2]  # sampling iterations 0, 3, 6
    assert torch.equal(draws[2], result.final_state.kernel.position)  # the last iteration keeps a draw


def test_progress_bar_and_log_lines(capsys, caplog):
    """progress=True draws a carriage-return bar on stderr; False logs ~10 % lines instead."""
    sample(POTENTIAL, torch.zeros(2, 2), HMCConfig(warmup=5, samples=5, progress=True), 0)
    assert "\rHMC [" in capsys.readouterr().err
    with caplog.at_level(logging.INFO, logger="deeplin.hmc"):
        sample(POTENTIAL, torch.zeros(2, 2), HMCConfig(warmup=10, samples=10, progress=False), 0)
    lines = [r.message for r in caplog.records if r.name == "deeplin.hmc"]
    assert 5 <= len(lines) <= 11 and lines[-1].startswith("HMC [") and "20/20" in lines[-1]
    assert "10/20 warmup" in " ".join(lines) and "sampling" in lines[-1]
