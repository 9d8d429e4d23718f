"""One cell's simulated networks against the three laws: the exact finite-(N, L) law, the L/N → a limit and the
Gaussian process (docs/deep_linear.md, 'Simulations and statistics').

Moments come with a z-score against the finite formula, z = (estimate − finite)/SE, where SE combines the
simulation's standard error with the Monte Carlo error of a finite value that is itself sampled (the
correlation's, from the exact reduced sampler). Distributions come with Kolmogorov–Smirnov distances, their
p-values and the distance's median under the null (its noise level), one-sample against a closed-form law,
two-sample against exact draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy import special, stats

from . import theory

# Median of the Kolmogorov distribution: the typical KS distance of a correct law is this / √n_effective.
KS_MEDIAN = 0.8276
MOMENTS = (
    "log_k_mean",
    "log_k_var",
    "kurtosis",
    "cross_fourth_moment",
    "unit_square_cov",
    "corr_mean",
    "corr_sd",
)
DISTRIBUTIONS = (
    "ks_log_k_vs_finite",
    "ks_log_k_vs_limit",
    "ks_output_vs_finite",
    "ks_output_vs_mixture",
    "ks_output_vs_gp",
    "ks_corr_vs_finite",
    "ks_corr_vs_limit",
)
COLUMNS = (
    "a",
    "N",
    "L",
    "networks",
    "statistic",
    "estimate",
    "se",
    "se_method",
    "finite",
    "limit",
    "gaussian_process",
    "z",
    "p_value",
    "noise_level",
)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def _variance_se(values: np.ndarray) -> tuple[float, float]:
    """Sample variance and its large-sample standard error √((m4 − s⁴)/n)."""
    centred = values - values.mean()
    variance = float(centred.var(ddof=1))
    return variance, float(math.sqrt(max((centred**4).mean() - variance**2, 0.0) / len(values)))


def _sd_se(values: np.ndarray) -> tuple[float, float]:
    """Sample standard deviation and its delta-method standard error SE(s²)/(2s)."""
    variance, se = _variance_se(values)
    sd = math.sqrt(variance)
    return sd, se / (2 * sd) if sd > 0 else math.nan


def _moment_row(
    name: str, estimate: float, se: float, method: str, laws: Mapping[str, float], finite_se: float = 0.0
):
    total = math.hypot(se, finite_se)
    return {
        "statistic": name,
        "estimate": estimate,
        "se": se,
        "se_method": method,
        **laws,
        "z": (estimate - laws["finite"]) / total if total > 0 else math.nan,
    }


def _ks_row(name: str, result, n: int, m: int | None = None) -> dict:
    effective = n if m is None else n * m / (n + m)
    return {
        "statistic": name,
        "estimate": float(result.statistic),
        "p_value": float(result.pvalue),
        "noise_level": KS_MEDIAN / math.sqrt(effective),
    }


def moment_rows(
    kernels: np.ndarray,
    a: float,
    width: int,
    depth: int,
    rho0: float,
    finite_corr: np.ndarray,
    limit_corr: np.ndarray,
) -> list[dict]:
    """The moment statistics of one cell, each with its value under the finite, limit and GP laws.

    Fourth moments of the outputs are estimated from K_L, conditionally on which the outputs are Gaussian
    (E[f⁴ | K] = 3K11², E[f(x1)²f(x2)² | K] = K11K22 + 2K12²): the same expectation with less variance than
    from the outputs themselves. Their SE is the sample SD over networks / √n; in the limit the estimator of
    3E K² has relative SE √(e^{8a} − 1)/√n, and with heavy tails the sample SD itself is unreliable at a ≳ 0.5.
    """
    finite, limit, gp = (
        theory.finite_moments(width, depth, rho0),
        theory.limit_moments(a, rho0),
        theory.gp_moments(rho0),
    )

    def laws(key: str) -> dict[str, float]:
        return {"finite": finite[key], "limit": limit[key], "gaussian_process": gp[key]}

    k11 = kernels[:, 0, 0]
    log_k = np.log(k11)
    r = theory.correlation(kernels)
    rows = [
        _moment_row("log_k_mean", *_mean_se(log_k), "sd/sqrt(n)", laws("log_k_mean")),
        _moment_row("log_k_var", *_variance_se(log_k), "sqrt((m4 - s^4)/n)", laws("log_k_var")),
        _moment_row("kurtosis", *_mean_se(3 * k11**2), "sd/sqrt(n), heavy-tailed", laws("kurtosis")),
        _moment_row(
            "cross_fourth_moment",
            *_mean_se(kernels[:, 0, 0] * kernels[:, 1, 1] + 2 * kernels[:, 0, 1] ** 2),
            "sd/sqrt(n), heavy-tailed",
            laws("cross_fourth_moment"),
        ),
        _moment_row(
            "unit_square_cov", *_variance_se(k11), "sqrt((m4 - s^4)/n), heavy-tailed", laws("unit_square_cov")
        ),
    ]
    # The correlation's finite law has no closed form: its values come from exact draws, with their own error.
    finite_mean, finite_mean_se = _mean_se(finite_corr)
    finite_sd, finite_sd_se = _sd_se(finite_corr)
    corr_laws = {
        "corr_mean": {
            "finite": finite_mean,
            "limit": float(limit_corr.mean()),
            "gaussian_process": gp["corr_mean"],
        },
        "corr_sd": {
            "finite": finite_sd,
            "limit": float(limit_corr.std(ddof=1)),
            "gaussian_process": gp["corr_sd"],
        },
    }
    rows.append(_moment_row("corr_mean", *_mean_se(r), "sd/sqrt(n)", corr_laws["corr_mean"], finite_mean_se))
    rows.append(_moment_row("corr_sd", *_sd_se(r), "delta method", corr_laws["corr_sd"], finite_sd_se))
    return rows


def distribution_rows(
    outputs: np.ndarray,
    kernels: np.ndarray,
    a: float,
    finite_log_k: np.ndarray,
    finite_outputs: np.ndarray,
    finite_corr: np.ndarray,
    limit_corr: np.ndarray,
) -> list[dict]:
    """KS distances of log K11, of one output f(x1) (one unit, one value per network) and of the correlation."""
    log_k = np.log(kernels[:, 0, 0])
    output = outputs[:, 0, 0]
    r = theory.correlation(kernels)
    n = len(output)
    limit_log_k = stats.norm(loc=-a, scale=math.sqrt(2 * a)).cdf  # a > 0 (the schema's)
    rows = [
        _ks_row("ks_log_k_vs_finite", stats.ks_2samp(log_k, finite_log_k), n, len(finite_log_k)),
        _ks_row("ks_log_k_vs_limit", stats.kstest(log_k, limit_log_k), n),
        _ks_row("ks_output_vs_finite", stats.ks_2samp(output, finite_outputs), n, len(finite_outputs)),
        _ks_row("ks_output_vs_mixture", stats.kstest(output, lambda t: theory.mixture_cdf(t, a)), n),
        _ks_row("ks_output_vs_gp", stats.kstest(output, special.ndtr), n),
        _ks_row("ks_corr_vs_finite", stats.ks_2samp(r, finite_corr), n, len(finite_corr)),
        _ks_row("ks_corr_vs_limit", stats.ks_2samp(r, limit_corr), n, len(limit_corr)),
    ]
    return rows


def cell_statistics(
    outputs: np.ndarray,
    kernels: np.ndarray,
    a: float,
    width: int,
    settings: Mapping,
    seeds: Mapping[str, int],
) -> list[dict]:
    """Every row of one cell (COLUMNS): moments with z-scores, then KS distances.

    ``seeds`` holds one seed per reference stream ("finite", "limit"): the exact finite-law draws and the
    limit SDE's paths, ``settings["reference_draws"]`` of each.
    """
    depth = theory.depth_for(a, width)
    rho0, draws = settings["input_overlap"], settings["reference_draws"]
    finite_rng = np.random.default_rng(seeds["finite"])
    finite_corr = theory.correlation(theory.bartlett_kernels(width, depth, rho0, draws, finite_rng))
    finite_log_k = theory.finite_log_k_draws(width, depth, draws, finite_rng)
    finite_outputs = np.exp(finite_log_k / 2) * finite_rng.standard_normal(draws)
    limit_corr = theory.limit_correlation_draws(
        a, rho0, draws, settings["sde_step"], np.random.default_rng(seeds["limit"])
    )
    rows = moment_rows(kernels, a, width, depth, rho0, finite_corr, limit_corr)
    rows += distribution_rows(outputs, kernels, a, finite_log_k, finite_outputs, finite_corr, limit_corr)
    cell = {"a": float(a), "N": int(width), "L": depth, "networks": int(len(kernels))}
    return [{column: {**cell, **row}.get(column, math.nan) for column in COLUMNS} for row in rows]
