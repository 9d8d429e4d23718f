"""One simulation point end to end: data, deep posterior sampling, GLM twin (docs/science.md,
'Finite-size simulations').

Each step reads and writes files atomically so that the Snakemake rules stay one CLI call each.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .config import section_hash, section_with_defaults
from .diagnostics import failed_checks, verdict_line, verdict_thresholds
from .glm_twin import conjugate_posterior
from .io import atomic_write, provenance, write_json
from .layers import layer_coefficients
from .teacher import PointData, make_point, point_seed

log = logging.getLogger("deeplin.simulate")


def save_point(path: str | Path, data: PointData, meta: dict) -> None:
    """Compressed npz with a JSON metadata record; inputs in float32 (exactly the values used)."""
    arrays = data.to_arrays()
    for key in ("x_train", "x_test"):
        arrays[key] = arrays[key].astype(np.float32)
    with atomic_write(path, "wb") as handle:
        np.savez_compressed(handle, meta=np.array(json.dumps(meta, sort_keys=True)), **arrays)


def load_point(path: str | Path) -> tuple[PointData, dict]:
    """Inverse of save_point."""
    with np.load(path) as archive:
        meta = json.loads(str(archive["meta"]))
        data = PointData.from_arrays({k: archive[k] for k in archive.files if k != "meta"})
    return data, meta


def make_data(model_name: str, model: dict, width: int, alpha: float, seed: int, test_size: int, out: str) -> dict:
    """Teacher + data for one point, written to ``out`` (npz)."""
    coefficients = layer_coefficients(model["activation"], model["depth"])
    data = make_point(model_name, model, width, alpha, seed, test_size, coefficients.eta0, coefficients.gamma0)
    meta = {
        "model_name": model_name,
        "model": model,
        "width": int(width),
        "alpha": float(alpha),
        "seed": int(seed),
        "n": int(data.x_train.shape[0]),
        "test_size": int(test_size),
        "hidden_widths": [int(w.shape[0]) for w in data.weights],
        "eta0": coefficients.eta0,
        "gamma0": coefficients.gamma0,
        "provenance": provenance(section_hash({"model": model, "width": width, "alpha": alpha, "seed": seed,
                                               "test_size": test_size})),
    }  # fmt: skip
    save_point(out, data, meta)
    log.info("data %s d0=%d alpha=%g seed=%d: n=%d, hidden %s", model_name, width, alpha, seed, meta["n"],
             meta["hidden_widths"])  # fmt: skip
    return meta


def _test_error(prediction: np.ndarray, clean: np.ndarray, sign: bool) -> tuple[float, float]:
    """(error, standard error) on the test set: MSE, or the classification error for the sign readout."""
    if sign:
        wrong = (np.where(prediction >= 0, 1.0, -1.0) != clean).astype(float)
        return float(wrong.mean()), float(wrong.std(ddof=1) / math.sqrt(len(wrong)))
    squared = (clean - prediction) ** 2
    return float(squared.mean()), float(squared.std(ddof=1) / math.sqrt(len(squared)))


def glm_twin(data_path: str, out: str) -> dict:
    """The finite-size GLM twin (exact conjugate posterior or GAMP) and the GLM estimator on deep data."""
    from .gamp import gamp, make_output, state_evolution_for

    start = time.perf_counter()
    data, meta = load_point(data_path)
    model, eta0, gamma0 = meta["model"], meta["eta0"], meta["gamma0"]
    readout, noise, sign = model["readout"], model["noise"], model["readout"] == "sign"
    result: dict = {"readout": readout}
    for label, y_train, clean_test in (
        ("glm", data.glm_y_train, data.glm_clean_test),
        ("glm_estimator_on_deep", data.y_train, data.clean_test),
    ):
        if readout == "linear":
            posterior = conjugate_posterior(data.x_train, y_train, eta0, gamma0, noise)
            prediction = posterior.predict(data.x_test)
            error, se = _test_error(prediction, clean_test, sign)
            result[f"{label}_error"], result[f"{label}_error_se"] = error, se
            if label == "glm":  # model-based, teacher-free: meaningful only where the GLM is the truth
                result["glm_expected_error"] = posterior.expected_error()
            result[f"{label}_method"] = "conjugate"
        else:
            output = make_output(readout, eta0, gamma0, noise)
            fit = gamp(data.x_train, y_train, output, v_true=data.glm_v if label == "glm" else None)
            pred = fit.predict(data.x_test)
            error, se = _test_error(pred.mean if not sign else pred.label, clean_test, sign)
            result[f"{label}_error"], result[f"{label}_error_se"] = error, se
            if label == "glm" and not sign:  # sign: GAMP's expectation is of the noisy-label error, not this one
                result["glm_expected_error"] = pred.expected_error()
            result[f"{label}_gamp_converged"] = bool(fit.converged)
            result[f"{label}_gamp_iterations"] = int(fit.iterations)
            if fit.overlap is not None:
                result[f"{label}_overlap"] = float(fit.overlap)
            result[f"{label}_method"] = "gamp"
    if readout == "linear":
        result["glm_overlap"] = float(data.glm_v @ conjugate_posterior(
            data.x_train, data.glm_y_train, eta0, gamma0, noise).mean / len(data.glm_v))  # fmt: skip
    # State evolution's fixed point: the overlap the twin should reach as d0 → ∞ (docs/science.md).
    evolution = state_evolution_for(readout, eta0, gamma0, noise, meta["alpha"])
    result["state_evolution_q"] = float(evolution.q[-1])
    result["state_evolution_iterations"] = len(evolution.q) - 1
    result["state_evolution_converged"] = bool(evolution.converged)
    result["seconds"] = time.perf_counter() - start
    result["provenance"] = provenance(meta["provenance"]["config_hash"])
    write_json(out, result)
    return result


def resolve_device(requested: str):
    """'auto' → CUDA when available else CPU; 'cuda' without a GPU is an error that says so."""
    import torch

    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        log.info("sampler.device = auto: no CUDA device visible (CUDA_VISIBLE_DEVICES=%s), sampling on the CPU",
                 os.environ.get("CUDA_VISIBLE_DEVICES", "unset"))  # fmt: skip
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("sampler.device = 'cuda' but torch sees no CUDA device (use 'auto' or 'cpu')")
    return torch.device(requested)


def theory_at(model: dict, alpha: float) -> dict:
    """The asymptotic GLM theory at this α (Barbier et al. 2019), for comparison in the point's metrics."""
    from .theory import theory_curve

    _, rows = theory_curve(model["activation"], model["depth"], model["readout"], model["noise"], [alpha])
    return {"theory_q": rows[0]["q"], "theory_error": rows[0]["error"], "theory_error_noisy": rows[0]["error_noisy"]}


# Sampler settings that determine a posterior job's numbers (checkpoint_seconds does not: resuming is exact).
RESULT_SAMPLER_KEYS = ("chains", "warmup", "samples", "thin", "leapfrog_steps", "target_accept", "dtype",
                       "device", "max_divergent_fraction", "divergence_retries")  # fmt: skip


class SamplerFailure(RuntimeError):
    """A posterior run diverged or went non-finite: its job fails and writes no metric."""


def retry_target_accept(target: float, attempt: int) -> float:
    """Attempt k aims at 1 − (1 − target)/2^k: a higher acceptance target makes dual averaging pick a smaller step."""
    return 1.0 - (1.0 - target) / 2**attempt


def sampling_problem(by_chain: np.ndarray, potential: np.ndarray, divergences: int, transitions: int,
                     max_fraction: float) -> str | None:  # fmt: skip
    """Why a run's draws cannot be trusted (non-finite values, too many divergences), or None if they can."""
    bad = ~np.isfinite(by_chain).all(axis=(1, 2)) | ~np.isfinite(potential).all(axis=1)
    if bad.any():
        return f"non-finite predictions or potentials in chain(s) {np.flatnonzero(bad).tolist()}"
    if transitions and divergences / transitions > max_fraction:
        return (f"{divergences} of {transitions} sampling transitions ({100 * divergences / transitions:.1f} %) "
                f"diverged (energy error > 1000 or non-finite), above sampler.max_divergent_fraction = "
                f"{max_fraction:g}")  # fmt: skip
    return None


def deep_posterior(data_path: str, sampler: dict, out: str, draws_out: str | None = None,
                   checkpoint: str | None = None, checkpoint_seconds: float = 0.0,
                   thresholds: Mapping | None = None) -> dict:  # fmt: skip
    """Sample the deep student's posterior with batched HMC and write the point's estimates and diagnostics.

    ``thresholds`` (an `analysis` section; the schema's defaults when None) decide the point's one
    diagnostics verdict, recorded as `flagged_by` and `passes_diagnostics` and logged as the last line.

    With ``checkpoint``, the chains are saved there every ``checkpoint_seconds`` and a matching checkpoint
    left by a killed run is resumed (same numbers as an uninterrupted run); it is deleted on success.
    A run with non-finite draws or more divergences than ``sampler["max_divergent_fraction"]`` is retried
    ``sampler["divergence_retries"]`` times with a smaller step size, then fails with SamplerFailure.
    """
    import torch

    from .checkpoint import Checkpoint, PeriodicCheckpointer, load_checkpoint, remove_checkpoint
    from .deep_model import DeepPosterior
    from .hmc import HMCConfig, HMCState, NonFiniteStart, sample
    from .posterior_metrics import chain_diagnostics, prediction_metrics

    data, meta = load_point(data_path)
    model = meta["model"]
    where = f"{meta['model_name']} d0={meta['width']} alpha={meta['alpha']:g} seed={meta['seed']}"
    device = resolve_device(sampler["device"])
    dtype = {"float64": torch.float64, "float32": torch.float32}[sampler["dtype"]]
    widths = [meta["width"], *meta["hidden_widths"]]
    posterior = DeepPosterior(
        data.x_train, data.y_train, widths, model["activation"], model["readout"], model["noise"], device, dtype
    )
    chains, half = sampler["chains"], sampler["chains"] // 2
    max_fraction = sampler.get("max_divergent_fraction", 0.05)
    retries = sampler.get("divergence_retries", 0)

    def seed_for(purpose: str) -> int:
        return point_seed(meta["model_name"], meta["width"], meta["alpha"], meta["seed"], purpose)

    # Nishimori: the teacher is an exact posterior sample, so half the chains start there (docs/science.md).
    init_rng = torch.Generator().manual_seed(seed_for("posterior-init"))
    from_prior = torch.randn(chains - half, posterior.dim, generator=init_rng, dtype=dtype).to(device)
    teacher = posterior.flatten(data.weights, data.readout_weights)
    init = torch.cat([teacher.expand(half, -1), from_prior])
    x_test = torch.as_tensor(data.x_test, dtype=dtype, device=device)
    fingerprint = section_hash({"data": meta["provenance"]["config_hash"], "device": device.type,
                                "sampler": {k: sampler.get(k) for k in RESULT_SAMPLER_KEYS if k != "device"}})  # fmt: skip
    resumed = load_checkpoint(checkpoint, fingerprint) if checkpoint else None
    first_attempt = resumed.attempt if resumed else 0
    start = time.perf_counter()
    for attempt in range(first_attempt, retries + 1):
        config = HMCConfig(
            warmup=sampler["warmup"],
            samples=sampler["samples"],
            leapfrog_steps=sampler["leapfrog_steps"],
            target_accept=retry_target_accept(sampler["target_accept"], attempt),
            thin=sampler.get("thin", 1),
            init_step_size=sampler.get("init_step_size", 0.1),
        )
        draws = torch.empty((config.kept, chains, x_test.shape[0]), dtype=dtype, device=device)

        def record(index: int, position: torch.Tensor, draws: torch.Tensor = draws) -> None:
            with torch.no_grad():
                draws[index] = posterior.predict(position, x_test)

        def snapshot(
            state: HMCState, attempt: int = attempt, config: HMCConfig = config, draws: torch.Tensor = draws
        ) -> Checkpoint:
            done = max(0, -(-(state.iteration - config.warmup) // config.thin))
            return Checkpoint(attempt=attempt, state=state.state_dict(), draws=draws[:done].cpu())

        state = None
        if resumed is not None and attempt == first_attempt:
            state = HMCState.from_state_dict(resumed.state, device)
            draws[: resumed.draws.shape[0]] = resumed.draws.to(device)
            log.info("posterior %s: resumed from checkpoint %s at iteration %d of %d (attempt %d)", where,
                     checkpoint, state.iteration, config.warmup + config.samples, attempt + 1)  # fmt: skip
        log.info("posterior %s: %d chains x (%d warmup + %d samples), D=%d, n=%d, %s %s, target_accept %.4g",
                 where, chains, config.warmup, config.samples, posterior.dim, data.x_train.shape[0], device,
                 sampler["dtype"], config.target_accept)  # fmt: skip
        try:
            result = sample(None, init, config, seed=seed_for("hmc" if attempt == 0 else f"hmc-retry{attempt}"),
                            callback=record, device=device, dtype=dtype, state=state,
                            potential_and_grad_fn=posterior.potential_and_grad,
                            on_iteration=PeriodicCheckpointer(checkpoint, fingerprint, checkpoint_seconds, snapshot))  # fmt: skip
        except NonFiniteStart as exc:  # bad data or a broken likelihood: no step size can help
            raise SamplerFailure(f"{where}: {exc}; no metrics written") from None
        by_chain = draws.permute(1, 0, 2).double().cpu().numpy()
        potential = result.potential.T.double().cpu().numpy()
        problem = sampling_problem(by_chain, potential, int(result.divergences.sum()), chains * config.samples,
                                   max_fraction)  # fmt: skip
        if problem is None:
            break
        log.warning("posterior %s: attempt %d of %d failed: %s", where, attempt + 1, retries + 1, problem)
    else:
        remove_checkpoint(checkpoint)  # a finished, failed run: a rerun with other settings starts afresh anyway
        advice = "" if retries else "; set sampler.divergence_retries to retry with a smaller step size"
        raise SamplerFailure(f"{where}: {problem} after {retries + 1} attempt(s){advice}; no metrics written")
    seconds = time.perf_counter() - start
    sign = model["readout"] == "sign"
    metrics = {"point": where, "device": str(device), "dtype": sampler["dtype"], "chains": chains,
               "draws_per_chain": config.kept, "attempts": attempt + 1, "target_accept_used": config.target_accept}  # fmt: skip
    metrics.update(prediction_metrics(by_chain, data.clean_test, data.y_test, sign, half))
    metrics.update(chain_diagnostics(potential))
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
    thresholds = verdict_thresholds(section_with_defaults("analysis", thresholds or {}))
    flagged_by = failed_checks(metrics, thresholds)
    metrics.update(flagged_by=";".join(flagged_by), passes_diagnostics=not flagged_by, verdict_thresholds=thresholds)
    metrics.update(theory_at(model, meta["alpha"]))
    metrics["provenance"] = provenance(section_hash({"data": meta["provenance"]["config_hash"], "sampler": sampler,
                                                     "verdict": thresholds}), device=str(device))  # fmt: skip
    if draws_out:
        mean = by_chain.reshape(-1, by_chain.shape[-1]).mean(axis=0)
        var = by_chain.reshape(-1, by_chain.shape[-1]).var(axis=0, ddof=1)
        with atomic_write(draws_out, "wb") as handle:
            np.savez_compressed(handle, posterior_mean=mean, posterior_variance=var,
                                provenance=np.array(json.dumps(metrics["provenance"], sort_keys=True)))  # fmt: skip
    write_json(out, metrics)  # last: the metrics file is the job's sign of completion
    remove_checkpoint(checkpoint)
    log.info("posterior %s: warm-up %.1f s (%d divergent transitions, not counted against the run), sampling "
             "%.1f s (%d divergent of %d transitions), %d gradients in all", where, metrics["seconds_warmup"],
             metrics["divergences_warmup"], metrics["seconds_sampling"], metrics["divergences"],
             chains * config.samples, metrics["n_gradients"])  # fmt: skip
    log.info("posterior %s: error %.4g (corrected %.4g, Nishimori %.4g, theory %.4g), %.1f s", where,
             metrics["error_raw"], metrics["error_corrected"], metrics["error_nishimori"], metrics["theory_error"],
             seconds)  # fmt: skip
    log.info("posterior %s: %s", where, verdict_line(metrics, thresholds))
    return metrics


def merge_metrics(data_path: str, posterior_path: str, twin_path: str, out: str) -> dict:
    """The point's parameters plus the deep-posterior and GLM-twin metrics, in one record."""
    with np.load(data_path) as archive:
        meta = json.loads(str(archive["meta"]))
    record = {
        "model_name": meta["model_name"],
        **{k: meta["model"][k] for k in ("activation", "depth", "readout", "noise")},
        "width": meta["width"],
        "hidden_widths": meta["hidden_widths"],
        "alpha": meta["alpha"],
        "n": meta["n"],
        "seed": meta["seed"],
        "test_size": meta["test_size"],
        "eta0": meta["eta0"],
        "gamma0": meta["gamma0"],
        "posterior": json.loads(Path(posterior_path).read_text()),
        "glm_twin": json.loads(Path(twin_path).read_text()),
    }
    sources = {"data": meta["provenance"]["config_hash"], "posterior": record["posterior"]["provenance"]["config_hash"],
               "glm_twin": record["glm_twin"]["provenance"]["config_hash"]}  # fmt: skip
    record["provenance"] = provenance(section_hash(sources), device=record["posterior"]["provenance"]["device"])
    write_json(out, record)
    return record
