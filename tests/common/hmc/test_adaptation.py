"""deeplin.hmc.adaptation: dual averaging, the windowed inverse mass, and Stan's window schedule."""

from __future__ import annotations

import math

import numpy as np
import torch
from deeplin.hmc import HMCConfig, SamplerState, autograd_potential_and_grad, mass_adaptation_windows, sample
from deeplin.hmc.adaptation import (
    dual_averaging_final,
    dual_averaging_init,
    dual_averaging_update,
    mass_matrix_final,
    mass_matrix_init,
    mass_matrix_update,
    warmup_schedule,
    window_adaptation_final,
    window_adaptation_init,
    window_adaptation_update,
)
from hmc_targets import correlated_2d, gaussian_potential


def test_mass_adaptation_windows_follow_stan_doubling():
    """15 % initial buffer, windows 25, 50, 100, … (one stretched when the next would not fit), 10 % final."""
    assert mass_adaptation_windows(1000) == (150, [175, 225, 325, 900])
    assert mass_adaptation_windows(300) == (45, [70, 120, 270])
    assert mass_adaptation_windows(19) == (19, [])
    for warmup in range(20, 400, 7):
        start, ends = mass_adaptation_windows(warmup)
        sizes = np.diff([start, *ends])
        assert ends[-1] == warmup - int(0.1 * warmup) and (sizes > 0).all()
        assert all(sizes[i + 1] >= 2 * sizes[i] for i in range(len(sizes) - 1))


def test_warmup_schedule_is_the_windows_as_data():
    schedule = warmup_schedule(300)
    assert len(schedule) == 300
    slow = [it for it, step in enumerate(schedule) if step.slow]
    assert slow == list(range(45, 270))  # the slow windows, back to back
    assert [it + 1 for it, step in enumerate(schedule) if step.window_end] == [70, 120, 270]
    assert not any(step.slow or step.window_end for step in warmup_schedule(19))
    assert warmup_schedule(0) == ()


def test_dual_averaging_finds_the_step_of_the_target_acceptance():
    """With acceptance exp(−c ε), δ = 0.8 is reached at ε* = −log(0.8)/c; ε̄ converges to it, per chain."""
    scale = torch.tensor([0.5, 1.0, 4.0], dtype=torch.float64)
    best = -math.log(0.8) / scale
    state = dual_averaging_init(torch.full((3,), 0.1, dtype=torch.float64))
    errors = []
    for m in range(1, 2001):
        state = dual_averaging_update(state, torch.exp(-scale * state.step_size), 0.8)
        if m in (200, 2000):
            errors.append((dual_averaging_final(state) / best - 1).abs().max().item())
    assert state.count == 2000
    assert errors[1] < 0.02 and errors[1] < errors[0] / 2, errors


def test_dual_averaging_restarts_around_a_step_size():
    step = torch.tensor([0.2, 0.05], dtype=torch.float64)
    state = dual_averaging_init(step)
    assert torch.equal(state.mu, torch.log(10 * step)) and state.count == 0
    assert not state.h_bar.any() and not state.log_step_bar.any()
    accept = torch.tensor([1.0, 0.0], dtype=torch.float64)
    moved = dual_averaging_update(state, accept, 0.8)
    # eq. 6 at m = 1: log ε_1 = μ − (1/γ) (δ − α)/(1 + t0): above μ when accepting more than δ, below otherwise
    expected = torch.exp(torch.log(10 * step) - (0.8 - accept) / (0.05 * 11))
    assert torch.allclose(moved.step_size, expected, rtol=1e-12)
    assert moved.step_size[0] > 10 * step[0] and moved.step_size[1] < 10 * step[1]


def test_mass_matrix_is_the_regularised_window_variance():
    """Welford's running moments equal numpy's; the window's end gives n/(n+5)·σ̂² + 1e-3·5/(n+5) and a
    fresh window; a window with fewer than 2 draws keeps the inverse mass."""
    rng = np.random.default_rng(0)
    draws = rng.standard_normal((40, 3, 4)) * np.array([0.1, 1.0, 3.0, 10.0])
    state = mass_matrix_init(torch.ones(3, 4, dtype=torch.float64))
    for x in draws:
        state = mass_matrix_update(state, torch.from_numpy(x))
    assert state.count == 40
    np.testing.assert_allclose(state.mean.numpy(), draws.mean(axis=0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state.m2.numpy() / 39, draws.var(axis=0, ddof=1), rtol=1e-12)
    final = mass_matrix_final(state)
    np.testing.assert_allclose(
        final.inv_mass.numpy(), 40 / 45 * draws.var(axis=0, ddof=1) + 1e-3 * 5 / 45, rtol=1e-12
    )
    assert final.count == 0 and not final.mean.any() and not final.m2.any()
    one = mass_matrix_update(mass_matrix_init(final.inv_mass), torch.from_numpy(draws[0]))
    assert torch.equal(mass_matrix_final(one).inv_mass, final.inv_mass)


def test_window_adaptation_updates_mass_and_restarts_the_step_search_at_a_window_end():
    step_size, inv_mass = torch.full((2,), 0.1, dtype=torch.float64), torch.ones(2, 3, dtype=torch.float64)
    schedule = warmup_schedule(40)  # one slow window: iterations 6..35, ending after iteration 36
    state = window_adaptation_init(step_size, inv_mass)
    positions = torch.randn(40, 2, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for it, step in enumerate(schedule):
        state = window_adaptation_update(
            state, step, positions[it], torch.full((2,), 0.7, dtype=torch.float64), 0.8
        )
        if it + 1 == 36:
            expected = 30 / 35 * positions[6:36].var(dim=0) + 1e-3 * 5 / 35
            assert torch.allclose(state.inv_mass, expected, rtol=1e-12)
            assert state.dual_averaging.count == 0 and state.mass_matrix.count == 0
            assert torch.equal(state.dual_averaging.mu, torch.log(10 * state.step_size))
    assert state.dual_averaging.count == 4  # iterations 37..40 after the last restart
    final = window_adaptation_final(state)
    assert torch.equal(final.step_size, torch.exp(state.dual_averaging.log_step_bar))
    assert torch.equal(final.inv_mass, state.inv_mass)


def test_sampler_uses_the_regularised_window_variance():
    """In a run, M⁻¹ after the slow window = n/(n+5)·(per-chain variance of its n draws) + 1e-3·5/(n+5)."""
    mean, cov = correlated_2d()
    potential, _ = gaussian_potential(mean, cov)
    config = HMCConfig(warmup=60, samples=0, progress=False)
    start, ends = mass_adaptation_windows(config.warmup)
    assert (start, ends) == (9, [54])
    window: list[torch.Tensor] = []
    seen: dict[str, torch.Tensor] = {}

    def record(state: SamplerState) -> None:
        if start < state.iteration <= ends[0]:
            window.append(state.kernel.position.clone())
        if state.iteration == ends[0]:
            seen["inv_mass"] = state.inv_mass.clone()

    sample(
        autograd_potential_and_grad(potential), torch.zeros(3, 2, dtype=torch.float64), config, 2, [record]
    )
    x = torch.stack(window)
    n = x.shape[0]
    expected = n / (n + 5) * x.var(dim=0, unbiased=True) + 1e-3 * 5 / (n + 5)
    assert n == 45 and torch.allclose(seen["inv_mass"], expected, rtol=1e-12, atol=0)
