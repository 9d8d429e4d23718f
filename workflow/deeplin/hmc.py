"""Model-agnostic batched Hamiltonian Monte Carlo: C chains in one (C, D) tensor, potential U.

Metropolis-adjusted HMC (Duane et al. 1987; Neal 2011, "MCMC using Hamiltonian dynamics", §5.3) with the
leapfrog integrator, a per-chain diagonal mass matrix, a per-chain step size and a trajectory length that is
jittered per iteration (the same for every chain so that the batch stays in lockstep). Warm-up follows Stan
(Stan Reference Manual, "HMC algorithm parameters" / "Automatic parameter tuning"): per-chain step size by
Nesterov dual averaging (Hoffman & Gelman 2014, JMLR 15:1593, Alg. 5 / eq. 6) and a diagonal inverse mass from
expanding windows of warm-up draws, regularised towards 1e-3. The interface is BlackJAX-like: a state,
`init_state`, `transition`, and a driver `sample` that adds adaptation, thinning, callbacks and checkpoints.

Everything per chain stays a device tensor; the only host-side random number (the trajectory length) comes
from a separate CPU generator, so a CUDA run has no host synchronisation inside an iteration except where a
progress line is printed.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "HMCConfig",
    "HMCResult",
    "HMCState",
    "StaticLeapfrog",
    "Transition",
    "autograd_potential_and_grad",
    "init_state",
    "leapfrog",
    "mass_adaptation_windows",
    "sample",
    "transition",
]

log = logging.getLogger(__name__)

PotentialFn = Callable[[Tensor], Tensor]
PotentialAndGradFn = Callable[[Tensor], tuple[Tensor, Tensor]]

# Dual-averaging constants of Hoffman & Gelman (2014) §3.2.1, also Stan's defaults (γ, t0, κ).
DA_GAMMA = 0.05
DA_T0 = 10.0
DA_KAPPA = 0.75
# Stan's windowed metric adaptation: first slow window length and the shrinkage of the variance estimate
# Σ̂_reg = n/(n+5) Σ̂ + 1e-3 · 5/(n+5) (stan/mcmc/windowed_adaptation.hpp, var_adaptation.hpp).
BASE_WINDOW = 25
MASS_SHRINK_TARGET = 1e-3
MASS_SHRINK_WEIGHT = 5.0
INIT_BUFFER_FRACTION = 0.15
TERM_BUFFER_FRACTION = 0.10
MIN_WARMUP_FOR_MASS = 20  # below this, only the step size is adapted (as Stan does for tiny warm-ups)


class NonFiniteStart(ValueError):
    """The potential or its gradient is not finite where chains start: no transition can be trusted."""


@dataclass(frozen=True)
class HMCConfig:
    """Sampler settings: iteration counts, trajectory length and adaptation targets."""

    warmup: int
    samples: int  # sampling iterations; draws kept: ceil(samples / thin) (iterations 0, thin, 2·thin, …)
    leapfrog_steps: int = 16
    target_accept: float = 0.8
    jitter: float = 0.2  # trajectory length ~ round(U[(1−jitter)L, (1+jitter)L]) per iteration
    init_step_size: float = 0.1
    divergence_threshold: float = 1000.0
    thin: int = 1
    progress: bool | None = None  # None = a progress bar only when stderr is a TTY (else ~10 % log lines)

    def __post_init__(self) -> None:
        """Reject settings that cannot give a valid run."""
        if self.warmup < 0 or self.samples < 0:
            raise ValueError("warmup and samples must be >= 0")
        if self.leapfrog_steps < 1:
            raise ValueError("leapfrog_steps must be >= 1")
        if not 0.0 < self.target_accept < 1.0:
            raise ValueError("target_accept must lie in (0, 1)")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError("jitter must lie in [0, 1)")
        if not self.init_step_size > 0.0:
            raise ValueError("init_step_size must be > 0")
        if not self.divergence_threshold > 0.0:
            raise ValueError("divergence_threshold must be > 0")
        if self.thin < 1:
            raise ValueError("thin must be >= 1")

    @property
    def kept(self) -> int:
        """Number of draws kept after thinning."""
        return -(-self.samples // self.thin)


# Names of the HMCState fields that are plain Python numbers (the rest are tensors or generators).
_INT_FIELDS = (
    "iteration",
    "da_count",
    "mass_count",
    "n_gradients",
    "n_gradients_warmup",
    "warmup",
    "samples",
    "thin",
)
_FLOAT_FIELDS = ("seconds_warmup", "seconds_sampling")


@dataclass
class HMCState:
    """Everything needed to continue a run bitwise-identically: chain positions, adaptation, counters, RNGs.

    The driver replaces or updates these tensors between iterations; use `state_dict()` for a snapshot.
    """

    position: Tensor  # (C, D)
    potential: Tensor  # (C,) U at position
    grad: Tensor  # (C, D) ∇U at position
    step_size: Tensor  # (C,) step size of the next transition
    inv_mass: Tensor  # (C, D) diagonal M⁻¹
    # Dual averaging (Hoffman & Gelman 2014, eq. 6): μ, log ε̄, H̄ per chain and the shared counter m.
    da_mu: Tensor
    da_log_step_bar: Tensor
    da_h_bar: Tensor
    # Welford accumulators of the current slow window (per chain).
    mass_mean: Tensor  # (C, D)
    mass_m2: Tensor  # (C, D)
    # Per-chain diagnostics.
    accept_prob_sum_warmup: Tensor  # (C,)
    accept_prob_sum: Tensor  # (C,) sampling phase
    accept_count: Tensor  # (C,) int64, sampling phase
    divergences_warmup: Tensor  # (C,) int64
    divergences: Tensor  # (C,) int64, sampling phase
    potential_trace: Tensor  # (kept, C) U of the kept draws
    generator: torch.Generator  # on the device: momenta and accept/reject uniforms
    jitter_generator: torch.Generator  # on the CPU: trajectory lengths (no device sync)
    iteration: int = 0  # completed iterations (warm-up and sampling)
    da_count: int = 0
    mass_count: int = 0
    n_gradients: int = 0  # gradient evaluations per chain so far (including the initial one)
    n_gradients_warmup: int = 0
    warmup: int = 0  # schedule this state belongs to (checked on resume)
    samples: int = 0
    thin: int = 1
    seconds_warmup: float = 0.0
    seconds_sampling: float = 0.0

    @property
    def chains(self) -> int:
        """Number of chains C."""
        return self.position.shape[0]

    def state_dict(self) -> dict[str, Any]:
        """A detached copy of the state as tensors and numbers (generator states as CPU byte tensors)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, torch.Generator):
                out[f.name] = value.get_state().clone()
            elif isinstance(value, Tensor):
                out[f.name] = value.detach().clone()
            else:
                out[f.name] = value
        out["generator_device"] = str(self.generator.device)
        return out

    @classmethod
    def from_state_dict(cls, data: dict[str, Any], device: torch.device | str | None = None) -> HMCState:
        """Rebuild a state saved by `state_dict()` (on `device`, default the device of its tensors)."""
        device = torch.device(device) if device is not None else data["position"].device
        saved_type = torch.device(data.get("generator_device", "cpu")).type
        if saved_type != device.type:
            raise ValueError(
                f"the RNG state was saved on a {saved_type} device and cannot continue on {device.type}; "
                "CPU and CUDA generators are different algorithms"
            )
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            value = data[f.name]
            if f.name == "generator":
                gen = torch.Generator(device=device)
                gen.set_state(value.cpu())
                kwargs[f.name] = gen
            elif f.name == "jitter_generator":
                gen = torch.Generator()
                gen.set_state(value.cpu())
                kwargs[f.name] = gen
            elif f.name in _INT_FIELDS:
                kwargs[f.name] = int(value)
            elif f.name in _FLOAT_FIELDS:
                kwargs[f.name] = float(value)
            else:
                kwargs[f.name] = value.detach().to(device).clone()
        return cls(**kwargs)


@dataclass
class HMCResult:
    """Per-chain adaptation results and diagnostics of a run; draws go to the caller's callback."""

    step_size: Tensor  # (C,)
    inv_mass: Tensor  # (C, D)
    accept_rate: Tensor  # (C,) fraction of accepted proposals while sampling
    mean_accept_prob: Tensor  # (C,) mean Metropolis acceptance probability while sampling
    mean_accept_prob_warmup: Tensor  # (C,)
    divergences_warmup: Tensor  # (C,) int64
    divergences: Tensor  # (C,) int64, sampling phase
    n_gradients: int  # gradient evaluations per chain in total (initial + warm-up + sampling)
    n_gradients_warmup: int  # of which initial + warm-up
    potential: Tensor  # (kept, C) U of the kept draws
    seconds_warmup: float
    seconds_sampling: float
    final_state: HMCState


@dataclass
class Transition:
    """Outcome of one Metropolis-adjusted HMC transition, per chain."""

    position: Tensor  # (C, D)
    potential: Tensor  # (C,)
    grad: Tensor  # (C, D)
    accept_prob: Tensor  # (C,) min(1, exp(−ΔH)); 0 for a divergence
    accepted: Tensor  # (C,) bool
    divergent: Tensor  # (C,) bool
    energy_error: Tensor  # (C,) ΔH = H(end) − H(start) of the proposal


def autograd_potential_and_grad(potential_fn: PotentialFn) -> PotentialAndGradFn:
    """Wrap U(θ) into θ ↦ (U, ∇U) by autograd of ΣU; chains are independent, so ∂ΣU/∂θ_c = ∇U_c."""

    def potential_and_grad(theta: Tensor) -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            x = theta.detach().requires_grad_(True)
            u = potential_fn(x)
            if u.shape != theta.shape[:1]:
                raise ValueError(f"potential_fn must return shape ({theta.shape[0]},), got {tuple(u.shape)}")
            if not u.requires_grad:  # U does not depend on θ
                return u.detach(), torch.zeros_like(theta)
            (g,) = torch.autograd.grad(u.sum(), x, allow_unused=True)
        return u.detach(), (torch.zeros_like(theta) if g is None else g)

    return potential_and_grad


def leapfrog(
    position: Tensor,
    momentum: Tensor,
    grad: Tensor,
    step_size: Tensor,
    inv_mass: Tensor,
    n_steps: int,
    potential_and_grad_fn: PotentialAndGradFn,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """n_steps leapfrog steps of H = U(θ) + ½ pᵀM⁻¹p for every chain; returns (θ, p, U, ∇U) at the end.

    Velocity Verlet (Neal 2011, eqs. 5.18–5.20) with the half momentum kicks of consecutive steps merged.
    The inputs are not modified. `potential_and_grad_fn` must not keep a reference to its argument, which
    is updated in place between calls.
    """
    if n_steps < 1:
        raise ValueError("n_steps must be >= 1")
    eps = step_size.unsqueeze(-1)  # (C, 1)
    half_eps = 0.5 * eps
    drift = eps * inv_mass  # dθ = ε M⁻¹ p
    theta = position.clone()
    p = momentum - half_eps * grad
    potential = grad  # placeholder, overwritten in the first step
    with torch.no_grad():
        for i in range(n_steps):
            theta.addcmul_(drift, p)
            potential, grad = potential_and_grad_fn(theta)
            if i + 1 < n_steps:
                p.addcmul_(eps, grad, value=-1.0)
        p.addcmul_(half_eps, grad, value=-1.0)
    return theta, p, potential, grad


class StaticLeapfrog:
    """The leapfrog integrator over preallocated buffers, optionally replayed from a captured CUDA graph.

    Same dynamics as `leapfrog` (equal to rounding: the last half kick is a full kick then half undone).
    One step, θ += ε M⁻¹ p; (U, ∇U) = f(θ); p −= ε ∇U, reads and writes only this object's tensors, so on
    CUDA it is captured once as a graph and a trajectory is n graph replays with no host synchronisation
    and one launch per step; on CPU (or with capture=False) the very same step runs eagerly.
    `potential_and_grad_fn` must be capturable (no host syncs, no data-dependent shapes): deeplin's
    analytic deep-posterior gradient is; autograd is not guaranteed to be.
    """

    def __init__(self, potential_and_grad_fn: PotentialAndGradFn, like: Tensor, capture: bool | None = None):
        """Buffers shaped like `like` (C, D); capture defaults to True on CUDA devices."""
        self.fn = potential_and_grad_fn
        self.theta, self.p, self.grad = (torch.zeros_like(like) for _ in range(3))
        self.drift = torch.zeros_like(like)
        self.eps = torch.zeros_like(like[:, :1])
        self.potential = torch.zeros_like(like[:, 0])
        self.capture = like.device.type == "cuda" if capture is None else capture
        self.graph = None

    def _step(self) -> None:
        self.theta.addcmul_(self.drift, self.p)
        potential, grad = self.fn(self.theta)
        self.potential.copy_(potential)
        self.grad.copy_(grad)
        self.p.addcmul_(self.eps, self.grad, value=-1.0)

    def _capture_graph(self) -> None:
        """Record one step (after side-stream warm-up runs, as CUDA graph capture requires)."""
        saved = [t.clone() for t in (self.theta, self.p, self.grad, self.potential)]
        side = torch.cuda.Stream(device=self.theta.device)
        side.wait_stream(torch.cuda.current_stream(self.theta.device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._step()
        torch.cuda.current_stream(self.theta.device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self._step()
        for buffer, value in zip((self.theta, self.p, self.grad, self.potential), saved, strict=True):
            buffer.copy_(value)

    def __call__(self, position: Tensor, momentum: Tensor, grad: Tensor, step_size: Tensor, inv_mass: Tensor,
                 n_steps: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:  # fmt: skip
        """n_steps leapfrog steps from (position, momentum) with gradient `grad`; returns (θ, p, U, ∇U)."""
        if n_steps < 1:
            raise ValueError("n_steps must be >= 1")
        self.eps.copy_(step_size.unsqueeze(-1))
        torch.mul(self.eps, inv_mass, out=self.drift)
        self.theta.copy_(position)
        self.p.copy_(momentum).addcmul_(self.eps, grad, value=-0.5)
        if self.capture and self.graph is None:
            self._capture_graph()
        for _ in range(n_steps):
            if self.graph is not None:
                self.graph.replay()
            else:
                self._step()
        self.p.addcmul_(self.eps, self.grad, value=0.5)  # the last kick is a half kick
        return self.theta.clone(), self.p.clone(), self.potential.clone(), self.grad.clone()


def _kinetic(momentum: Tensor, inv_mass: Tensor) -> Tensor:
    """K(p) = ½ pᵀ M⁻¹ p per chain."""
    return 0.5 * (momentum * momentum * inv_mass).sum(-1)


@torch.no_grad()
def transition(
    position: Tensor,
    potential: Tensor,
    grad: Tensor,
    step_size: Tensor,
    inv_mass: Tensor,
    n_steps: int,
    potential_and_grad_fn: PotentialAndGradFn,
    generator: torch.Generator,
    divergence_threshold: float = 1000.0,
    integrator: StaticLeapfrog | None = None,
) -> Transition:
    """One Metropolis-adjusted HMC transition per chain (Neal 2011, §5.3.2), momenta resampled from N(0, M).

    A proposal whose energy error exceeds `divergence_threshold` or is not finite (or that lands on a
    non-finite position or gradient) is a divergence and is rejected.
    """
    # p ~ N(0, M) with M = diag(1 / inv_mass).
    momentum = torch.randn(position.shape, generator=generator, device=position.device, dtype=position.dtype)
    momentum.mul_(torch.rsqrt(inv_mass))
    h_start = potential + _kinetic(momentum, inv_mass)
    if integrator is None:
        theta, p, u_new, g_new = leapfrog(
            position, momentum, grad, step_size, inv_mass, n_steps, potential_and_grad_fn
        )
    else:
        theta, p, u_new, g_new = integrator(position, momentum, grad, step_size, inv_mass, n_steps)
    energy_error = u_new + _kinetic(p, inv_mass) - h_start
    finite = torch.isfinite(energy_error) & torch.isfinite(theta).all(-1) & torch.isfinite(g_new).all(-1)
    divergent = ~finite | (energy_error > divergence_threshold)
    # Metropolis acceptance min(1, exp(−ΔH)); the where() hides NaN/inf from divergent chains.
    zero = torch.zeros_like(energy_error)
    accept_prob = torch.where(divergent, zero, torch.exp(-energy_error).clamp(max=1.0))
    uniform = torch.rand(
        position.shape[:1], generator=generator, device=position.device, dtype=position.dtype
    )
    accepted = (uniform < accept_prob) & ~divergent
    keep = accepted.unsqueeze(-1)
    return Transition(
        position=torch.where(keep, theta, position),
        potential=torch.where(accepted, u_new, potential),
        grad=torch.where(keep, g_new, grad),
        accept_prob=accept_prob,
        accepted=accepted,
        divergent=divergent,
        energy_error=energy_error,
    )


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


def _make_generators(seed: int, device: torch.device) -> tuple[torch.Generator, torch.Generator]:
    """Device generator for momenta/uniforms and a CPU generator for trajectory lengths, both from `seed`."""
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    jitter_gen = torch.Generator()
    # A different, deterministic stream (an LCG step of the seed, Knuth's MMIX constants).
    jitter_gen.manual_seed((seed * 6364136223846793005 + 1442695040888963407) % (1 << 63))
    return gen, jitter_gen


@torch.no_grad()
def init_state(
    init_position: Tensor,
    config: HMCConfig,
    seed: int,
    potential_and_grad_fn: PotentialAndGradFn,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> HMCState:
    """Fresh state at `init_position` (C, D): unit inverse mass, step size `config.init_step_size`."""
    device = torch.device(device) if device is not None else init_position.device
    dtype = dtype or torch.float64
    if init_position.ndim != 2:
        raise ValueError(f"init_position must be (chains, parameters), not {tuple(init_position.shape)}")
    position = init_position.detach().to(device=device, dtype=dtype).clone()
    potential, grad = potential_and_grad_fn(position)
    bad = ~(torch.isfinite(potential) & torch.isfinite(grad).all(-1))
    if bool(bad.any()):
        raise NonFiniteStart(
            f"non-finite potential or gradient at the initial position of chains "
            f"{bad.nonzero().flatten().tolist()}"
        )
    chains, dim = position.shape
    zeros_c = torch.zeros(chains, device=device, dtype=dtype)
    step = torch.full((chains,), config.init_step_size, device=device, dtype=dtype)
    gen, jitter_gen = _make_generators(seed, device)
    return HMCState(
        position=position,
        potential=potential.to(dtype),
        grad=grad.to(dtype),
        step_size=step,
        inv_mass=torch.ones(chains, dim, device=device, dtype=dtype),
        da_mu=torch.log(10.0 * step),  # Hoffman & Gelman 2014 §3.2.1: μ = log(10 ε0)
        da_log_step_bar=zeros_c.clone(),
        da_h_bar=zeros_c.clone(),
        mass_mean=torch.zeros(chains, dim, device=device, dtype=dtype),
        mass_m2=torch.zeros(chains, dim, device=device, dtype=dtype),
        accept_prob_sum_warmup=zeros_c.clone(),
        accept_prob_sum=zeros_c.clone(),
        accept_count=torch.zeros(chains, device=device, dtype=torch.int64),
        divergences_warmup=torch.zeros(chains, device=device, dtype=torch.int64),
        divergences=torch.zeros(chains, device=device, dtype=torch.int64),
        potential_trace=torch.full((config.kept, chains), math.nan, device=device, dtype=dtype),
        generator=gen,
        jitter_generator=jitter_gen,
        n_gradients=1,
        n_gradients_warmup=1,
        warmup=config.warmup,
        samples=config.samples,
        thin=config.thin,
    )


def _trajectory_steps(config: HMCConfig, generator: torch.Generator) -> int:
    """Leapfrog steps of this iteration: round(L · U[1 − jitter, 1 + jitter]), at least 1 (CPU draw)."""
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    return max(1, math.floor(config.leapfrog_steps * (1.0 - config.jitter + 2.0 * config.jitter * u) + 0.5))


def _dual_averaging_update(state: HMCState, accept_prob: Tensor, target: float) -> None:
    """One step of Nesterov dual averaging on log ε (Hoffman & Gelman 2014, Alg. 5 / eq. 6), per chain."""
    state.da_count += 1
    m = state.da_count
    w = 1.0 / (m + DA_T0)
    # H̄_m = (1 − 1/(m+t0)) H̄_{m−1} + (δ − α_m)/(m+t0)
    state.da_h_bar.mul_(1.0 - w).add_(w * (target - accept_prob))
    # log ε_m = μ − √m/γ · H̄_m
    log_step = state.da_mu - (math.sqrt(m) / DA_GAMMA) * state.da_h_bar
    # log ε̄_m = m^−κ log ε_m + (1 − m^−κ) log ε̄_{m−1}
    eta = m ** (-DA_KAPPA)
    state.da_log_step_bar.mul_(1.0 - eta).add_(eta * log_step)
    state.step_size = torch.exp(log_step)


def _restart_dual_averaging(state: HMCState) -> None:
    """Restart dual averaging around the current step size, as Stan does after each metric update."""
    state.da_mu = torch.log(10.0 * state.step_size)
    state.da_h_bar.zero_()
    state.da_log_step_bar.zero_()
    state.da_count = 0


def _welford_update(state: HMCState) -> None:
    """Add the current positions to the running per-chain mean/variance of the slow window (Welford 1962)."""
    state.mass_count += 1
    delta = state.position - state.mass_mean
    state.mass_mean.add_(delta, alpha=1.0 / state.mass_count)
    state.mass_m2.addcmul_(delta, state.position - state.mass_mean)


def _update_inverse_mass(state: HMCState) -> None:
    """M⁻¹ ← regularised per-chain variance of the window's draws (Stan: n/(n+5) σ̂² + 1e-3 · 5/(n+5))."""
    n = state.mass_count
    if n >= 2:
        variance = state.mass_m2 / (n - 1)
        shrink = n / (n + MASS_SHRINK_WEIGHT)
        state.inv_mass = shrink * variance + MASS_SHRINK_TARGET * (1.0 - shrink)
    state.mass_count = 0
    state.mass_mean.zero_()
    state.mass_m2.zero_()


class _Progress:
    """A tiny progress indicator: a carriage-return bar on an interactive stderr, else ~10 % log lines."""

    def __init__(self, total: int, start: int, enabled: bool | None) -> None:
        """Prepare for `total` iterations, `start` of which are already done."""
        self.total = max(total, 1)
        self.bar = sys.stderr.isatty() if enabled is None else bool(enabled)
        self.t0 = time.perf_counter()
        self.start = start
        self.last_draw = 0.0
        self.next_log = (start * 10 // self.total + 1) * self.total / 10.0

    def update(self, done: int, state: HMCState) -> None:
        """Report after `done` completed iterations (syncs the device only when something is printed)."""
        now = time.perf_counter()
        finished = done >= self.total
        if self.bar:
            if now - self.last_draw < 0.2 and not finished:
                return
            self.last_draw = now
            sys.stderr.write("\r" + self._line(done, state, now) + ("\n" if finished else ""))
            sys.stderr.flush()
        elif done >= self.next_log or finished:
            while self.next_log <= done:
                self.next_log += self.total / 10.0
            log.info("%s", self._line(done, state, now))

    def _line(self, done: int, state: HMCState, now: float) -> str:
        """One status line: phase, iteration counts, rate, step size, divergences."""
        phase = "warmup" if done <= state.warmup and state.warmup > 0 else "sampling"
        width = 24
        filled = int(width * done / self.total)
        rate = (done - self.start) / max(now - self.t0, 1e-9)
        # Warm-up divergences are part of finding the step size; only sampling ones count against the run.
        warmup_divergent = int(state.divergences_warmup.sum())
        sampling_divergent = int(state.divergences.sum())
        step = float(state.step_size.mean())
        return (
            f"HMC [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} {phase} "
            f"{rate:.1f} it/s, mean step {step:.3g}, divergences: warm-up {warmup_divergent}, "
            f"sampling {sampling_divergent}"
        )


def _integrator(trajectory: str, device: torch.device, analytic: bool, potential_and_grad_fn: PotentialAndGradFn,
                like: Tensor) -> StaticLeapfrog | None:  # fmt: skip
    """What `sample` integrates with: None = the eager `leapfrog`, else a StaticLeapfrog (captured or not)."""
    if trajectory == "auto":
        trajectory = "graph" if device.type == "cuda" and analytic else "eager"
    if trajectory == "eager":
        return None
    if trajectory == "static":
        return StaticLeapfrog(potential_and_grad_fn, like, capture=False)
    if trajectory == "graph":
        if device.type != "cuda":
            raise ValueError("trajectory='graph' captures CUDA graphs and needs a CUDA device")
        return StaticLeapfrog(potential_and_grad_fn, like, capture=True)
    raise ValueError(f"trajectory must be auto, eager, static or graph, not {trajectory!r}")


def _synchronize(device: torch.device) -> None:
    """Wait for queued device work so that wall-clock phase timings are honest."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def sample(
    potential_fn: PotentialFn | None,
    init_position: Tensor,
    config: HMCConfig,
    seed: int,
    callback: Callable[[int, Tensor], None] | None = None,
    potential_and_grad_fn: PotentialAndGradFn | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    state: HMCState | None = None,
    on_iteration: Callable[[HMCState], None] | None = None,
    trajectory: str = "auto",
) -> HMCResult:
    """Run warm-up then sampling for C chains from `init_position` (C, D), or resume from `state`.

    `potential_fn(θ) -> U` (C,) is differentiated by autograd unless `potential_and_grad_fn(θ) -> (U, ∇U)`
    is given. `callback(k, position)` receives each kept draw k = 0, 1, …; `on_iteration(state)` runs after
    every iteration (call `state.state_dict()` there to checkpoint). Default dtype is float64 and default
    device that of `init_position`. With `state`, the run continues from it: `init_position` and `seed` are
    ignored and the state's device, dtype and RNG streams are kept, so the draws match an uninterrupted run.
    `config.samples` counts sampling iterations; draws 0, thin, 2·thin, … are kept.
    `trajectory`: "eager" (`leapfrog`), "static" (`StaticLeapfrog` without capture), "graph" (captured CUDA
    graph; CUDA only) or "auto" = "graph" on CUDA when `potential_and_grad_fn` is given, else "eager".
    """
    if potential_and_grad_fn is None:
        if potential_fn is None:
            raise ValueError("give potential_fn or potential_and_grad_fn")
        potential_and_grad_fn = autograd_potential_and_grad(potential_fn)
    if state is None:
        state = init_state(init_position, config, seed, potential_and_grad_fn, device, dtype)
    else:
        if (state.warmup, state.samples, state.thin) != (config.warmup, config.samples, config.thin):
            raise ValueError(
                f"state belongs to warmup={state.warmup}, samples={state.samples}, thin={state.thin}; "
                f"config has {config.warmup}, {config.samples}, {config.thin}"
            )
        if device is not None and torch.device(device) != state.position.device:
            raise ValueError("device differs from the resumed state's (see HMCState.from_state_dict)")
        if dtype is not None and dtype != state.position.dtype:
            raise ValueError("dtype differs from the resumed state's")
    dev = state.position.device
    integrator = _integrator(trajectory, dev, potential_fn is None, potential_and_grad_fn, state.position)
    total = config.warmup + config.samples
    slow_start, window_ends = mass_adaptation_windows(config.warmup)
    slow_stop = window_ends[-1] if window_ends else slow_start
    ends = set(window_ends)
    progress = _Progress(total, state.iteration, config.progress)

    with torch.no_grad():
        while state.iteration < total:
            it = state.iteration
            warm = it < config.warmup
            t0 = time.perf_counter()
            n_steps = _trajectory_steps(config, state.jitter_generator)
            step = transition(
                state.position,
                state.potential,
                state.grad,
                state.step_size,
                state.inv_mass,
                n_steps,
                potential_and_grad_fn,
                state.generator,
                config.divergence_threshold,
                integrator,
            )
            state.position, state.potential, state.grad = step.position, step.potential, step.grad
            state.n_gradients += n_steps
            if warm:
                state.n_gradients_warmup += n_steps
                state.accept_prob_sum_warmup.add_(step.accept_prob)
                state.divergences_warmup.add_(step.divergent)
                _dual_averaging_update(state, step.accept_prob, config.target_accept)
                if slow_start <= it < slow_stop:
                    _welford_update(state)
                if it + 1 in ends:
                    _update_inverse_mass(state)
                    _restart_dual_averaging(state)
                if it + 1 == config.warmup:
                    # Sampling uses the dual-averaging iterate ε̄ (Hoffman & Gelman 2014, Alg. 5).
                    state.step_size = torch.exp(state.da_log_step_bar)
                    _synchronize(dev)
                state.seconds_warmup += time.perf_counter() - t0
            else:
                state.accept_prob_sum.add_(step.accept_prob)
                state.accept_count.add_(step.accepted)
                state.divergences.add_(step.divergent)
                s = it - config.warmup
                kept = s % config.thin == 0
                if kept:
                    state.potential_trace[s // config.thin] = state.potential
                if it + 1 == total:
                    _synchronize(dev)
                state.seconds_sampling += time.perf_counter() - t0
                if kept and callback is not None:
                    callback(s // config.thin, state.position)
            state.iteration = it + 1
            if on_iteration is not None:
                on_iteration(state)
            progress.update(state.iteration, state)

    n_sampling = max(config.samples, 1)
    n_warmup = max(config.warmup, 1)
    return HMCResult(
        step_size=state.step_size.clone(),
        inv_mass=state.inv_mass.clone(),
        accept_rate=state.accept_count.to(state.position.dtype) / n_sampling,
        mean_accept_prob=state.accept_prob_sum / n_sampling,
        mean_accept_prob_warmup=state.accept_prob_sum_warmup / n_warmup,
        divergences_warmup=state.divergences_warmup.clone(),
        divergences=state.divergences.clone(),
        n_gradients=state.n_gradients,
        n_gradients_warmup=state.n_gradients_warmup,
        potential=state.potential_trace.clone(),
        seconds_warmup=state.seconds_warmup,
        seconds_sampling=state.seconds_sampling,
        final_state=state,
    )
