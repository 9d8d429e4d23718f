"""deeplin.hmc.kernel: the start check, one Metropolis-adjusted transition, the jittered trajectory length."""

from __future__ import annotations

import math

import pytest
import torch
from deeplin.hmc import KernelState, NonFiniteStart, init_kernel, make_integrator, transition
from deeplin.hmc.kernel import jittered_steps
from hmc_targets import anharmonic_potential_and_grad


def _start(c: int = 5, d: int = 3) -> KernelState:
    theta = torch.randn(c, d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return init_kernel(theta, anharmonic_potential_and_grad)


def test_init_kernel_keeps_dtype_and_device_and_refuses_non_finite_starts() -> None:
    state = _start()
    assert state.position.dtype == torch.float64 and state.potential.shape == (5,)
    assert torch.equal(state.grad, anharmonic_potential_and_grad(state.position)[1])
    with pytest.raises(NonFiniteStart, match=r"chains \[1\]"):
        init_kernel(
            torch.tensor([[0.0], [2.0]]), lambda x: (torch.sqrt(1.0 - x[:, 0]), -0.5 / torch.sqrt(1.0 - x))
        )
    with pytest.raises(ValueError, match="chains, parameters"):
        init_kernel(torch.zeros(3), anharmonic_potential_and_grad)


def test_a_small_step_is_accepted_with_the_metropolis_probability() -> None:
    """Tiny steps: |ΔH| = O(ε³) per step, so the acceptance probability is ≈ 1 and the chains move."""
    state = _start()
    integrator = make_integrator("eager", anharmonic_potential_and_grad, state.position)
    step = torch.full((5,), 1e-3, dtype=torch.float64)
    new, info = transition(
        state, step, torch.ones_like(state.position), 4, integrator, torch.Generator().manual_seed(1)
    )
    assert (info.energy_error.abs() < 1e-6).all() and (info.accept_prob > 0.999).all()
    assert info.accepted.all() and not info.divergent.any()
    assert torch.equal(info.accept_prob, torch.exp(-info.energy_error).clamp(max=1.0))
    assert (new.position != state.position).any(dim=-1).all()
    assert torch.equal(new.potential, anharmonic_potential_and_grad(new.position)[0])


def test_a_divergent_proposal_is_rejected_and_the_chains_stay_put() -> None:
    """A huge step blows the quartic potential up: every chain diverges, none moves, none is accepted."""
    state = _start()
    integrator = make_integrator("eager", anharmonic_potential_and_grad, state.position)
    step = torch.full((5,), 50.0, dtype=torch.float64)
    new, info = transition(
        state, step, torch.ones_like(state.position), 3, integrator, torch.Generator().manual_seed(2)
    )
    assert info.divergent.all() and not info.accepted.any() and (info.accept_prob == 0).all()
    assert torch.equal(new.position, state.position) and torch.equal(new.potential, state.potential)
    assert torch.equal(new.grad, state.grad)


def test_same_generator_state_gives_the_same_transition() -> None:
    state = _start()
    integrator = make_integrator("eager", anharmonic_potential_and_grad, state.position)
    step, inv_mass = torch.full((5,), 0.3, dtype=torch.float64), torch.ones_like(state.position)
    runs = [
        transition(state, step, inv_mass, 5, integrator, torch.Generator().manual_seed(7)) for _ in range(2)
    ]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][0], runs[1][0], strict=True))
    assert torch.equal(runs[0][1].accepted, runs[1][1].accepted)


def test_jittered_steps_cover_the_jitter_range_and_never_drop_below_one() -> None:
    generator = torch.Generator().manual_seed(0)
    steps = [jittered_steps(10, 0.2, generator) for _ in range(2000)]
    assert min(steps) == 8 and max(steps) == 12  # round(10 · U[0.8, 1.2])
    # interior values have probability 1/4 each, the end points 1/8 each (rounding of a uniform)
    assert abs(steps.count(10) / 2000 - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 2000)
    # L = 1, jitter 0.9: round(U[0.1, 1.9]) is 0, 1 or 2, and 0 becomes 1 (P(2) = 0.22 per draw)
    assert {jittered_steps(1, 0.9, generator) for _ in range(200)} == {1, 2}
    assert {jittered_steps(7, 0.0, generator) for _ in range(20)} == {7}
