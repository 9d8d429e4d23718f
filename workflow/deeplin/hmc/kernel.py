"""The Metropolis-adjusted HMC kernel: its state (position, potential, gradient) and one transition.

Duane et al. (1987); Neal (2011), "MCMC using Hamiltonian dynamics", §5.3.2. Momenta are drawn from
N(0, M) with a per-chain diagonal mass matrix, the proposal is a leapfrog trajectory, and it is accepted
with probability min(1, exp(−ΔH)). All C chains move in lockstep as (C, D) tensors. The trajectory length
is jittered per iteration from a CPU generator (one number for every chain: no device synchronisation).
Several points sampled side by side (deeplin.hmc.group) pass one generator per point: each point's block
of chains draws its momenta and uniforms from its own stream, exactly as if it ran alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from .integrators import Integrator, PotentialAndGradFn


class NonFiniteStart(ValueError):
    """The potential or its gradient is not finite where chains start: no transition can be trusted."""


class KernelState(NamedTuple):
    """Where the chains are: θ (C, D), U(θ) (C,) and ∇U(θ) (C, D)."""

    position: Tensor
    potential: Tensor
    grad: Tensor


class TransitionInfo(NamedTuple):
    """What one transition did, per chain."""

    accept_prob: Tensor  # (C,) min(1, exp(−ΔH)); 0 for a divergence
    accepted: Tensor  # (C,) bool
    divergent: Tensor  # (C,) bool
    energy_error: Tensor  # (C,) ΔH = H(end) − H(start) of the proposal


@torch.no_grad()
def init_kernel(position: Tensor, potential_and_grad_fn: PotentialAndGradFn) -> KernelState:
    """The kernel state at `position` (C, D), in its dtype and on its device (a copy of it)."""
    if position.ndim != 2:
        raise ValueError(f"init_position must be (chains, parameters), not {tuple(position.shape)}")
    position = position.detach().clone()
    potential, grad = potential_and_grad_fn(position)
    bad = ~(torch.isfinite(potential) & torch.isfinite(grad).all(-1))
    if bool(bad.any()):
        raise NonFiniteStart(
            f"non-finite potential or gradient at the initial position of chains "
            f"{bad.nonzero().flatten().tolist()}"
        )
    return KernelState(position, potential.to(position.dtype), grad.to(position.dtype))


def kinetic_energy(momentum: Tensor, inv_mass: Tensor) -> Tensor:
    """K(p) = ½ pᵀ M⁻¹ p per chain."""
    return 0.5 * (momentum * momentum * inv_mass).sum(-1)


def jittered_steps(leapfrog_steps: int, jitter: float, generator: torch.Generator) -> int:
    """Leapfrog steps of one iteration: round(L · U[1 − jitter, 1 + jitter]), at least 1 (a CPU draw)."""
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    return max(1, math.floor(leapfrog_steps * (1.0 - jitter + 2.0 * jitter * u) + 0.5))


Generators = torch.Generator | Sequence[torch.Generator]


def _draw(kind: str, shape: tuple[int, ...], generators: Generators, like: Tensor) -> Tensor:
    """randn or rand of ``shape`` on ``like``'s device and dtype; with a sequence of P generators, the chains
    (dim 0) are P equal blocks, block k drawn from generator k (the values a lone run of block k draws)."""
    draw = torch.randn if kind == "normal" else torch.rand
    # Normals for float64 chains are drawn in float32 and widened: torch's float64 randn costs 5x more per
    # number on a CPU (2.9 vs 0.6 ms for 8 x 16 512 momenta), a tenth of an iteration at d0 = 128. The
    # momenta then have float32 resolution (relative 6e-8), far below any Monte Carlo error of the run.
    dtype = torch.float32 if kind == "normal" and like.dtype == torch.float64 else like.dtype
    if isinstance(generators, torch.Generator):
        return draw(shape, generator=generators, device=like.device, dtype=dtype).to(like.dtype)
    rows = shape[0] // len(generators)
    if rows * len(generators) != shape[0]:
        raise ValueError(f"{shape[0]} chains do not split into {len(generators)} equal blocks")
    block = (rows, *shape[1:])
    blocks = [draw(block, generator=g, device=like.device, dtype=dtype) for g in generators]
    return torch.cat(blocks).to(like.dtype)


@torch.no_grad()
def transition(
    state: KernelState,
    step_size: Tensor,
    inv_mass: Tensor,
    n_steps: int,
    integrator: Integrator,
    generator: Generators,
    divergence_threshold: float = 1000.0,
) -> tuple[KernelState, TransitionInfo]:
    """One Metropolis-adjusted HMC transition per chain, momenta resampled from N(0, M), M = diag(1/inv_mass).

    A proposal whose energy error exceeds `divergence_threshold` or is not finite (or that lands on a
    non-finite position or gradient) is a divergence and is rejected. `generator` (on the chains' device)
    draws the momenta, then the acceptance uniforms; a sequence of P generators draws them per block of
    C/P chains (`_draw`), so that every block moves as it would alone (elementwise updates act row by row).
    """
    position, potential, grad = state
    momentum = _draw("normal", tuple(position.shape), generator, position)
    momentum.mul_(torch.rsqrt(inv_mass))
    h_start = potential + kinetic_energy(momentum, inv_mass)
    theta, p, u_new, g_new = integrator(position, momentum, grad, step_size, inv_mass, n_steps)
    energy_error = u_new + kinetic_energy(p, inv_mass) - h_start
    # One reduction instead of two elementwise tests: a row sum is finite only if every entry is (an inf or
    # NaN entry makes it inf or NaN); a row of finite numbers whose sum overflows counts as divergent too.
    finite = torch.isfinite(energy_error + theta.sum(-1) + g_new.sum(-1))
    divergent = ~finite | (energy_error > divergence_threshold)
    # Metropolis acceptance min(1, exp(−ΔH)); the where() hides NaN/inf from divergent chains.
    zero = torch.zeros_like(energy_error)
    accept_prob = torch.where(divergent, zero, torch.exp(-energy_error).clamp(max=1.0))
    uniform = _draw("uniform", tuple(position.shape[:1]), generator, position)
    accepted = (uniform < accept_prob) & ~divergent
    keep = accepted.unsqueeze(-1)
    new_state = KernelState(
        position=torch.where(keep, theta, position),
        potential=torch.where(accepted, u_new, potential),
        grad=torch.where(keep, g_new, grad),
    )
    return new_state, TransitionInfo(accept_prob, accepted, divergent, energy_error)
