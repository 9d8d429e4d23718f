"""The sampler loop: warm-up (adapting step size and inverse mass), then sampling, over C chains at once.

`sample` starts from initial positions (or resumes from a saved `SamplerState`), runs one kernel
transition per iteration, adapts during warm-up (deeplin.hmc.adaptation), counts acceptances and
divergences, records the potential of the kept draws, and calls its hooks after every iteration.

Sampling has a fixed length (`HMCConfig.samples`) or, given a stopping criterion, runs in blocks: the
criterion is asked after `samples` sampling iterations and then every `block` more, and the run stops at
the first block it accepts ("converged") or when `max_samples` are spent ("budget"). A block check is
part of the state (`checked_at`), so a run resumed from a checkpoint asks the same questions at the
same iterations and, the criterion being a function of the draws, stops where an uninterrupted run does.
The trajectory length is jittered per iteration, the same for every chain, so that the batch stays in
lockstep; its stream has a seed of its own (`jitter_seed`, default: derived from `seed`), so that runs that
share it can be sampled side by side in lockstep (deeplin.hmc.group) with the numbers of separate runs. Every per-chain quantity stays a device tensor; the only host-side random number (the
trajectory length) comes from a separate CPU generator, so a CUDA run synchronises inside an iteration
only where a hook reads a value (the progress line).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
from torch import Tensor

from .adaptation import (
    AdaptationState,
    DualAveragingState,
    MassMatrixState,
    WarmupStep,
    warmup_schedule,
    window_adaptation_final,
    window_adaptation_init,
    window_adaptation_update,
)
from .hooks import Hook, Progress
from .integrators import Integrator, PotentialAndGradFn, make_integrator
from .kernel import Generators, KernelState, TransitionInfo, init_kernel, jittered_steps, transition

log = logging.getLogger("deeplin.hmc")


@dataclass(frozen=True)
class HMCConfig:
    """Sampler settings: iteration counts, trajectory length and adaptation targets."""

    warmup: int
    samples: int  # sampling iterations (before the first block check); draws kept: ceil(samples / thin)
    leapfrog_steps: int = 16
    target_accept: float = 0.8
    jitter: float = 0.2  # trajectory length ~ round(U[(1−jitter)L, (1+jitter)L]) per iteration
    init_step_size: float = 0.1
    divergence_threshold: float = 1000.0
    thin: int = 1
    progress: bool | None = None  # None = a progress bar only when stderr is a TTY (else ~10 % log lines)
    max_samples: int | None = (
        None  # with a stopping criterion: the budget of sampling iterations (None: samples)
    )
    block: int = 100  # with a stopping criterion: sampling iterations between its checks

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
        if self.max_samples is not None and self.max_samples < self.samples:
            raise ValueError(f"max_samples ({self.max_samples}) must be >= samples ({self.samples})")
        if self.block < 1:
            raise ValueError("block must be >= 1")

    @property
    def plan(self) -> Plan:
        """The iteration schedule of these settings."""
        budget = self.samples if self.max_samples is None else self.max_samples
        return Plan(self.warmup, self.samples, self.thin, budget, self.block)

    @property
    def kept(self) -> int:
        """Number of draws kept after thinning by a fixed-length run."""
        return -(-self.samples // self.thin)


class Plan(NamedTuple):
    """The iteration schedule a state belongs to (a resumed run must have the same)."""

    warmup: int
    samples: int  # sampling iterations of a fixed-length run, or before the first block check
    thin: int
    max_samples: int = 0  # the budget of a run with a stopping criterion (0 or below samples: samples)
    block: int = 100  # sampling iterations between two checks of the criterion

    @property
    def budget(self) -> int:
        """The most sampling iterations a run can take."""
        return max(self.samples, self.max_samples)

    @property
    def total(self) -> int:
        """Warm-up plus the most sampling iterations."""
        return self.warmup + self.budget

    def check_due(self, sampled: int) -> bool:
        """Whether the criterion is asked after `sampled` sampling iterations: at samples, samples + block, …,
        and at the budget."""
        if sampled < self.samples or sampled > self.budget:
            return False
        return (sampled - self.samples) % self.block == 0 or sampled == self.budget

    def kept_index(self, iteration: int) -> int | None:
        """The index of the draw that iteration `iteration` (from 0) keeps, None if it keeps none."""
        done = iteration - self.warmup
        return done // self.thin if done >= 0 and done % self.thin == 0 else None


class RandomStreams(NamedTuple):
    """The run's two generators: momenta and acceptance uniforms on the device, trajectory lengths on the CPU."""

    device: torch.Generator
    jitter: torch.Generator

    @classmethod
    def from_seed(cls, seed: int, device: torch.device, jitter_seed: int | None = None) -> RandomStreams:
        """The device stream from `seed`, the trajectory lengths from `jitter_seed` (default: `seed`), the CPU
        one through an LCG step of its seed (Knuth's MMIX constants) so that equal seeds give unrelated streams."""
        generator = torch.Generator(device=device)
        generator.manual_seed(seed)
        jitter = torch.Generator()
        base = seed if jitter_seed is None else jitter_seed
        jitter.manual_seed((base * 6364136223846793005 + 1442695040888963407) % (1 << 63))
        return cls(generator, jitter)

    def state_dict(self) -> dict[str, Any]:
        """Generator states as CPU byte tensors, with the device type they belong to."""
        return {
            "device": self.device.get_state().clone(),
            "jitter": self.jitter.get_state().clone(),
            "device_type": self.device.device.type,
        }

    @classmethod
    def from_state_dict(cls, data: dict[str, Any], device: torch.device) -> RandomStreams:
        """The streams saved by `state_dict`, the device one on `device` (of the same type)."""
        if data["device_type"] != device.type:
            raise ValueError(
                f"the RNG state was saved on a {data['device_type']} device and cannot continue on "
                f"{device.type}; CPU and CUDA generators are different algorithms"
            )
        generator, jitter = torch.Generator(device=device), torch.Generator()
        generator.set_state(data["device"].cpu())
        jitter.set_state(data["jitter"].cpu())
        return cls(generator, jitter)


class Diagnostics(NamedTuple):
    """Per-chain counts of the run so far, warm-up and sampling apart, and what it cost."""

    accept_prob_sum_warmup: Tensor  # (C,)
    accept_prob_sum: Tensor  # (C,)
    accept_count: Tensor  # (C,) int64, sampling
    divergences_warmup: Tensor  # (C,) int64
    divergences: Tensor  # (C,) int64, sampling
    n_gradients: int  # gradient evaluations per chain (including the initial one)
    n_gradients_warmup: int  # of which the initial one and warm-up
    seconds_warmup: float
    seconds_sampling: float


class SamplerState(NamedTuple):
    """Everything needed to continue a run bitwise-identically; `state_dict()` is a snapshot of it.

    `potential_trace` is a buffer the driver fills in place; every other field is replaced, not changed.
    """

    iteration: int  # completed iterations, warm-up and sampling
    plan: Plan
    kernel: KernelState
    adaptation: AdaptationState
    diagnostics: Diagnostics
    potential_trace: Tensor  # (capacity, C) U of the kept draws (NaN where not yet sampled); grows by blocks
    rng: RandomStreams
    checked_at: int = -1  # sampling iterations at the last check of the stopping criterion (-1: none yet)
    blocks: int = 0  # checks of the stopping criterion so far
    stopped: str = ""  # why sampling ended: "" (running), "fixed", "converged" or "budget"

    @property
    def step_size(self) -> Tensor:
        """(C,) step size of the next transition."""
        return self.adaptation.step_size

    @property
    def inv_mass(self) -> Tensor:
        """(C, D) diagonal inverse mass of the next transition."""
        return self.adaptation.inv_mass

    @property
    def draws_kept(self) -> int:
        """Draws kept so far: ceil((sampling iterations done) / thin)."""
        return max(0, -(-(self.iteration - self.plan.warmup) // self.plan.thin))

    @property
    def kept_index(self) -> int | None:
        """The index of the draw kept by the last completed iteration, None if it kept none."""
        return self.plan.kept_index(self.iteration - 1)

    def state_dict(self) -> dict[str, Any]:
        """A detached copy as nested dicts of tensors and numbers (generator states as CPU byte tensors)."""
        return {
            "iteration": self.iteration,
            "plan": self.plan._asdict(),
            "kernel": _copy(self.kernel),
            "dual_averaging": _copy(self.adaptation.dual_averaging),
            "mass_matrix": _copy(self.adaptation.mass_matrix),
            "diagnostics": _copy(self.diagnostics),
            "potential_trace": self.potential_trace.detach().clone(),
            "rng": self.rng.state_dict(),
            "checked_at": self.checked_at,
            "blocks": self.blocks,
            "stopped": self.stopped,
        }

    @classmethod
    def from_state_dict(cls, data: dict[str, Any], device: torch.device | str | None = None) -> SamplerState:
        """Rebuild a state saved by `state_dict()` on `device` (default: where its tensors are)."""
        device = torch.device(device) if device is not None else data["kernel"]["position"].device
        rng = RandomStreams.from_state_dict(data["rng"], device)  # first: it refuses another device type
        adaptation = AdaptationState(
            _load(DualAveragingState, data["dual_averaging"], device),
            _load(MassMatrixState, data["mass_matrix"], device),
        )
        return cls(
            iteration=int(data["iteration"]),
            plan=Plan(**data["plan"]),
            kernel=_load(KernelState, data["kernel"], device),
            adaptation=adaptation,
            diagnostics=_load(Diagnostics, data["diagnostics"], device),
            potential_trace=data["potential_trace"].to(device).clone(),
            rng=rng,
            checked_at=int(data["checked_at"]),
            blocks=int(data["blocks"]),
            stopped=str(data["stopped"]),
        )


def _copy(record: NamedTuple) -> dict[str, Any]:
    return {k: v.detach().clone() if isinstance(v, Tensor) else v for k, v in record._asdict().items()}


def _load(cls: type, data: dict[str, Any], device: torch.device) -> Any:
    return cls(**{k: v.detach().to(device).clone() if isinstance(v, Tensor) else v for k, v in data.items()})


@dataclass
class HMCResult:
    """Per-chain adaptation results and diagnostics of a run; draws go to the caller's hooks."""

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
    final_state: SamplerState
    samples: int = 0  # sampling iterations run
    blocks: int = 0  # checks of the stopping criterion (0 without one)
    stopped: str = "fixed"  # "fixed" (no criterion), "converged" or "budget"


@torch.no_grad()
def init_sampler(
    init_position: Tensor,
    config: HMCConfig,
    seed: int,
    potential_and_grad_fn: PotentialAndGradFn,
    jitter_seed: int | None = None,
) -> SamplerState:
    """A fresh state at `init_position` (C, D), in its dtype and on its device: unit inverse mass, step size
    `config.init_step_size`, generators from `seed` and `jitter_seed` (`RandomStreams.from_seed`)."""
    kernel = init_kernel(init_position, potential_and_grad_fn)
    position = kernel.position
    chains = position.shape[0]
    step_size = torch.full((chains,), config.init_step_size, device=position.device, dtype=position.dtype)
    zeros = torch.zeros(chains, device=position.device, dtype=position.dtype)
    counts = torch.zeros(chains, device=position.device, dtype=torch.int64)
    diagnostics = Diagnostics(zeros, zeros.clone(), counts, counts.clone(), counts.clone(), 1, 1, 0.0, 0.0)
    return SamplerState(
        iteration=0,
        plan=config.plan,
        kernel=kernel,
        adaptation=window_adaptation_init(step_size, torch.ones_like(position)),
        diagnostics=diagnostics,
        potential_trace=torch.full(
            (config.kept, chains), math.nan, device=position.device, dtype=position.dtype
        ),
        rng=RandomStreams.from_seed(seed, position.device, jitter_seed),
    )


StopCriterion = Callable[["SamplerState"], bool]


def sample(
    potential_and_grad_fn: PotentialAndGradFn,
    init_position: Tensor,
    config: HMCConfig,
    seed: int,
    hooks: Sequence[Hook] = (),
    *,
    resume: SamplerState | None = None,
    trajectory: str = "auto",
    stop: StopCriterion | None = None,
    jitter_seed: int | None = None,
) -> HMCResult:
    """Warm-up then sampling for C chains from `init_position` (C, D), or continuing the state `resume`.

    `potential_and_grad_fn(θ) -> (U, ∇U)` (wrap a bare U with `autograd_potential_and_grad`). The run has
    the dtype and device of `init_position`. Each hook is called with the state after every iteration, in
    order, then a `Progress` display (`config.progress`). With `resume`, `init_position` and `seed` are
    ignored and the state's device, dtype and random streams are kept: the draws match an uninterrupted
    run. `trajectory` picks the integrator (see `make_integrator`). `jitter_seed` seeds the trajectory
    lengths (default: `seed`).

    Without `stop`, sampling runs `config.samples` iterations. With it, `stop(state)` is asked after the
    hooks of the iterations `Plan.check_due` names (True: the draws suffice) and sampling ends at the
    first True or at `config.max_samples`; it must depend only on the state and the draws (a resumed run
    must get the same answers). Blocks are whole iterations, so a run stopped after N sampling
    iterations has the draws of a fixed-length run of N.
    """
    plan = run_plan(config, stop is not None)
    if resume is None:
        state = init_sampler(init_position, config, seed, potential_and_grad_fn, jitter_seed)
        state = state._replace(plan=plan)
    else:
        check_plan(resume, plan)
        state = resume
    integrator = make_integrator(trajectory, potential_and_grad_fn, state.kernel.position)
    schedule = warmup_schedule(config.warmup)
    every_iteration = [*hooks, Progress(plan.total, state.iteration, config.progress)]
    with torch.no_grad():
        while not state.stopped:
            state = _check(state, stop)
            if state.stopped:
                break
            n_steps = jittered_steps(config.leapfrog_steps, config.jitter, state.rng.jitter)
            state = iterate(state, config, schedule, integrator, n_steps, state.rng.device)
            for hook in every_iteration:
                hook(state)
    if stop is not None:
        log.debug(
            "HMC: sampling stopped after %d iterations, %d block check(s): %s",
            state.iteration - plan.warmup,
            state.blocks,
            "the criterion passed" if state.stopped == "converged" else "the budget max_samples is spent",
        )
    return final_result(state)


def run_plan(config: HMCConfig, with_criterion: bool) -> Plan:
    """The schedule of a run of `config`, with or without a stopping criterion (without: a fixed length)."""
    return config.plan if with_criterion else config.plan._replace(max_samples=config.samples)


def check_plan(state: SamplerState, plan: Plan) -> None:
    """Refuse to resume a state that belongs to another schedule."""
    if state.plan != plan:
        raise ValueError(
            f"state belongs to warmup={state.plan.warmup}, samples={state.plan.samples}, "
            f"thin={state.plan.thin}, max_samples={state.plan.budget}, block={state.plan.block}; config "
            f"has {plan.warmup}, {plan.samples}, {plan.thin}, {plan.budget}, {plan.block}"
        )


def check_criterion(state: SamplerState, stop: StopCriterion | None) -> SamplerState:
    """Whether sampling ends before the next iteration (`_check`; public for deeplin.hmc.group)."""
    return _check(state, stop)


def _check(state: SamplerState, stop: StopCriterion | None) -> SamplerState:
    """Whether sampling ends before the next iteration: the fixed length is reached, or a due check of the
    criterion passes, or the budget is spent (each due check is asked once, even across a resume)."""
    plan, sampled = state.plan, state.iteration - state.plan.warmup
    if stop is None:
        return state._replace(stopped="fixed") if sampled >= plan.samples else state
    if not plan.check_due(sampled) or state.checked_at == sampled:
        return state
    state = state._replace(checked_at=sampled, blocks=state.blocks + 1)
    if stop(state):
        return state._replace(stopped="converged")
    if sampled >= plan.budget:
        return state._replace(stopped="budget")
    return state


def iterate(
    state: Any,
    config: HMCConfig,
    schedule: Sequence[WarmupStep],
    integrator: Integrator,
    n_steps: int,
    generator: Generators,
) -> Any:
    """One iteration of `n_steps` leapfrog steps: a transition, then the warm-up or sampling bookkeeping,
    timed (host clock). `state` is a `SamplerState`, or a deeplin.hmc.group.GroupState (the same fields
    over several points' chains, `generator` one per point)."""
    start = time.perf_counter()
    it = state.iteration
    kernel, info = transition(
        state.kernel,
        state.step_size,
        state.inv_mass,
        n_steps,
        integrator,
        generator,
        config.divergence_threshold,
    )
    if it < config.warmup:
        state = _after_warmup_transition(state, kernel, info, n_steps, config, schedule[it])
    else:
        state = _after_sampling_transition(state, kernel, info, n_steps)
    # A phase or a block ends (the criterion reads the draws on the host): honest wall-clock timings.
    ends = it + 1 == config.warmup or state.plan.check_due(it + 1 - config.warmup)
    if ends and kernel.position.device.type == "cuda":
        torch.cuda.synchronize(kernel.position.device)
    seconds = time.perf_counter() - start
    d = state.diagnostics
    if it < config.warmup:
        d = d._replace(seconds_warmup=d.seconds_warmup + seconds)
    else:
        d = d._replace(seconds_sampling=d.seconds_sampling + seconds)
    return state._replace(iteration=it + 1, diagnostics=d)


def _after_warmup_transition(
    state: SamplerState,
    kernel: KernelState,
    info: TransitionInfo,
    n_steps: int,
    config: HMCConfig,
    step: WarmupStep,
) -> SamplerState:
    """Count the warm-up transition and adapt; after the last one, fix the parameters for sampling."""
    d = state.diagnostics
    d = d._replace(
        accept_prob_sum_warmup=d.accept_prob_sum_warmup + info.accept_prob,
        divergences_warmup=d.divergences_warmup + info.divergent,
        n_gradients=d.n_gradients + n_steps,
        n_gradients_warmup=d.n_gradients_warmup + n_steps,
    )
    adaptation = window_adaptation_update(
        state.adaptation, step, kernel.position, info.accept_prob, config.target_accept
    )
    if state.iteration + 1 == config.warmup:
        adaptation = window_adaptation_final(adaptation)
    return state._replace(kernel=kernel, adaptation=adaptation, diagnostics=d)


def _after_sampling_transition(
    state: SamplerState, kernel: KernelState, info: TransitionInfo, n_steps: int
) -> SamplerState:
    """Count the sampling transition and record the potential of a kept draw."""
    d = state.diagnostics
    d = d._replace(
        accept_prob_sum=d.accept_prob_sum + info.accept_prob,
        accept_count=d.accept_count + info.accepted,
        divergences=d.divergences + info.divergent,
        n_gradients=d.n_gradients + n_steps,
    )
    index = state.plan.kept_index(state.iteration)
    if index is not None:
        trace = state.potential_trace
        if index >= trace.shape[0]:  # a new block: room for the whole budget's draws, at most twice as many
            budget_kept = -(-state.plan.budget // state.plan.thin)
            rows = min(max(2 * trace.shape[0], index + 1), budget_kept) - trace.shape[0]
            trace = torch.cat([trace, trace.new_full((rows, trace.shape[1]), math.nan)])
            state = state._replace(potential_trace=trace)
        trace[index] = kernel.potential
    return state._replace(kernel=kernel, diagnostics=d)


def final_result(state: SamplerState) -> HMCResult:
    """The run's adaptation results and diagnostics (means over the sampling or warm-up iterations)."""
    d = state.diagnostics
    sampled = max(state.iteration - state.plan.warmup, 0)
    n_sampling = max(sampled, 1)
    n_warmup = max(state.plan.warmup, 1)
    return HMCResult(
        step_size=state.step_size.clone(),
        inv_mass=state.inv_mass.clone(),
        accept_rate=d.accept_count.to(state.kernel.position.dtype) / n_sampling,
        mean_accept_prob=d.accept_prob_sum / n_sampling,
        mean_accept_prob_warmup=d.accept_prob_sum_warmup / n_warmup,
        divergences_warmup=d.divergences_warmup.clone(),
        divergences=d.divergences.clone(),
        n_gradients=d.n_gradients,
        n_gradients_warmup=d.n_gradients_warmup,
        potential=state.potential_trace[: state.draws_kept].clone(),
        seconds_warmup=d.seconds_warmup,
        seconds_sampling=d.seconds_sampling,
        final_state=state,
        samples=sampled,
        blocks=state.blocks,
        stopped=state.stopped or "fixed",
    )
