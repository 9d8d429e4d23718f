"""Error estimates and convergence diagnostics from posterior draws of test predictions.

Draws have shape (chains, draws, n_test). Estimators:
- direct raw: mean_i (f*_i − Ŷ_i)², Ŷ the posterior mean over all draws;
- direct corrected: raw − mean_i Var_i/ESS_i, since E(f* − Ŷ_M)² = error + E Var_post/ESS, with ESS the
  effective sample size of the mean (docs/deep_equivalence.md, 'Draw-bias correction');
- Nishimori (teacher-free): mean_i Var_i, because error = E Var_post[f(h_new)] at Bayes optimality;
- for the sign readout also the classification errors P(sign Ŷ ≠ label) and the Nishimori classification
  error mean_i min(p_i, 1 − p_i) with p_i the posterior probability of +1.
R-hat (rank-normalised) and bulk ESS come from ArviZ, on at most DIAGNOSTIC_POINTS evenly spaced test
points: ArviZ loops over variables in Python (~5 ms each), and averages such as mean_i Var_i/ESS_i are
estimated without bias from a subset that does not depend on the draws.
"""

from __future__ import annotations

import math
import warnings

import arviz
import numpy as np

from ..diagnostics import RHAT_OK as RHAT_THRESHOLD
from .errors import classification_error, squared_error

DIAGNOSTIC_POINTS = 128


def diagnostic_subset(n_points: int) -> np.ndarray:
    """Evenly spaced test-point indices on which R-hat and ESS are computed."""
    return np.unique(np.linspace(0, n_points - 1, min(n_points, DIAGNOSTIC_POINTS)).astype(int))


def _diagnostics(
    draws: np.ndarray, with_rhat: bool = True, with_mean: bool = True
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Per-variable rank-normalised R-hat, bulk ESS and mean ESS of (chains, draws, *shape) arrays (ArviZ).

    Bulk ESS is the reported diagnostic; the ESS of the mean sets the Monte Carlo error of posterior
    means, hence the finite-draw correction and the halves' comparison.
    """
    dataset = arviz.convert_to_dataset({"x": draws})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # constant draws (e.g. sign outputs) give NaN
        rhat = np.asarray(arviz.rhat(dataset)["x"].values, dtype=float) if with_rhat else None
        bulk = np.asarray(arviz.ess(dataset, method="bulk")["x"].values, dtype=float)
        mean = np.asarray(arviz.ess(dataset, method="mean")["x"].values, dtype=float) if with_mean else None
    return rhat, bulk, mean


def _rhat_summary(rhat: np.ndarray) -> dict[str, float]:
    """Largest and median R-hat, and the fraction at or below 1.01, over the finite values."""
    finite = np.isfinite(rhat)
    if not finite.any():
        return {"rhat_max": math.nan, "rhat_median": math.nan, "rhat_fraction_ok": math.nan}
    return {
        "rhat_max": float(rhat[finite].max()),
        "rhat_median": float(np.median(rhat[finite])),
        "rhat_fraction_ok": float(np.mean(rhat[finite] <= RHAT_THRESHOLD)),
    }


def _median(values: np.ndarray) -> float:
    return float(np.nanmedian(values)) if np.isfinite(values).any() else math.nan


def convergence_metrics(draws: np.ndarray, potential: np.ndarray) -> dict[str, float]:
    """What the convergence checks read, computed exactly as `prediction_metrics` and `chain_diagnostics`
    compute them for the record: R-hat summary and median bulk ESS of the diagnosed test predictions of
    ``draws`` (chains, draws, n_test), and the potential's R-hat and bulk ESS (``potential`` (chains, draws))."""
    draws = np.asarray(draws, dtype=np.float64)
    rhat, bulk, _ = _diagnostics(draws[..., diagnostic_subset(draws.shape[-1])], with_mean=False)
    out = _rhat_summary(rhat)
    out["ess_bulk_median"] = _median(bulk)
    out.update(chain_diagnostics(potential))
    return out


def _mse_estimates(
    draws: np.ndarray, clean: np.ndarray, ess: np.ndarray, subset: np.ndarray
) -> dict[str, float]:
    """Raw, finite-draw-corrected and Nishimori squared errors with their test-set standard errors.

    ``ess`` holds the ESS of the mean (ArviZ's ``ess(method="mean")``) of the test points in ``subset``: the
    draw bias of a posterior-mean estimate is Var_i/ESS_i with that ESS; it is averaged over the subset.
    """
    flat = draws.reshape(-1, draws.shape[-1])
    mean = flat.mean(axis=0)
    var = flat.var(axis=0, ddof=1)
    error, error_se = squared_error(mean, clean)
    # A point with no variance has no Monte Carlo error; ESS may be NaN there.
    sub_var = var[subset]
    bias = float(
        np.divide(sub_var, ess, out=np.zeros_like(sub_var), where=np.isfinite(ess) & (ess > 0)).mean()
    )
    n = len(clean)
    return {
        "error_raw": error,
        "error_corrected": error - bias,
        "error_se": error_se,
        "error_nishimori": float(var.mean()),
        "error_nishimori_se": float(var.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        "draw_bias": bias,
    }


def _classification(draws: np.ndarray, clean: np.ndarray, noisy: np.ndarray) -> dict[str, float]:
    prob_plus = (draws.reshape(-1, draws.shape[-1]) > 0).mean(axis=0)
    predicted = np.where(prob_plus >= 0.5, 1.0, -1.0)
    return {
        "classification_error": classification_error(predicted, clean)[0],
        "classification_error_noisy": classification_error(predicted, noisy)[0],
        "classification_error_nishimori": float(np.minimum(prob_plus, 1 - prob_plus).mean()),
    }


def _summarise(
    draws: np.ndarray, clean: np.ndarray, noisy: np.ndarray, sign: bool, subset: np.ndarray, with_rhat: bool
) -> tuple[dict, np.ndarray]:
    rhat, bulk, ess = _diagnostics(draws[..., subset], with_rhat)
    out = _mse_estimates(draws, clean, ess, subset)
    if sign:
        out.update(_classification(draws, clean, noisy))
    else:
        mean = draws.reshape(-1, draws.shape[-1]).mean(axis=0)
        out["error_noisy_raw"] = squared_error(mean, noisy)[0]
    out["ess_bulk_median"] = _median(bulk)
    out["ess_mean_median"] = _median(ess)
    if rhat is None:
        return out, ess
    out.update(_rhat_summary(rhat))
    return out, ess


def pooled_metrics(draws: np.ndarray, clean: np.ndarray, noisy: np.ndarray, sign: bool) -> dict:
    """The error estimates over all chains together (no halves): errors, R-hat, bulk ESS."""
    draws = np.asarray(draws, dtype=np.float64)
    return _summarise(draws, clean, noisy, sign, diagnostic_subset(draws.shape[-1]), with_rhat=True)[0]


def prediction_metrics(
    draws: np.ndarray, clean: np.ndarray, noisy: np.ndarray, sign: bool, teacher_chains: int
) -> dict:
    """All error estimates for one point, for all chains and for each half of the chains.

    The first ``teacher_chains`` chains started at the teacher, the rest from the prior; the halves
    must agree: ``halves_chi2`` = mean_i (Ŷ_A − Ŷ_B)² / (Var_i (1/ESS_A + 1/ESS_B)) is ≈ 1 when their
    posterior means differ only by Monte Carlo error.
    """
    draws = np.asarray(draws, dtype=np.float64)
    subset = diagnostic_subset(draws.shape[-1])
    metrics, _ = _summarise(draws, clean, noisy, sign, subset, with_rhat=True)
    metrics["diagnostic_points"] = len(subset)
    halves = {}
    for label, part in (("teacher", draws[:teacher_chains]), ("prior", draws[teacher_chains:])):
        summary, ess = _summarise(part, clean, noisy, sign, subset, with_rhat=False)
        halves[label] = (part, ess)
        metrics.update({f"{label}_half_{k}": v for k, v in summary.items()})
    (part_a, ess_a), (part_b, ess_b) = halves["teacher"], halves["prior"]
    mean_a = part_a[..., subset].reshape(-1, len(subset)).mean(axis=0)
    mean_b = part_b[..., subset].reshape(-1, len(subset)).mean(axis=0)
    var = draws[..., subset].reshape(-1, len(subset)).var(axis=0, ddof=1)
    mc_var = var * (1.0 / ess_a + 1.0 / ess_b)
    usable = np.isfinite(mc_var) & (mc_var > 0)
    metrics["halves_chi2"] = (
        float(np.mean((mean_a - mean_b)[usable] ** 2 / mc_var[usable])) if usable.any() else math.nan
    )
    metrics["halves_error_difference"] = metrics["teacher_half_error_raw"] - metrics["prior_half_error_raw"]
    return metrics


def equivalent_ess(plain: np.ndarray, conditional: np.ndarray) -> np.ndarray:
    """Per test point, the draws of the plain estimator that match the conditional means' precision.

    Both arrays are (chains, draws, n_test) from the same run. The Monte Carlo variance of the averaged
    conditional means is Var(conditional)/ESS(conditional); the plain estimator reaches it with
    ESS(conditional) · Var(plain)/Var(conditional) independent draws (bulk ESS, ArviZ, as everywhere).
    """
    plain = np.asarray(plain, dtype=np.float64)
    conditional = np.asarray(conditional, dtype=np.float64)
    _, ess, _ = _diagnostics(conditional, with_rhat=False, with_mean=False)
    var_plain = plain.reshape(-1, plain.shape[-1]).var(axis=0, ddof=1)
    var_conditional = conditional.reshape(-1, conditional.shape[-1]).var(axis=0, ddof=1)
    return ess * var_plain / var_conditional


def rao_blackwell_metrics(plain: np.ndarray, conditional: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """The direct error of the Rao–Blackwellised posterior mean (the average of the draws' conditional means
    E[h | W, Y], deeplin.deep_equivalence.rao_blackwell) and what it gains over the plain draws.

    Both arrays are (chains, draws, n_test) from the same run. As for the plain mean, E(f* − Ŷ_RB)² = error +
    Var_RB/ESS_RB per test point, so the finite-draw bias is the mean over the diagnosed test points of the
    conditional means' variance over their ESS of the mean; the gain is the equivalent ESS (`equivalent_ess`)
    and the variance ratio Var(plain)/Var(conditional means), medians over the diagnosed points.
    """
    plain = np.asarray(plain, dtype=np.float64)
    conditional = np.asarray(conditional, dtype=np.float64)
    subset = diagnostic_subset(conditional.shape[-1])
    _, bulk, ess = _diagnostics(conditional[..., subset], with_rhat=False)
    flat = conditional.reshape(-1, conditional.shape[-1])
    error, error_se = squared_error(flat.mean(axis=0), clean)
    var = flat.var(axis=0, ddof=1)[subset]
    bias = float(np.divide(var, ess, out=np.zeros_like(var), where=np.isfinite(ess) & (ess > 0)).mean())
    var_plain = plain[..., subset].reshape(-1, len(subset)).var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = var_plain / var
    return {
        "error_rb_raw": error,
        "error_rb_corrected": error - bias,
        "error_rb_se": error_se,
        "draw_bias_rb": bias,
        "rb_variance_ratio_median": _median(np.where(np.isfinite(ratio), ratio, np.nan)),
        "ess_rb_equivalent_median": _median(bulk * np.where(np.isfinite(ratio), ratio, np.nan)),
    }


def chain_diagnostics(potential: np.ndarray) -> dict[str, float]:
    """R-hat and bulk ESS of the potential trace, shape (chains, draws)."""
    rhat, bulk, _ = _diagnostics(np.asarray(potential, dtype=np.float64)[:, :, None], with_mean=False)
    return {"potential_rhat": float(rhat[0]), "potential_ess_bulk": float(bulk[0])}
