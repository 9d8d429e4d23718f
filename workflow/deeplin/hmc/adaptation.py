"""Warm-up adaptation of the per-chain step size and diagonal inverse mass, as Stan does it.

Stan Reference Manual, "HMC algorithm parameters" / "Automatic parameter tuning": the step size follows
Nesterov dual averaging (Hoffman & Gelman 2014, JMLR 15:1593, Alg. 5 / eq. 6); the inverse mass is the
regularised variance of the draws of expanding slow windows (stan/mcmc/windowed_adaptation.hpp,
var_adaptation.hpp). Each adaptation is a small immutable state with ``init``, ``update`` and ``final``
functions; `window_adaptation_*` combines both along a schedule that is plain data (`warmup_schedule`).
All tensors are per chain: (C,) for step sizes, (C, D) for the mass matrix.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

# Dual-averaging constants of Hoffman & Gelman (2014) §3.2.1, also Stan's defaults (γ, t0, κ).
DA_GAMMA = 0.05
DA_T0 = 10.0
DA_KAPPA = 0.75
# Stan's windowed metric adaptation: first slow window length and the shrinkage of the variance estimate
# Σ̂_reg = n/(n+5) Σ̂ + 1e-3 · 5/(n+5).
BASE_WINDOW = 25
MASS_SHRINK_TARGET = 1e-3
MASS_SHRINK_WEIGHT = 5.0
INIT_BUFFER_FRACTION = 0.15
TERM_BUFFER_FRACTION = 0.10
MIN_WARMUP_FOR_MASS = 20  # below this, only the step size is adapted (as Stan does for tiny warm-ups)


# --- step size: dual averaging -----------------------------------------------------------------------


class DualAveragingState(NamedTuple):
    """Nesterov dual averaging on log ε (Hoffman & Gelman 2014, eq. 6), per chain."""

    step_size: Tensor  # ε of the next transition, exp(log ε_m)
    mu: Tensor  # the shrinkage point μ = log(10 ε0)
    log_step_bar: Tensor  # log ε̄_m, the averaged iterate
    h_bar: Tensor  # H̄_m, the running mean of (δ − α)
    count: int  # m, shared by every chain


def dual_averaging_init(step_size: Tensor) -> DualAveragingState:
    """Start (or restart, as Stan does after each metric update) around `step_size`: μ = log(10 ε0)."""
    return DualAveragingState(
        step_size=step_size,
        mu=torch.log(10.0 * step_size),
        log_step_bar=torch.zeros_like(step_size),
        h_bar=torch.zeros_like(step_size),
        count=0,
    )


def dual_averaging_update(
    state: DualAveragingState, accept_prob: Tensor, target: float
) -> DualAveragingState:
    """One step towards acceptance `target` given this transition's acceptance probabilities."""
    m = state.count + 1
    w = 1.0 / (m + DA_T0)
    # H̄_m = (1 − 1/(m+t0)) H̄_{m−1} + (δ − α_m)/(m+t0)
    h_bar = state.h_bar.mul(1.0 - w).add_(w * (target - accept_prob))
    # log ε_m = μ − √m/γ · H̄_m
    log_step = state.mu - (math.sqrt(m) / DA_GAMMA) * h_bar
    # log ε̄_m = m^−κ log ε_m + (1 − m^−κ) log ε̄_{m−1}
    eta = m ** (-DA_KAPPA)
    log_step_bar = state.log_step_bar.mul(1.0 - eta).add_(eta * log_step)
    return DualAveragingState(torch.exp(log_step), state.mu, log_step_bar, h_bar, m)


def dual_averaging_final(state: DualAveragingState) -> Tensor:
    """The step size to sample with: the averaged iterate ε̄ (Hoffman & Gelman 2014, Alg. 5)."""
    return torch.exp(state.log_step_bar)


# --- inverse mass: windowed variance -----------------------------------------------------------------


class MassMatrixState(NamedTuple):
    """The diagonal inverse mass in use and Welford's (1962) running moments of the current window."""

    inv_mass: Tensor  # (C, D) diagonal M⁻¹
    mean: Tensor  # (C, D)
    m2: Tensor  # (C, D) sum of squared deviations
    count: int  # draws in the window so far


def mass_matrix_init(inv_mass: Tensor) -> MassMatrixState:
    """Use `inv_mass` until the first window ends; the window's moments start empty."""
    return MassMatrixState(inv_mass, torch.zeros_like(inv_mass), torch.zeros_like(inv_mass), 0)


def mass_matrix_update(state: MassMatrixState, position: Tensor) -> MassMatrixState:
    """Add the current positions to the window's running per-chain mean and variance."""
    count = state.count + 1
    delta = position - state.mean
    mean = state.mean.add(delta, alpha=1.0 / count)
    m2 = state.m2.addcmul(delta, position - mean)
    return MassMatrixState(state.inv_mass, mean, m2, count)


def mass_matrix_final(state: MassMatrixState) -> MassMatrixState:
    """End the window: M⁻¹ ← n/(n+5) σ̂² + 1e-3 · 5/(n+5) (kept when n < 2), and start an empty window."""
    n = state.count
    inv_mass = state.inv_mass
    if n >= 2:
        variance = state.m2 / (n - 1)
        shrink = n / (n + MASS_SHRINK_WEIGHT)
        inv_mass = shrink * variance + MASS_SHRINK_TARGET * (1.0 - shrink)
    return mass_matrix_init(inv_mass)


# --- the schedule and the combined adaptation ------------------------------------------------------------


def mass_adaptation_windows(warmup: int) -> tuple[int, list[int]]:
    """Stan-style slow windows: (first slow iteration, list of window ends), iterations counted from 0.

    An initial fast buffer (15 %) adapts only the step size, then slow windows of 25, 50, 100, … draws
    (the last stretched to the terminal buffer) each end in a new inverse mass, and a final fast buffer
    (10 %) re-tunes the step size for the final metric. No mass adaptation below 20 warm-up iterations.
    """
    if warmup < MIN_WARMUP_FOR_MASS:
        return warmup, []
    start = int(INIT_BUFFER_FRACTION * warmup)
    slow_end = warmup - int(TERM_BUFFER_FRACTION * warmup)
    ends: list[int] = []
    size = min(BASE_WINDOW, slow_end - start)
    begin = start
    while begin < slow_end:
        end = begin + size
        if end + 2 * size >= slow_end:  # the next window would not fit: stretch this one (Stan's rule)
            end = slow_end
        ends.append(end)
        begin, size = end, 2 * size
    return start, ends


class WarmupStep(NamedTuple):
    """What one warm-up iteration adapts besides the step size."""

    slow: bool  # its draw enters the current slow window's variance
    window_end: bool  # the window ends with it: new inverse mass, dual averaging restarted


def warmup_schedule(warmup: int) -> tuple[WarmupStep, ...]:
    """One `WarmupStep` per warm-up iteration, from `mass_adaptation_windows`."""
    start, ends = mass_adaptation_windows(warmup)
    stop = ends[-1] if ends else start
    return tuple(WarmupStep(start <= it < stop, it + 1 in ends) for it in range(warmup))


class AdaptationState(NamedTuple):
    """Step size and inverse mass, with their adaptation."""

    dual_averaging: DualAveragingState
    mass_matrix: MassMatrixState

    @property
    def step_size(self) -> Tensor:
        """(C,) step size of the next transition."""
        return self.dual_averaging.step_size

    @property
    def inv_mass(self) -> Tensor:
        """(C, D) diagonal M⁻¹ of the next transition."""
        return self.mass_matrix.inv_mass


def window_adaptation_init(step_size: Tensor, inv_mass: Tensor) -> AdaptationState:
    """Adaptation starting from these parameters."""
    return AdaptationState(dual_averaging_init(step_size), mass_matrix_init(inv_mass))


def window_adaptation_update(
    state: AdaptationState, step: WarmupStep, position: Tensor, accept_prob: Tensor, target: float
) -> AdaptationState:
    """After one warm-up transition that reached `position` with acceptance probabilities `accept_prob`."""
    dual_averaging = dual_averaging_update(state.dual_averaging, accept_prob, target)
    mass_matrix = state.mass_matrix
    if step.slow:
        mass_matrix = mass_matrix_update(mass_matrix, position)
    if step.window_end:
        mass_matrix = mass_matrix_final(mass_matrix)
        dual_averaging = dual_averaging_init(dual_averaging.step_size)
    return AdaptationState(dual_averaging, mass_matrix)


def window_adaptation_final(state: AdaptationState) -> AdaptationState:
    """At the end of warm-up: sample with the averaged step size ε̄ and the last inverse mass."""
    step_size = dual_averaging_final(state.dual_averaging)
    return state._replace(dual_averaging=state.dual_averaging._replace(step_size=step_size))
