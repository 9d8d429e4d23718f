"""deeplin.hmc.driver: sampling in blocks until a stopping criterion passes or the budget is spent.

The criterion is asked exactly at the due iterations, the draws of a stopped run are those of a fixed-length
run of the same length (bit for bit), a resumed run asks the same questions, and a criterion that reads the
draws (an ESS target) needs more blocks on a target that mixes worse.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from deeplin.hmc import HMCConfig, SamplerState, autograd_potential_and_grad, on_draw, sample
from deeplin.hmc.driver import Plan
from hmc_targets import correlated_2d, ess, gaussian_potential

POTENTIAL = autograd_potential_and_grad(gaussian_potential(*correlated_2d())[0])
INIT = torch.zeros(4, 2, dtype=torch.float64)


def _run(config: HMCConfig, stop=None, resume: SamplerState | None = None, hooks=()):
    draws: dict[int, torch.Tensor] = {}
    result = sample(
        POTENTIAL,
        INIT,
        config,
        5,
        [on_draw(lambda k, x: draws.__setitem__(k, x.clone())), *hooks],
        resume=resume,
        stop=stop,
    )
    return draws, result


def test_checks_are_due_after_samples_then_every_block_and_at_the_budget() -> None:
    plan = Plan(warmup=10, samples=40, thin=1, max_samples=130, block=25)
    assert [s for s in range(200) if plan.check_due(s)] == [40, 65, 90, 115, 130]
    assert plan.budget == 130 and plan.total == 140
    fixed = Plan(warmup=10, samples=40, thin=1)  # no budget above samples: one check, at samples
    assert [s for s in range(200) if fixed.check_due(s)] == [40]
    with pytest.raises(ValueError, match="max_samples"):
        HMCConfig(warmup=1, samples=20, max_samples=10)


def test_a_run_stops_at_the_first_passing_check_with_the_draws_of_a_fixed_run_of_that_length() -> None:
    config = HMCConfig(warmup=30, samples=20, thin=2, max_samples=200, block=15, progress=False)
    asked: list[int] = []

    def third_check_passes(state: SamplerState) -> bool:
        asked.append(state.iteration - state.plan.warmup)
        assert state.draws_kept == -(-asked[-1] // 2)  # the draws so far are recorded before the check
        return len(asked) == 3

    draws, result = _run(config, third_check_passes)
    assert asked == [20, 35, 50]
    assert (result.stopped, result.blocks, result.samples) == ("converged", 3, 50)
    assert result.potential.shape == (25, 4) and torch.isfinite(result.potential).all()
    fixed_draws, fixed = _run(HMCConfig(warmup=30, samples=50, thin=2, progress=False))
    assert fixed.stopped == "fixed" and fixed.blocks == 0
    assert sorted(draws) == sorted(fixed_draws) == list(range(25))
    assert all(torch.equal(draws[k], fixed_draws[k]) for k in draws)
    for name in ("potential", "step_size", "accept_rate", "mean_accept_prob", "divergences"):
        assert torch.equal(getattr(result, name), getattr(fixed, name)), name
    assert result.n_gradients == fixed.n_gradients


def test_a_run_whose_criterion_never_passes_spends_the_budget() -> None:
    config = HMCConfig(warmup=20, samples=20, max_samples=70, block=20, progress=False)
    draws, result = _run(config, lambda state: False)
    assert (result.stopped, result.blocks, result.samples) == ("budget", 4, 70)  # checks at 20, 40, 60, 70
    assert len(draws) == 70 and result.potential.shape == (70, 4)


@pytest.mark.parametrize("saved_at", [40, 45, 60])  # at a due check (saved before it is asked), mid-block
def test_a_resumed_run_asks_the_same_questions_and_stops_where_the_uninterrupted_one_does(saved_at) -> None:
    config = HMCConfig(warmup=20, samples=20, max_samples=200, block=20, progress=False)

    def criterion(log: list[int]):
        def stop(state: SamplerState) -> bool:
            log.append(state.iteration)
            return state.draws_kept >= 60

        return stop

    saved: dict[str, bytes] = {}

    def save(state: SamplerState) -> None:
        if state.iteration == saved_at:
            buffer = io.BytesIO()
            torch.save(state.state_dict(), buffer)
            saved["state"] = buffer.getvalue()

    asked: list[int] = []
    full, reference = _run(config, criterion(asked), hooks=[save])
    assert asked == [40, 60, 80] and (reference.samples, reference.blocks) == (60, 3)
    state = SamplerState.from_state_dict(torch.load(io.BytesIO(saved["state"]), weights_only=True))
    asked_again: list[int] = []
    resumed_draws, resumed = _run(config, criterion(asked_again), resume=state)
    assert asked_again == [i for i in asked if i >= saved_at]
    assert (resumed.stopped, resumed.samples, resumed.blocks) == ("converged", 60, 3)
    assert resumed_draws and all(torch.equal(x, full[k]) for k, x in resumed_draws.items())
    for name in ("potential", "step_size", "accept_rate", "divergences"):
        assert torch.equal(getattr(resumed, name), getattr(reference, name)), name
    with pytest.raises(ValueError, match="max_samples"):  # another budget is another schedule
        _run(HMCConfig(warmup=20, samples=20, max_samples=300, block=20, progress=False), resume=state)


def _ess_target_run(leapfrog_steps: int, target: float) -> tuple[int, float]:
    """Sampling iterations a run needs to reach a median ESS of ``target`` over the two coordinates."""
    config = HMCConfig(
        warmup=100, samples=50, leapfrog_steps=leapfrog_steps, max_samples=3000, block=50, progress=False
    )
    draws: list[torch.Tensor] = []

    def enough(state: SamplerState) -> bool:
        chains = torch.stack(draws).numpy()  # (draws, C, 2)
        return float(np.median([ess(chains[..., i]) for i in range(2)])) >= target

    result = sample(POTENTIAL, INIT, config, 3, [on_draw(lambda k, x: draws.append(x.clone()))], stop=enough)
    chains = torch.stack(draws).numpy()
    return result.samples if result.stopped == "converged" else -1, float(
        np.median([ess(chains[..., i]) for i in range(2)])
    )


@pytest.mark.slow
def test_an_ess_target_stops_as_soon_as_it_is_met_and_later_on_a_worse_mixing_run() -> None:
    """Power check: the criterion reads the draws. Six leapfrog steps per iteration (half the trajectory, more
    autocorrelated draws) need several times the iterations of twelve for the same ESS (measured: 650 vs 100)."""
    good, good_ess = _ess_target_run(12, 1000.0)
    poor, poor_ess = _ess_target_run(6, 1000.0)
    assert good > 0 and poor > 0 and good_ess >= 1000.0 and poor_ess >= 1000.0
    assert poor >= 3 * good, (good, poor)
