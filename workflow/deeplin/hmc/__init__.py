"""Model-agnostic batched Hamiltonian Monte Carlo: C chains in one (C, D) tensor, potential U.

Metropolis-adjusted HMC (Duane et al. 1987; Neal 2011, "MCMC using Hamiltonian dynamics", §5.3) with the
leapfrog integrator, a per-chain diagonal mass matrix, a per-chain step size and a jittered trajectory
length, warmed up as Stan does (dual averaging of the step size, windowed inverse-mass adaptation).
The layout follows BlackJAX: `integrators` (leapfrog, the static / CUDA-graph leapfrog), `kernel` (the
kernel state and one transition), `adaptation` (init/update/final functions over small states, the
window schedule as data), `driver` (`sample`: warm-up, then sampling, returning an `HMCResult`), `group`
(`sample_group`: several runs of one shape side by side in one chain tensor, each with its lone numbers) and
`hooks` (what runs after every iteration: kept draws, progress; checkpoints live in deeplin.checkpoint).
"""

from .adaptation import (
    AdaptationState,
    DualAveragingState,
    MassMatrixState,
    WarmupStep,
    mass_adaptation_windows,
    warmup_schedule,
)
from .driver import HMCConfig, HMCResult, SamplerState, init_sampler, sample
from .group import GroupState, point_states, sample_group
from .hooks import Hook, Progress, on_draw
from .integrators import StaticLeapfrog, autograd_potential_and_grad, leapfrog, make_integrator
from .kernel import KernelState, NonFiniteStart, TransitionInfo, init_kernel, transition

__all__ = [
    "AdaptationState",
    "DualAveragingState",
    "GroupState",
    "HMCConfig",
    "HMCResult",
    "Hook",
    "KernelState",
    "MassMatrixState",
    "NonFiniteStart",
    "Progress",
    "SamplerState",
    "StaticLeapfrog",
    "TransitionInfo",
    "WarmupStep",
    "autograd_potential_and_grad",
    "init_kernel",
    "init_sampler",
    "leapfrog",
    "make_integrator",
    "mass_adaptation_windows",
    "on_draw",
    "point_states",
    "sample",
    "sample_group",
    "transition",
    "warmup_schedule",
]
