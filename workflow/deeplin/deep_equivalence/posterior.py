"""The deep student's posterior at one simulation point (docs/deep_equivalence.md, 'Finite-size simulations'):
batched HMC from teacher- and prior-started chains, the point's error estimates and diagnostics, and its one
diagnostics verdict.

`deep_posterior` is the step; it reads the point (`load_posterior`), starts the chains (`initial_positions`),
samples with retries (`sample_with_retries`, each attempt `sample_attempt` with checkpoint and resume),
builds the record (`posterior_record`) and writes it (`write_outputs`). Sampling stops by the convergence
part of the point's verdict (`converged`, deeplin.diagnostics.convergence_failures), checked after
`sampler.samples` iterations and then every `sampler.block_samples`, or when `sampler.max_samples` are spent.
The trajectory lengths come from the point's cell (`jitter_seed`), so that the seeds of a cell can also be
sampled side by side with the same numbers (deeplin.deep_equivalence.posterior_group).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from ..checkpoint import Checkpoint, PeriodicCheckpointer, load_checkpoint, remove_checkpoint
from ..config import section_hash
from ..devices import resolve_device
from ..diagnostics import convergence_failures, failed_checks, verdict_line, verdict_thresholds
from ..hmc import HMCConfig, HMCResult, NonFiniteStart, SamplerState, on_draw, sample
from ..io import PROVENANCE_KEY, atomic_write, provenance, provenance_entry, write_json
from ..seeding import derived_seed
from .data import load_point
from .deep_model import DeepPosterior
from .posterior_metrics import (
    chain_diagnostics,
    convergence_metrics,
    prediction_metrics,
    rao_blackwell_metrics,
)
from .rao_blackwell import predictions_and_conditional_means
from .settings import without_resources
from .teacher import PointData, point_seed
from .theory import theory_curve

log = logging.getLogger("deeplin.deep_equivalence.posterior")

DTYPES = {"float64": torch.float64, "float32": torch.float32}


def theory_at(model: dict, alpha: float) -> dict:
    """The asymptotic GLM theory at this α (Barbier et al. 2019), for comparison in the point's metrics."""
    _, rows = theory_curve(model["activation"], model["depth"], model["readout"], model["noise"], [alpha])
    return {
        "theory_q": rows[0]["q"],
        "theory_error": rows[0]["error"],
        "theory_error_noisy": rows[0]["error_noisy"],
    }


class SamplerFailure(RuntimeError):
    """A posterior run diverged or went non-finite: its job fails and writes no metric."""


def retry_target_accept(target: float, attempt: int) -> float:
    """Attempt k aims at 1 − (1 − target)/2^k: a higher acceptance target makes dual averaging pick a smaller step."""
    return 1.0 - (1.0 - target) / 2**attempt


def sampling_problem(
    by_chain: np.ndarray, potential: np.ndarray, divergences: int, transitions: int, max_fraction: float
) -> str | None:
    """Why a run's draws cannot be trusted (non-finite values, too many divergences), or None if they can."""
    bad = ~np.isfinite(by_chain).all(axis=(1, 2)) | ~np.isfinite(potential).all(axis=1)
    if bad.any():
        return f"non-finite predictions or potentials in chain(s) {np.flatnonzero(bad).tolist()}"
    if transitions and divergences / transitions > max_fraction:
        return (
            f"{divergences} of {transitions} sampling transitions ({100 * divergences / transitions:.1f} %) "
            f"diverged (energy error > 1000 or non-finite), above sampler.max_divergent_fraction = "
            f"{max_fraction:g}"
        )
    return None


# --- the point's posterior ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PointPosterior:
    """One point's data and its deep posterior on the sampling device."""

    data: PointData
    meta: dict
    where: str  # the point, as log lines and errors name it
    device: torch.device
    dtype: torch.dtype
    posterior: DeepPosterior
    x_test: torch.Tensor

    @property
    def rao_blackwell(self) -> bool:
        """Whether a kept draw also stores the conditional means of its test predictions given the hidden
        weights (the linear readout, whose conditional is Gaussian: deeplin.deep_equivalence.rao_blackwell)."""
        return self.posterior.readout.name == "linear"

    @property
    def draw_columns(self) -> int:
        """Values a kept draw stores per chain: the test predictions, then (`rao_blackwell`) their
        conditional means."""
        return self.x_test.shape[0] * (2 if self.rao_blackwell else 1)

    def draw_values(self, position: torch.Tensor) -> torch.Tensor:
        """What the kept draw at `position` (C, D) stores: (C, `draw_columns`)."""
        with torch.no_grad():
            if self.rao_blackwell:
                return predictions_and_conditional_means(self.posterior, position, self.x_test).flatten(1)
            return self.posterior.predict(position, self.x_test)

    def seed(self, purpose: str) -> int:
        """The point's seed for one random stream (deeplin.deep_equivalence.teacher.point_seed)."""
        meta = self.meta
        return point_seed(meta["model_name"], meta["width"], meta["alpha"], meta["seed"], purpose)

    def jitter_seed(self, attempt: int) -> int:
        """The seed of the trajectory lengths of attempt ``attempt``: the cell's (model, d0, α), not the point's,
        so that every seed of a cell jitters alike and can share a chain tensor (deeplin.hmc.group). Like the
        point's other streams it does not depend on the sampler settings (a run stopped by the criterion after
        N iterations keeps the draws of a fixed run of N)."""
        meta = self.meta
        purpose = "hmc-jitter" if attempt == 0 else f"hmc-jitter-retry{attempt}"
        return derived_seed(
            meta["model_name"], f"d0={int(meta['width'])}", f"alpha={float(meta['alpha'])!r}", purpose
        )


def load_posterior(data_path: str, sampler: Mapping) -> PointPosterior:
    """Read the point and build its posterior on the device and in the dtype of ``sampler``."""
    data, meta = load_point(data_path)
    model = meta["model"]
    device = resolve_device(sampler["device"])
    dtype = DTYPES[sampler["dtype"]]
    widths = [meta["width"], *meta["hidden_widths"]]
    posterior = DeepPosterior(
        data.x_train,
        data.y_train,
        widths,
        model["activation"],
        model["readout"],
        model["noise"],
        device,
        dtype,
    )
    where = f"{meta['model_name']} d0={meta['width']} alpha={meta['alpha']:g} seed={meta['seed']}"
    if "snr" in meta:  # a rung of the mutual-information ladder: the label of its folder (repr of s)
        where += f" snr={float(meta['snr'])!r}"
    x_test = torch.as_tensor(data.x_test, dtype=dtype, device=device)
    return PointPosterior(data, meta, where, device, dtype, posterior, x_test)


def teacher_chains(chains: int) -> int:
    """How many of the chains start at the teacher (the first half); the others start from the prior."""
    return chains // 2


def initial_positions(point: PointPosterior, chains: int) -> torch.Tensor:
    """(chains, D) starts: the teacher, an exact posterior sample by the Nishimori identity, for the first
    half (docs/deep_equivalence.md), prior draws from the point's "posterior-init" stream for the rest."""
    half = teacher_chains(chains)
    init_rng = torch.Generator().manual_seed(point.seed("posterior-init"))
    from_prior = torch.randn(chains - half, point.posterior.dim, generator=init_rng, dtype=point.dtype)
    teacher = point.posterior.flatten(point.data.weights, point.data.readout_weights)
    return torch.cat([teacher.expand(half, -1), from_prior.to(point.device)])


# --- sampling: one attempt, and the retries ------------------------------------------------------------


def hmc_config(sampler: Mapping, attempt: int) -> HMCConfig:
    """The sampler settings of attempt ``attempt`` (0 = the first): each retry aims at a higher acceptance.

    The budget is max(samples, max_samples): a max_samples at or below samples gives a fixed length.
    """
    samples = sampler["samples"]
    return HMCConfig(
        warmup=sampler["warmup"],
        samples=samples,
        leapfrog_steps=sampler["leapfrog_steps"],
        target_accept=retry_target_accept(sampler["target_accept"], attempt),
        thin=sampler["thin"],
        max_samples=max(samples, sampler.get("max_samples", samples)),
        block=sampler.get("block_samples", 100),
    )


class DrawBuffer:
    """The kept draws' test predictions, (capacity, chains, test points), grown block by block up to the
    budget (so a point that converges early never holds the budget's memory)."""

    def __init__(self, capacity: int, chains: int, points: int, dtype: torch.dtype, device: torch.device):
        self.data = torch.empty((capacity, chains, points), dtype=dtype, device=device)
        self.budget = capacity

    def reserve(self, budget: int) -> None:
        """Allow growth up to ``budget`` draws."""
        self.budget = max(self.budget, budget)

    def put(self, index: int, values: torch.Tensor) -> None:
        """Store draw ``index``, doubling the buffer (at most to the budget) when it is full."""
        if index >= self.data.shape[0]:
            rows = min(max(2 * self.data.shape[0], index + 1), self.budget)
            grown = self.data.new_empty((rows, *self.data.shape[1:]))
            grown[: self.data.shape[0]] = self.data
            self.data = grown
        self.data[index] = values

    def first(self, count: int) -> torch.Tensor:
        """The first ``count`` draws (a view)."""
        return self.data[:count]


class Checkpointing(NamedTuple):
    """Where and how often a job saves its chains (path None or seconds 0: never), and the run's fingerprint."""

    path: str | None
    fingerprint: str
    seconds: float


def checkpoint_fingerprint(point: PointPosterior, sampler: Mapping) -> str:
    """What a resumable checkpoint must share with this run: the data, the device type and the sampler
    settings that change numbers (the device setting itself aside: `auto` and `cpu` may sample alike)."""
    settings = {key: value for key, value in sampler.items() if key != "device"}
    return section_hash(
        {
            "data": point.meta["provenance"]["config_hash"],
            "device": point.device.type,
            "sampler": settings,
            "draw_columns": point.draw_columns,  # a checkpoint of draws without conditional means is not resumed
        }
    )


@dataclass
class Attempt:
    """One finished sampling attempt: its number (from 0), settings, HMC result and draws."""

    number: int
    config: HMCConfig
    result: HMCResult
    by_chain: np.ndarray  # (chains, draws, test points) predictions, float64
    potential: np.ndarray  # (chains, draws) U of the draws, float64
    conditional: np.ndarray | None = None  # (chains, draws, test points) their conditional means, or None


def converged(point: PointPosterior, thresholds: Mapping, draws: DrawBuffer, state: SamplerState) -> bool:
    """The stopping criterion: the convergence checks of the point's verdict pass on the draws so far
    (deeplin.diagnostics.convergence_failures, on deeplin.deep_equivalence.posterior_metrics.convergence_metrics).
    Logs one line per block: the draws, the diagnostics and the decision."""
    kept = state.draws_kept
    predictions = draws.first(kept)[..., : point.x_test.shape[0]]  # the conditional means are not diagnosed
    by_chain = predictions.permute(1, 0, 2).double().cpu().numpy()
    potential = state.potential_trace[:kept].T.double().cpu().numpy()
    metrics = convergence_metrics(by_chain, potential)
    failed = convergence_failures(metrics, thresholds)
    log.info(
        "posterior %s: block %d after %d sampling iterations (%d draws per chain): max R-hat %.4f, R-hat <= "
        "1.01 on %.1f %% of test predictions, potential R-hat %.4f, median bulk ESS %.0f: %s",
        point.where,
        state.blocks,
        state.iteration - state.plan.warmup,
        kept,
        metrics["rhat_max"],
        100 * metrics["rhat_fraction_ok"],
        metrics["potential_rhat"],
        metrics["ess_bulk_median"],
        "converged, stop" if not failed else "continue (" + "; ".join(failed) + ")",
    )
    return not failed


def attempt_from(
    number: int,
    config: HMCConfig,
    result: HMCResult,
    draws: DrawBuffer | torch.Tensor,
    rao_blackwell: bool,
) -> Attempt:
    """The finished attempt: its draws' test predictions (chains, draws, test points), their conditional
    means where the draws hold them (`PointPosterior.draw_values`), and potentials, float64."""
    kept = result.potential.shape[0]
    values = draws.first(kept) if isinstance(draws, DrawBuffer) else draws[:kept]
    by_chain = values.permute(1, 0, 2).double().cpu().numpy()
    conditional = None
    if rao_blackwell:
        by_chain, conditional = np.split(by_chain, 2, axis=-1)
    potential = result.potential.T.double().cpu().numpy()
    return Attempt(number, config, result, by_chain, potential, conditional)


def hmc_seed(point: PointPosterior, attempt: int) -> int:
    """The seed of the device stream (momenta, acceptance uniforms) of attempt ``attempt``: the point's own."""
    return point.seed("hmc" if attempt == 0 else f"hmc-retry{attempt}")


def sample_attempt(
    point: PointPosterior,
    sampler: Mapping,
    attempt: int,
    init: torch.Tensor,
    checkpointing: Checkpointing,
    resumed: Checkpoint | None = None,
    thresholds: Mapping | None = None,
) -> Attempt:
    """Run attempt ``attempt`` from ``init``, or continue it from ``resumed``; checkpoint it as it goes.

    With ``thresholds`` (the verdict's), sampling stops by the criterion `converged`; without, it has the
    fixed length ``sampler["samples"]``.
    """
    config = hmc_config(sampler, attempt)
    chains = init.shape[0]
    budget = config.plan.budget if thresholds is not None else config.samples
    draws = DrawBuffer(config.kept, chains, point.draw_columns, point.dtype, point.device)
    draws.reserve(-(-budget // config.thin))
    state = None
    if resumed is not None:
        state = SamplerState.from_state_dict(resumed.state, point.device)
        for index, values in enumerate(resumed.draws.to(point.device)):
            draws.put(index, values)
        log.info(
            "posterior %s: resumed from checkpoint %s at iteration %d (attempt %d)",
            point.where,
            checkpointing.path,
            state.iteration,
            attempt + 1,
        )
    log.info(
        "posterior %s: %d chains x (%d warmup + %d samples%s), D=%d, n=%d, %s %s, target_accept %.4g",
        point.where,
        chains,
        config.warmup,
        config.samples,
        f", then blocks of {config.block} up to {budget} until converged" if budget > config.samples else "",
        point.posterior.dim,
        point.data.x_train.shape[0],
        point.device,
        sampler["dtype"],
        config.target_accept,
    )

    def record(index: int, position: torch.Tensor) -> None:
        draws.put(index, point.draw_values(position))

    def snapshot(state: SamplerState) -> Checkpoint:
        return Checkpoint(
            attempt=attempt, state=state.state_dict(), draws=draws.first(state.draws_kept).cpu()
        )

    def stop(state: SamplerState) -> bool:
        return converged(point, thresholds, draws, state)

    saver = PeriodicCheckpointer(
        checkpointing.path, checkpointing.fingerprint, checkpointing.seconds, snapshot
    )
    try:
        result = sample(
            point.posterior.potential_and_grad,
            init,
            config,
            hmc_seed(point, attempt),
            [on_draw(record), saver],
            resume=state,
            stop=stop if thresholds is not None else None,
            jitter_seed=point.jitter_seed(attempt),
        )
    except NonFiniteStart as exc:  # bad data or a broken likelihood: no step size can help
        raise SamplerFailure(f"{point.where}: {exc}; no metrics written") from None
    return attempt_from(attempt, config, result, draws, point.rao_blackwell)


def sample_with_retries(
    point: PointPosterior, sampler: Mapping, checkpointing: Checkpointing, thresholds: Mapping | None = None
) -> Attempt:
    """The first attempt whose draws can be trusted (`sampling_problem`); a matching checkpoint is resumed.
    With ``thresholds``, each attempt samples until the verdict's convergence checks pass (`sample_attempt`).

    After ``sampler["divergence_retries"]`` failed retries the checkpoint is deleted and SamplerFailure raised.
    """
    chains, retries = sampler["chains"], sampler["divergence_retries"]
    init = initial_positions(point, chains)
    resumed = load_checkpoint(checkpointing.path, checkpointing.fingerprint) if checkpointing.path else None
    first_attempt = resumed.attempt if resumed else 0
    problem = None
    for attempt in range(first_attempt, retries + 1):
        resuming = resumed if attempt == first_attempt else None
        run = sample_attempt(point, sampler, attempt, init, checkpointing, resuming, thresholds)
        problem = sampling_problem(
            run.by_chain,
            run.potential,
            int(run.result.divergences.sum()),
            chains * run.result.samples,
            sampler["max_divergent_fraction"],
        )
        if problem is None:
            return run
        log.warning(
            "posterior %s: attempt %d of %d failed: %s", point.where, attempt + 1, retries + 1, problem
        )
    # a finished, failed run: a rerun with other settings starts afresh anyway
    remove_checkpoint(checkpointing.path)
    advice = "" if retries else "; set sampler.divergence_retries to retry with a smaller step size"
    raise SamplerFailure(
        f"{point.where}: {problem} after {retries + 1} attempt(s){advice}; no metrics written"
    )


# --- the record and the files ---------------------------------------------------------------------------


def posterior_record(
    point: PointPosterior, sampler: Mapping, thresholds: Mapping, run: Attempt, seconds: float
) -> dict:
    """The point's estimates, sampler diagnostics, verdict, theory and provenance (posterior.json)."""
    model, result, chains = point.meta["model"], run.result, sampler["chains"]
    metrics = {
        "point": point.where,
        "device": str(point.device),
        "dtype": sampler["dtype"],
        "chains": chains,
        "draws_per_chain": run.by_chain.shape[1],
        "samples_per_chain": result.samples,
        "blocks": result.blocks,
        "stopped": result.stopped,
        "attempts": run.number + 1,
        "target_accept_used": run.config.target_accept,
    }
    sign = model["readout"] == "sign"
    metrics.update(
        prediction_metrics(
            run.by_chain, point.data.clean_test, point.data.y_test, sign, teacher_chains(chains)
        )
    )
    if run.conditional is not None:
        metrics.update(rao_blackwell_metrics(run.by_chain, run.conditional, point.data.clean_test))
    metrics.update(chain_diagnostics(run.potential))
    metrics.update(
        accept_rate=float(result.accept_rate.mean()),
        accept_rate_min=float(result.accept_rate.min()),
        step_size_median=float(result.step_size.median()),
        step_sizes=[float(s) for s in result.step_size.cpu()],
        divergences=int(result.divergences.sum()),
        divergences_warmup=int(result.divergences_warmup.sum()),
        n_gradients=int(result.n_gradients),
        seconds=seconds,
        seconds_warmup=float(result.seconds_warmup),
        seconds_sampling=float(result.seconds_sampling),
    )
    # The point's one verdict (deeplin.diagnostics): every table, figure and check reads these two fields.
    flagged_by = failed_checks(metrics, thresholds)
    metrics.update(
        flagged_by=";".join(flagged_by), passes_diagnostics=not flagged_by, verdict_thresholds=thresholds
    )
    metrics.update(theory_at(model, point.meta["alpha"]))
    config_hash = section_hash(
        {"data": point.meta["provenance"]["config_hash"], "sampler": sampler, "verdict": thresholds}
    )
    metrics["provenance"] = provenance(config_hash, device=str(point.device))
    return metrics


def write_outputs(
    metrics: dict, run: Attempt, out: str, draws_out: str | None, checkpoint: str | None
) -> None:
    """The posterior summary npz (optional), then the metrics JSON (the job's sign of completion); then the
    checkpoint goes."""
    if draws_out:
        pooled = run.by_chain.reshape(-1, run.by_chain.shape[-1])
        mean, var = pooled.mean(axis=0), pooled.var(axis=0, ddof=1)
        arrays = {"posterior_mean": mean, "posterior_variance": var}
        if run.conditional is not None:  # the Rao–Blackwellised posterior mean (linear readout)
            arrays["posterior_mean_rb"] = run.conditional.reshape(-1, mean.shape[0]).mean(axis=0)
        with atomic_write(draws_out, "wb") as handle:
            np.savez_compressed(handle, **arrays, **{PROVENANCE_KEY: provenance_entry(metrics["provenance"])})
    write_json(out, metrics)
    remove_checkpoint(checkpoint)


def log_outcome(where: str, metrics: Mapping, transitions: int, thresholds: Mapping) -> None:
    """The job's last log lines: why sampling stopped, phase costs, the error estimates, the verdict."""
    reasons = {
        "converged": "the convergence checks passed",
        "budget": "the budget sampler.max_samples was spent before the convergence checks passed",
        "fixed": "fixed length",
    }
    log.info(
        "posterior %s: sampling stopped after %d iterations per chain and %d block check(s): %s",
        where,
        metrics["samples_per_chain"],
        metrics["blocks"],
        reasons.get(metrics["stopped"], metrics["stopped"]),
    )
    log.info(
        "posterior %s: warm-up %.1f s (%d divergent transitions, not counted against the run), sampling "
        "%.1f s (%d divergent of %d transitions), %d gradients in all",
        where,
        metrics["seconds_warmup"],
        metrics["divergences_warmup"],
        metrics["seconds_sampling"],
        metrics["divergences"],
        transitions,
        metrics["n_gradients"],
    )
    rao_blackwell = ""
    if "error_rb_corrected" in metrics:
        rao_blackwell = (
            f", Rao-Blackwellised {metrics['error_rb_corrected']:.4g} with draw bias "
            f"{metrics['draw_bias_rb']:.3g} against {metrics['draw_bias']:.3g}"
        )
    log.info(
        "posterior %s: error %.4g (corrected %.4g, Nishimori %.4g, theory %.4g%s), %.1f s",
        where,
        metrics["error_raw"],
        metrics["error_corrected"],
        metrics["error_nishimori"],
        metrics["theory_error"],
        rao_blackwell,
        metrics["seconds"],
    )
    log.info("posterior %s: %s", where, verdict_line(metrics, thresholds))


def deep_posterior(
    data_path: str,
    settings: Mapping,
    out: str,
    draws_out: str | None = None,
    checkpoint: str | None = None,
    checkpoint_seconds: float = 0.0,
) -> dict:
    """Sample the deep student's posterior with batched HMC and write the point's estimates and diagnostics.

    ``settings`` holds the validated ``sampler`` settings that change numbers and the ``analysis``
    thresholds of the point's one diagnostics verdict, recorded as `flagged_by` and `passes_diagnostics`
    and logged as the last line. Sampling stops when the verdict's convergence checks pass (checked after
    ``sampler["samples"]`` iterations, then every ``sampler["block_samples"]``) or after
    ``sampler["max_samples"]``, when the point is flagged "budget".

    With ``checkpoint``, the chains are saved there every ``checkpoint_seconds`` and a matching checkpoint
    left by a killed run is resumed (same numbers as an uninterrupted run); it is deleted on success.
    A run with non-finite draws or more divergences than ``sampler["max_divergent_fraction"]`` is retried
    ``sampler["divergence_retries"]`` times with a smaller step size, then fails with SamplerFailure.
    """
    # What changes numbers; it decides the checkpoint's fingerprint and the provenance hash (the validated
    # settings also carry the schema's defaults of the resource keys, which change nothing).
    sampler = without_resources("sampler", settings["sampler"])
    thresholds = verdict_thresholds(settings["analysis"])
    point = load_posterior(data_path, sampler)
    checkpointing = Checkpointing(checkpoint, checkpoint_fingerprint(point, sampler), checkpoint_seconds)
    start = time.perf_counter()
    run = sample_with_retries(point, sampler, checkpointing, thresholds)
    metrics = posterior_record(point, sampler, thresholds, run, seconds=time.perf_counter() - start)
    write_outputs(metrics, run, out, draws_out, checkpoint)
    log_outcome(point.where, metrics, sampler["chains"] * run.result.samples, thresholds)
    return metrics
