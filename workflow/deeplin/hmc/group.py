"""Several runs of one shape sampled side by side in one chain tensor, each with the numbers it has alone.

P points (e.g. the seeds of one simulation cell) with C chains of dimension D each are stacked into one
(P·C, D) kernel state. Everything per chain is elementwise, so it runs on the whole tensor and acts on each
row as it does on a lone run's (the leapfrog's updates, the acceptance, dual averaging, the mass matrix's
running moments). What is not elementwise stays per point: the potential (the caller evaluates each point
on its block of rows), the random streams (momenta and acceptance uniforms from each point's own device
generator, `kernel.transition` with one generator per point) and the stopping criterion (asked per point
at the iterations its plan names; a point that stops, or spends its budget, leaves the group and the others
go on). The one thing the points share is the trajectory length of each iteration: every point's jitter
stream must start from the same seed (`jitter_seed`), and each stays in step with the others (every active
point draws from its own copy), so a point's draws do not depend on which points share its run.

`sample_group` returns one `HMCResult` per point, equal to what `deeplin.hmc.sample` gives for that point
alone (timings aside: they are the group's). Its hooks see a `GroupState`; `point_states` gives the state
each point would have alone at that iteration (a finished point: its final state), which is what a
checkpoint saves and what `sample_group(resume=...)` continues from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import Tensor

from .adaptation import AdaptationState, warmup_schedule
from .driver import (
    Diagnostics,
    HMCConfig,
    HMCResult,
    Plan,
    RandomStreams,
    SamplerState,
    StopCriterion,
    check_criterion,
    check_plan,
    final_result,
    init_sampler,
    iterate,
    run_plan,
)
from .hooks import Progress
from .integrators import PotentialAndGradFn, make_integrator
from .kernel import KernelState, jittered_steps

# The potential of the active points, in chain order: points (indices into the group) -> θ ↦ (U, ∇U).
GroupPotential = Callable[[tuple[int, ...]], PotentialAndGradFn]
GroupHook = Callable[["GroupState"], None]


class Member(NamedTuple):
    """An active point: its index in the group, its random streams and its criterion's bookkeeping."""

    point: int
    rng: RandomStreams
    checked_at: int
    blocks: int


class GroupState(NamedTuple):
    """The active points' chains side by side (the `SamplerState` fields over P'·C chains), and the points.

    `finished` holds, per point of the group, its final `SamplerState` once it has left (None while active).
    """

    iteration: int
    plan: Plan
    kernel: KernelState
    adaptation: AdaptationState
    diagnostics: Diagnostics
    potential_trace: Tensor  # (capacity, P'·C)
    members: tuple[Member, ...]
    finished: tuple[SamplerState | None, ...]

    @property
    def step_size(self) -> Tensor:
        """(P'·C,) step sizes of the next transition."""
        return self.adaptation.step_size

    @property
    def inv_mass(self) -> Tensor:
        """(P'·C, D) diagonal inverse masses of the next transition."""
        return self.adaptation.inv_mass

    @property
    def chains(self) -> int:
        """Chains per point."""
        return self.kernel.position.shape[0] // max(len(self.members), 1)

    @property
    def points(self) -> tuple[int, ...]:
        """The active points, in chain order."""
        return tuple(m.point for m in self.members)

    @property
    def kept_index(self) -> int | None:
        """The index of the draw kept by the last completed iteration, None if it kept none."""
        return self.plan.kept_index(self.iteration - 1)

    @property
    def draws_kept(self) -> int:
        """Draws kept so far by the active points."""
        return max(0, -(-(self.iteration - self.plan.warmup) // self.plan.thin))

    def rows(self, k: int) -> slice:
        """The chains of the k-th active member."""
        return slice(k * self.chains, (k + 1) * self.chains)


def _slice(record: NamedTuple, rows: slice, columns: bool = False) -> NamedTuple:
    """A record's per-chain tensors restricted to `rows` (dim 0, or dim 1 with `columns`), numbers as they are."""

    def cut(value: object) -> object:
        if not isinstance(value, Tensor):
            return value
        return value[:, rows] if columns else value[rows]

    return type(record)(*(cut(v) for v in record))


def member_state(group: GroupState, k: int) -> SamplerState:
    """The k-th active member as the `SamplerState` it would have alone (views of the group's tensors)."""
    rows, member = group.rows(k), group.members[k]
    return SamplerState(
        iteration=group.iteration,
        plan=group.plan,
        kernel=_slice(group.kernel, rows),
        adaptation=AdaptationState(
            _slice(group.adaptation.dual_averaging, rows), _slice(group.adaptation.mass_matrix, rows)
        ),
        diagnostics=_slice(group.diagnostics, rows),
        potential_trace=group.potential_trace[:, rows],
        rng=member.rng,
        checked_at=member.checked_at,
        blocks=member.blocks,
    )


def point_states(group: GroupState) -> list[SamplerState]:
    """Every point's state: an active one as it would be alone now, a finished one as it ended."""
    active = {m.point: k for k, m in enumerate(group.members)}
    return [member_state(group, active[p]) if done is None else done for p, done in enumerate(group.finished)]


def _clone(state: SamplerState) -> SamplerState:
    """A state with its own copies of the tensors (a point leaving the group keeps them)."""
    return SamplerState.from_state_dict(state.state_dict(), state.kernel.position.device)


def _cat(records: Sequence[NamedTuple], dim: int = 0) -> NamedTuple:
    """Per-chain tensors concatenated; numbers must agree (the points are in lockstep)."""
    fields = []
    for values in zip(*records, strict=True):
        if isinstance(values[0], Tensor):
            fields.append(torch.cat(values, dim))
        else:
            fields.append(values[0])
    return type(records[0])(*fields)


def join(
    states: Sequence[SamplerState], points: Sequence[int], finished: Sequence[SamplerState | None]
) -> GroupState:
    """Stack the running states of `points` (same iteration, plan and shapes; one jitter stream state)."""
    first = states[0]
    for state in states[1:]:
        lockstep = (
            state.iteration == first.iteration
            and state.plan == first.plan
            and state.kernel.position.shape == first.kernel.position.shape
            and state.potential_trace.shape == first.potential_trace.shape
            and state.diagnostics.n_gradients == first.diagnostics.n_gradients
            and torch.equal(state.rng.jitter.get_state(), first.rng.jitter.get_state())
        )
        if not lockstep:
            raise ValueError(
                "the points of a group must share the iteration, the schedule, the shapes and the "
                "trajectory-length stream (jitter_seed)"
            )
    diagnostics = _cat([s.diagnostics for s in states])
    seconds = (
        max(s.diagnostics.seconds_warmup for s in states),
        max(s.diagnostics.seconds_sampling for s in states),
    )
    diagnostics = diagnostics._replace(seconds_warmup=seconds[0], seconds_sampling=seconds[1])
    adaptation = AdaptationState(
        _cat([s.adaptation.dual_averaging for s in states]), _cat([s.adaptation.mass_matrix for s in states])
    )
    return GroupState(
        iteration=first.iteration,
        plan=first.plan,
        kernel=_cat([s.kernel for s in states]),
        adaptation=adaptation,
        diagnostics=diagnostics,
        potential_trace=torch.cat([s.potential_trace for s in states], 1),
        members=tuple(Member(p, s.rng, s.checked_at, s.blocks) for p, s in zip(points, states, strict=True)),
        finished=tuple(finished),
    )


def _leave(group: GroupState, leaving: dict[int, SamplerState]) -> GroupState:
    """The group without the members in `leaving` (member index -> its final state)."""
    finished = list(group.finished)
    for k, state in leaving.items():
        finished[group.members[k].point] = _clone(state)
    staying = [k for k in range(len(group.members)) if k not in leaving]
    if not staying:
        return group._replace(members=(), finished=tuple(finished))
    states = [member_state(group, k) for k in staying]
    return join(states, [group.members[k].point for k in staying], finished)


def _check_members(group: GroupState, stops: Sequence[StopCriterion | None]) -> GroupState:
    """Ask each active point's criterion where its plan says so; points that stop leave the group."""
    sampled = group.iteration - group.plan.warmup
    due = sampled >= group.plan.samples if stops[0] is None else group.plan.check_due(sampled)
    if not due:
        return group
    members, leaving = list(group.members), {}
    for k, member in enumerate(group.members):
        state = check_criterion(member_state(group, k), stops[member.point])
        members[k] = member._replace(checked_at=state.checked_at, blocks=state.blocks)
        if state.stopped:
            leaving[k] = state
    group = group._replace(members=tuple(members))
    return _leave(group, leaving) if leaving else group


def _shared_steps(group: GroupState, config: HMCConfig) -> int:
    """This iteration's trajectory length, drawn from every active point's jitter stream (all equal)."""
    steps = {jittered_steps(config.leapfrog_steps, config.jitter, m.rng.jitter) for m in group.members}
    if len(steps) != 1:
        raise RuntimeError(f"the points' trajectory-length streams disagree ({sorted(steps)})")
    return steps.pop()


def sample_group(
    potential_for: GroupPotential,
    init_positions: Sequence[Tensor],
    config: HMCConfig,
    seeds: Sequence[int],
    jitter_seed: int,
    hooks: Sequence[GroupHook] = (),
    *,
    resume: Sequence[SamplerState] | None = None,
    trajectory: str = "auto",
    stops: Sequence[StopCriterion] | None = None,
) -> list[HMCResult]:
    """`deeplin.hmc.sample` for P points at once: point k from `init_positions[k]` (C, D) with device seed
    `seeds[k]`, all with trajectory lengths from `jitter_seed`, each stopped by `stops[k]` (None: fixed
    length). `potential_for(points)` is the potential of those points' chains stacked in that order.

    With `resume` (one state per point, as `point_states` gave them), the inits and seeds are ignored. Each
    hook is called with the `GroupState` after every iteration, then a `Progress` display.
    """
    count = len(resume) if resume is not None else len(init_positions)
    criteria: list[StopCriterion | None] = list(stops) if stops is not None else [None] * count
    plan = run_plan(config, stops is not None)
    if resume is None:
        states = [
            init_sampler(x, config, seed, potential_for((k,)), jitter_seed)._replace(plan=plan)
            for k, (x, seed) in enumerate(zip(init_positions, seeds, strict=True))
        ]
    else:
        states = list(resume)
        for state in states:
            check_plan(state, plan)
    running = [k for k, s in enumerate(states) if not s.stopped]
    finished = [None if not s.stopped else s for s in states]
    if not running:
        return [final_result(s) for s in states]
    group = join([states[k] for k in running], running, finished)
    schedule = warmup_schedule(config.warmup)
    progress = Progress(plan.total, group.iteration, config.progress)
    integrator, integrated = None, ()
    with torch.no_grad():
        while True:
            group = _check_members(group, criteria)
            if not group.members:
                break
            if group.points != integrated:  # a point left: the chain tensor has new rows
                integrated = group.points
                integrator = make_integrator(trajectory, potential_for(integrated), group.kernel.position)
            n_steps = _shared_steps(group, config)
            generators = [m.rng.device for m in group.members]
            group = iterate(group, config, schedule, integrator, n_steps, generators)
            for hook in [*hooks, progress]:
                hook(group)
    return [final_result(s) for s in group.finished]  # type: ignore[arg-type]
