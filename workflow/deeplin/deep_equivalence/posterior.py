"""The deep student's posterior at one simulation point (docs/deep_equivalence.md, 'Finite-size simulations'):
batched HMC from teacher- and prior-started chains, the point's error estimates and diagnostics, and its one
diagnostics verdict.

`deep_posterior` is the step; it reads the point (`load_posterior`), starts the chains (`initial_positions`),
samples with retries (`sample_with_retries`, each attempt `sample_attempt` with checkpoint and resume),
builds the record (`posterior_record`) and writes it (`write_outputs`).
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
from ..diagnostics import failed_checks, verdict_line, verdict_thresholds
from ..hmc import HMCConfig, HMCResult, NonFiniteStart, SamplerState, on_draw, sample
from ..io import PROVENANCE_KEY, atomic_write, provenance, provenance_entry, write_json
from .data import load_point
from .deep_model import DeepPosterior
from .posterior_metrics import chain_diagnostics, prediction_metrics
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

    def seed(self, purpose: str) -> int:
        """The point's seed for one random stream (deeplin.deep_equivalence.teacher.point_seed)."""
        meta = self.meta
        return point_seed(meta["model_name"], meta["width"], meta["alpha"], meta["seed"], purpose)


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
    """The sampler settings of attempt ``attempt`` (0 = the first): each retry aims at a higher acceptance."""
    return HMCConfig(
        warmup=sampler["warmup"],
        samples=sampler["samples"],
        leapfrog_steps=sampler["leapfrog_steps"],
        target_accept=retry_target_accept(sampler["target_accept"], attempt),
        thin=sampler["thin"],
    )


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
        {"data": point.meta["provenance"]["config_hash"], "device": point.device.type, "sampler": settings}
    )


@dataclass
class Attempt:
    """One finished sampling attempt: its number (from 0), settings, HMC result and draws."""

    number: int
    config: HMCConfig
    result: HMCResult
    by_chain: np.ndarray  # (chains, draws, test points) predictions, float64
    potential: np.ndarray  # (chains, draws) U of the draws, float64


def sample_attempt(
    point: PointPosterior,
    sampler: Mapping,
    attempt: int,
    init: torch.Tensor,
    checkpointing: Checkpointing,
    resumed: Checkpoint | None = None,
) -> Attempt:
    """Run attempt ``attempt`` from ``init``, or continue it from ``resumed``; checkpoint it as it goes."""
    config = hmc_config(sampler, attempt)
    chains = init.shape[0]
    draws = torch.empty((config.kept, chains, point.x_test.shape[0]), dtype=point.dtype, device=point.device)
    state = None
    if resumed is not None:
        state = SamplerState.from_state_dict(resumed.state, point.device)
        draws[: resumed.draws.shape[0]] = resumed.draws.to(point.device)
        log.info(
            "posterior %s: resumed from checkpoint %s at iteration %d of %d (attempt %d)",
            point.where,
            checkpointing.path,
            state.iteration,
            config.warmup + config.samples,
            attempt + 1,
        )
    log.info(
        "posterior %s: %d chains x (%d warmup + %d samples), D=%d, n=%d, %s %s, target_accept %.4g",
        point.where,
        chains,
        config.warmup,
        config.samples,
        point.posterior.dim,
        point.data.x_train.shape[0],
        point.device,
        sampler["dtype"],
        config.target_accept,
    )

    def record(index: int, position: torch.Tensor) -> None:
        with torch.no_grad():
            draws[index] = point.posterior.predict(position, point.x_test)

    def snapshot(state: SamplerState) -> Checkpoint:
        return Checkpoint(attempt=attempt, state=state.state_dict(), draws=draws[: state.draws_kept].cpu())

    saver = PeriodicCheckpointer(
        checkpointing.path, checkpointing.fingerprint, checkpointing.seconds, snapshot
    )
    seed = point.seed("hmc" if attempt == 0 else f"hmc-retry{attempt}")
    try:
        result = sample(
            point.posterior.potential_and_grad, init, config, seed, [on_draw(record), saver], resume=state
        )
    except NonFiniteStart as exc:  # bad data or a broken likelihood: no step size can help
        raise SamplerFailure(f"{point.where}: {exc}; no metrics written") from None
    by_chain = draws.permute(1, 0, 2).double().cpu().numpy()
    potential = result.potential.T.double().cpu().numpy()
    return Attempt(attempt, config, result, by_chain, potential)


def sample_with_retries(point: PointPosterior, sampler: Mapping, checkpointing: Checkpointing) -> Attempt:
    """The first attempt whose draws can be trusted (`sampling_problem`); a matching checkpoint is resumed.

    After ``sampler["divergence_retries"]`` failed retries the checkpoint is deleted and SamplerFailure raised.
    """
    chains, retries = sampler["chains"], sampler["divergence_retries"]
    init = initial_positions(point, chains)
    resumed = load_checkpoint(checkpointing.path, checkpointing.fingerprint) if checkpointing.path else None
    first_attempt = resumed.attempt if resumed else 0
    problem = None
    for attempt in range(first_attempt, retries + 1):
        resuming = resumed if attempt == first_attempt else None
        run = sample_attempt(point, sampler, attempt, init, checkpointing, resuming)
        problem = sampling_problem(
            run.by_chain,
            run.potential,
            int(run.result.divergences.sum()),
            chains * run.config.samples,
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
        "draws_per_chain": run.config.kept,
        "attempts": run.number + 1,
        "target_accept_used": run.config.target_accept,
    }
    sign = model["readout"] == "sign"
    metrics.update(
        prediction_metrics(
            run.by_chain, point.data.clean_test, point.data.y_test, sign, teacher_chains(chains)
        )
    )
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
        with atomic_write(draws_out, "wb") as handle:
            np.savez_compressed(
                handle,
                posterior_mean=mean,
                posterior_variance=var,
                **{PROVENANCE_KEY: provenance_entry(metrics["provenance"])},
            )
    write_json(out, metrics)
    remove_checkpoint(checkpoint)


def log_outcome(where: str, metrics: Mapping, transitions: int, thresholds: Mapping) -> None:
    """The job's last log lines: phase costs, the error estimates, the verdict."""
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
    log.info(
        "posterior %s: error %.4g (corrected %.4g, Nishimori %.4g, theory %.4g), %.1f s",
        where,
        metrics["error_raw"],
        metrics["error_corrected"],
        metrics["error_nishimori"],
        metrics["theory_error"],
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
    and logged as the last line.

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
    run = sample_with_retries(point, sampler, checkpointing)
    metrics = posterior_record(point, sampler, thresholds, run, seconds=time.perf_counter() - start)
    write_outputs(metrics, run, out, draws_out, checkpoint)
    log_outcome(point.where, metrics, sampler["chains"] * run.config.samples, thresholds)
    return metrics
