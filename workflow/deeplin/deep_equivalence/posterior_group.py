"""Several points of one cell (model, d0, α; its seeds) sampled in one job and one chain tensor
(`sampler.points_per_job`, docs/sampler.md, 'Grouped posterior jobs').

Each point keeps what makes its numbers: its data and posterior (evaluated on its own block of rows), its
device random streams, its adaptation and its stopping criterion; the trajectory lengths are the cell's
(deeplin.deep_equivalence.posterior.PointPosterior.jitter_seed). So every point's posterior.json and summary
equal those of a job of its own, bit for bit on a CPU (timings aside: `seconds` is the point's equal share of
the group's wall time, the warm-up and sampling times the group's). Retries run the failed points again as a
group of their own with the next attempt's settings; the checkpoint holds every point's state (as a lone job's
checkpoint would) and its draws. A point that fails all its attempts fails the job (with every point of the
group: a job's outputs are all or nothing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ..checkpoint import Checkpoint, PeriodicCheckpointer, load_checkpoint, remove_checkpoint
from ..config import section_hash
from ..diagnostics import verdict_thresholds
from ..hmc import NonFiniteStart, SamplerState
from ..hmc.driver import final_result
from ..hmc.group import GroupState, point_states, sample_group
from ..hmc.integrators import PotentialAndGradFn
from .posterior import (
    Attempt,
    Checkpointing,
    DrawBuffer,
    PointPosterior,
    SamplerFailure,
    attempt_from,
    checkpoint_fingerprint,
    converged,
    hmc_config,
    hmc_seed,
    initial_positions,
    load_posterior,
    log_outcome,
    posterior_record,
    sampling_problem,
    write_outputs,
)
from .settings import without_resources

log = logging.getLogger("deeplin.deep_equivalence.posterior")


def load_group(data_paths: Sequence[str], sampler: Mapping) -> list[PointPosterior]:
    """The points' posteriors; they must be of one cell (model, width, α) so that their shapes agree: seeds
    of the cell, or rungs (signal-to-noise ratios) of one mutual-information point, never the same twice."""
    points = [load_posterior(path, sampler) for path in data_paths]
    cells = {(p.meta["model_name"], p.meta["width"], p.meta["alpha"], p.posterior.dim) for p in points}
    if len(cells) != 1:
        raise ValueError(
            f"a posterior group holds the seeds of one (model, d0, alpha) cell, not {sorted(cells)}"
        )
    members = [(p.meta["seed"], p.meta.get("snr")) for p in points]
    if len(set(members)) != len(members):
        raise ValueError(f"a posterior group names a point twice: {[p.where for p in points]}")
    return points


def group_potential(points: Sequence[PointPosterior], chains: int) -> PotentialAndGradFn:
    """θ (P·C, D) ↦ (U, ∇U): each point's own posterior on its block of C rows (what it computes alone)."""
    fns = [p.posterior.potential_and_grad for p in points]

    def potential_and_grad(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        parts = [fn(block) for fn, block in zip(fns, theta.split(chains), strict=True)]
        return torch.cat([u for u, _ in parts]), torch.cat([g for _, g in parts])

    potential_and_grad.capturable = all(getattr(f, "capturable", True) for f in fns)  # type: ignore[attr-defined]
    return potential_and_grad


def group_fingerprint(points: Sequence[PointPosterior], sampler: Mapping) -> str:
    """What a resumable group checkpoint must share with this run: every point's fingerprint, in order."""
    return section_hash({"group": [checkpoint_fingerprint(p, sampler) for p in points]})


def _entry(attempt: int, state: SamplerState, draws: DrawBuffer) -> dict:
    """One point in a group checkpoint: its attempt, its state (as a lone job saves it) and its draws."""
    return {"attempt": attempt, "state": state.state_dict(), "draws": draws.first(state.draws_kept).cpu()}


def sample_group_attempt(
    points: Sequence[PointPosterior],
    members: Sequence[int],
    sampler: Mapping,
    attempt: int,
    thresholds: Mapping,
    checkpointing: Checkpointing,
    earlier: Mapping[int, dict],
    resumed: Mapping[int, dict] | None = None,
) -> dict[int, Attempt]:
    """Attempt ``attempt`` of the points ``members`` (indices into ``points``) side by side; the checkpoint
    also carries ``earlier`` (the entries of points finished by earlier attempts)."""
    config = hmc_config(sampler, attempt)
    group = [points[i] for i in members]
    chains = sampler["chains"]
    budget_kept = -(-config.plan.budget // config.thin)
    draws = []
    for point in group:
        buffer = DrawBuffer(config.kept, chains, point.draw_columns, point.dtype, point.device)
        buffer.reserve(budget_kept)
        draws.append(buffer)
    states = None
    if resumed is not None:
        states = []
        for k, i in enumerate(members):
            states.append(SamplerState.from_state_dict(resumed[i]["state"], group[k].device))
            for index, values in enumerate(resumed[i]["draws"].to(group[k].device)):
                draws[k].put(index, values)
        log.info(
            "posterior group: resumed from checkpoint %s at iteration %d (attempt %d)",
            checkpointing.path,
            max(s.iteration for s in states),
            attempt + 1,
        )
    for point in group:
        log.info(
            "posterior %s: %d chains x (%d warmup + %d samples, then blocks of %d up to %d until converged), "
            "D=%d, n=%d, %s %s, target_accept %.4g, in a group of %d",
            point.where,
            chains,
            config.warmup,
            config.samples,
            config.block,
            config.plan.budget,
            point.posterior.dim,
            point.data.x_train.shape[0],
            point.device,
            sampler["dtype"],
            config.target_accept,
            len(group),
        )

    def record(state: GroupState) -> None:
        index = state.kept_index
        if index is None:
            return
        for k, member in enumerate(state.members):
            point = group[member.point]
            draws[member.point].put(index, point.draw_values(state.kernel.position[state.rows(k)]))

    def snapshot(state: GroupState) -> Checkpoint:
        entries = dict(earlier)
        for k, point_state in enumerate(point_states(state)):
            entries[members[k]] = _entry(attempt, point_state, draws[k])
        return Checkpoint(attempt=attempt, state={"points": entries}, draws=torch.zeros(0))

    def stop_for(k: int):
        return lambda state: converged(group[k], thresholds, draws[k], state)

    saver = PeriodicCheckpointer(
        checkpointing.path, checkpointing.fingerprint, checkpointing.seconds, snapshot
    )
    try:
        results = sample_group(
            lambda active: group_potential([group[k] for k in active], chains),
            [initial_positions(point, chains) for point in group],
            config,
            [hmc_seed(point, attempt) for point in group],
            group[0].jitter_seed(attempt),
            [record, saver],
            resume=states,
            stops=[stop_for(k) for k in range(len(group))],
        )
    except NonFiniteStart as exc:  # bad data or a broken likelihood: no step size can help
        where = ", ".join(p.where for p in group)
        raise SamplerFailure(f"{where}: {exc}; no metrics written") from None
    return {
        i: attempt_from(attempt, config, results[k], draws[k], group[k].rao_blackwell)
        for k, i in enumerate(members)
    }


def _earlier_attempt(sampler: Mapping, entry: dict, point: PointPosterior) -> Attempt:
    """A point finished by an earlier attempt, rebuilt from its checkpoint entry."""
    state = SamplerState.from_state_dict(entry["state"], point.device)
    number = int(entry["attempt"])
    config, draws = hmc_config(sampler, number), entry["draws"].to(point.device)
    return attempt_from(number, config, final_result(state), draws, point.rao_blackwell)


def sample_group_with_retries(
    points: Sequence[PointPosterior], sampler: Mapping, checkpointing: Checkpointing, thresholds: Mapping
) -> list[Attempt]:
    """Every point's first attempt whose draws can be trusted (`sampling_problem`), the failed points of an
    attempt retried together; a matching group checkpoint is resumed. After ``divergence_retries`` failed
    retries of any point the checkpoint is deleted and SamplerFailure raised."""
    chains, retries = sampler["chains"], sampler["divergence_retries"]
    resumed = load_checkpoint(checkpointing.path, checkpointing.fingerprint) if checkpointing.path else None
    done: dict[int, Attempt] = {}
    earlier: dict[int, dict] = {}
    pending, first_attempt, entries = list(range(len(points))), 0, None
    if resumed is not None:
        first_attempt, entries = resumed.attempt, resumed.state["points"]
        for i, entry in entries.items():
            if int(entry["attempt"]) < first_attempt:
                earlier[i] = entry
                done[i] = _earlier_attempt(sampler, entry, points[i])
        pending = sorted(i for i, entry in entries.items() if int(entry["attempt"]) == first_attempt)
    problems: dict[int, str] = {}
    for attempt in range(first_attempt, retries + 1):
        resuming = entries if attempt == first_attempt else None
        runs = sample_group_attempt(
            points, pending, sampler, attempt, thresholds, checkpointing, earlier, resuming
        )
        problems = {}
        for i, run in runs.items():
            problem = sampling_problem(
                run.by_chain,
                run.potential,
                int(run.result.divergences.sum()),
                chains * run.result.samples,
                sampler["max_divergent_fraction"],
            )
            if problem is None:
                done[i] = run
                state = run.result.final_state
                earlier[i] = {"attempt": attempt, "state": state.state_dict(), "draws": _draws_of(run)}
            else:
                problems[i] = problem
                log.warning(
                    "posterior %s: attempt %d of %d failed: %s",
                    points[i].where,
                    attempt + 1,
                    retries + 1,
                    problem,
                )
        pending = sorted(problems)
        if not pending:
            return [done[i] for i in range(len(points))]
    remove_checkpoint(checkpointing.path)
    advice = "" if retries else "; set sampler.divergence_retries to retry with a smaller step size"
    failed = "; ".join(f"{points[i].where}: {problems[i]}" for i in pending)
    raise SamplerFailure(
        f"{failed} after {retries + 1} attempt(s){advice}; no metrics written for any point of the group"
    )


def _draws_of(run: Attempt) -> torch.Tensor:
    """A finished attempt's draws as a checkpoint holds them: (draws, chains, columns), float64 on the CPU,
    the conditional means after the predictions where the run has them (`PointPosterior.draw_values`)."""
    values = run.by_chain if run.conditional is None else np.concatenate([run.by_chain, run.conditional], -1)
    return torch.from_numpy(values).permute(1, 0, 2).contiguous()


def deep_posterior_group(
    data_paths: Sequence[str],
    settings: Mapping,
    outs: Sequence[str],
    draws_outs: Sequence[str] | None = None,
    checkpoint: str | None = None,
    checkpoint_seconds: float = 0.0,
) -> list[dict]:
    """`deeplin.deep_equivalence.posterior.deep_posterior` for the points ``data_paths`` of one cell in one
    chain tensor, writing point k's metrics to ``outs[k]`` and its summary to ``draws_outs[k]``."""
    if len(outs) != len(data_paths) or (draws_outs is not None and len(draws_outs) != len(data_paths)):
        raise ValueError(
            f"a posterior group needs one output per data file: {len(data_paths)} data files, {len(outs)} "
            f"metrics files, {len(draws_outs or [])} summaries"
        )
    sampler = without_resources("sampler", settings["sampler"])
    thresholds = verdict_thresholds(settings["analysis"])
    points = load_group(data_paths, sampler)
    checkpointing = Checkpointing(checkpoint, group_fingerprint(points, sampler), checkpoint_seconds)
    start = time.perf_counter()
    runs = sample_group_with_retries(points, sampler, checkpointing, thresholds)
    share = (time.perf_counter() - start) / len(points)  # each point's equal share of the group's wall time
    records = []
    for k, (point, run) in enumerate(zip(points, runs, strict=True)):
        metrics = posterior_record(point, sampler, thresholds, run, seconds=share)
        write_outputs(metrics, run, outs[k], draws_outs[k] if draws_outs else None, None)
        log_outcome(point.where, metrics, sampler["chains"] * run.result.samples, thresholds)
        records.append(metrics)
    remove_checkpoint(checkpoint)
    return records
