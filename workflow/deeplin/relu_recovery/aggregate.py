"""The recovery table over all cells (one row per model, direction, program, d, n/d and noise level), Wilson
intervals of the rates, and the fitted n/d of 50 % recovery with a profile-likelihood interval."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

KEYS = ("model", "direction", "program", "d", "n", "ratio", "noise")
COLUMNS = (
    *KEYS,
    "trials",
    "solved",
    "recovered",
    "rate",
    "rate_ci_low",
    "rate_ci_high",
    "certificate_rate",
    "all_ones_rate",
    "all_ones_ci_low",
    "all_ones_ci_high",
    "wendel_all_ones",
    "median_distance",
    "solver_failures",
    "certified_not_recovered",
    "relaxed_above_exact",
    "median_patterns",
    "median_seconds",
    "max_seconds",
)
THRESHOLD_COLUMNS = (
    "model",
    "direction",
    "program",
    "d",
    "trials",
    "threshold",
    "ci_low",
    "ci_high",
    "slope",
    "bracketed",
)
# χ²₁ quantile of the 95 % profile-likelihood interval (Wilks).
PROFILE_LEVEL = float(stats.chi2.ppf(0.95, 1))
# Relative slack of "relaxed optimum <= exact optimum": both solvers stop at ~1e-8 relative gap.
OBJECTIVE_SLACK = 1e-6


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927, JASA 22, 209; scipy's binomtest)."""
    if trials == 0:
        return math.nan, math.nan
    ci = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence, method="wilson")
    return float(ci.low), float(ci.high)


def _order_violations(group: pd.DataFrame, frame: pd.DataFrame) -> int:
    """Trials of an exact-program row whose relaxed optimum exceeds the exact one (both solved)."""
    if group["program"].iloc[0] != "exact":
        return 0
    keys = {k: group[k].iloc[0] for k in ("model", "direction", "d", "n", "noise")}
    relaxed = frame[(frame["program"] == "relaxed") & (frame[list(keys)] == pd.Series(keys)).all(axis=1)]
    pairs = group.merge(relaxed, on="trial", suffixes=("", "_relaxed"))
    pairs = pairs[pairs["solved"] & pairs["solved_relaxed"]]
    above = pairs["objective_relaxed"] > pairs["objective"] * (1 + OBJECTIVE_SLACK)
    return int(above.sum())


def recovery_table(records: Sequence[dict], wendel: dict[tuple[int, int], float]) -> pd.DataFrame:
    """One row per (model, direction, program, d, n, noise): counts, rates with Wilson 95 % intervals, the
    all-ones frequency next to Wendel's probability, distances, solver failures and seconds per solve.
    The rate is over solved trials; a solver failure is counted in solver_failures, never as a non-recovery."""
    frame = pd.DataFrame(list(records))
    frame["ratio"] = frame["n"] / frame["d"]
    rows = []
    for keys, group in frame.groupby(list(KEYS), sort=True):
        row = dict(zip(KEYS, keys, strict=True))
        solved = group[group["solved"]]
        hits = int(solved["recovered"].astype(bool).sum())
        low, high = wilson_interval(hits, len(solved))
        ones = int(group["all_ones"].sum())
        ones_low, ones_high = wilson_interval(ones, len(group))
        certified = solved["certified"].astype(bool)
        row.update(
            trials=len(group),
            solved=len(solved),
            recovered=hits,
            rate=hits / len(solved) if len(solved) else math.nan,
            rate_ci_low=low,
            rate_ci_high=high,
            certificate_rate=float(group["certified"].mean()),
            all_ones_rate=ones / len(group),
            all_ones_ci_low=ones_low,
            all_ones_ci_high=ones_high,
            wendel_all_ones=wendel[(int(row["d"]), int(row["n"]))],
            median_distance=float(solved["distance"].median()) if len(solved) else math.nan,
            solver_failures=int((~group["solved"]).sum()),
            # the certificate is about the noiseless problem: with noise the planted model does not interpolate
            certified_not_recovered=int((certified & ~solved["recovered"].astype(bool)).sum())
            if row["noise"] == 0
            else 0,
            relaxed_above_exact=_order_violations(group, frame),
            median_patterns=float(group["patterns"].median()),
            median_seconds=float(group["seconds"].median()),
            max_seconds=float(group["seconds"].max()),
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _log_likelihood(ratio: np.ndarray, hit: np.ndarray, threshold: float, slope: float) -> float:
    """Bernoulli log likelihood of P(recovered) = logistic(slope · (n/d − threshold))."""
    eta = slope * (ratio - threshold)
    return float(np.sum(hit * -np.logaddexp(0, -eta) + (1 - hit) * -np.logaddexp(0, eta)))


def _profile(ratio: np.ndarray, hit: np.ndarray, threshold: float, max_slope: float) -> tuple[float, float]:
    """max over slope in [0, max_slope] of the log likelihood at a fixed threshold (concave in the slope)."""
    best = optimize.minimize_scalar(
        lambda s: -_log_likelihood(ratio, hit, threshold, s),
        bounds=(0.0, max_slope),
        method="bounded",
        options={"xatol": 1e-6 * max_slope},
    )
    return -float(best.fun), float(best.x)


def fit_threshold(ratio: Sequence[float], hit: Sequence[bool]) -> dict:
    """The n/d of 50 % recovery from per-trial outcomes: a logistic fit in n/d (slope >= 0), with a 95 %
    profile-likelihood interval for the threshold (slope profiled out; Wilks' χ²₁). The slope is capped at
    100 per unit n/d, so a perfectly separated sample (a step) still has a finite interval. ``bracketed`` is
    false when no trial or every trial recovered (the threshold lies outside the grid; NaN)."""
    ratio, hit = np.asarray(ratio, dtype=float), np.asarray(hit, dtype=float)
    result = {
        "trials": len(ratio),
        "threshold": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "slope": math.nan,
        "bracketed": False,
    }
    if len(ratio) == 0 or hit.min() == hit.max():
        return result
    max_slope = 100.0
    grid = np.linspace(ratio.min() - 1.0, ratio.max() + 1.0, 1201)
    profile = np.array([_profile(ratio, hit, t, max_slope)[0] for t in grid])
    top = int(np.argmax(profile))
    inside = grid[profile >= profile[top] - PROFILE_LEVEL / 2]
    refined = optimize.minimize_scalar(
        lambda t: -_profile(ratio, hit, t, max_slope)[0],
        bounds=(grid[max(top - 1, 0)], grid[min(top + 1, len(grid) - 1)]),
        method="bounded",
    )
    threshold = float(refined.x)
    result.update(
        threshold=threshold,
        ci_low=float(inside.min()),
        ci_high=float(inside.max()),
        slope=_profile(ratio, hit, threshold, max_slope)[1],
        bracketed=True,
    )
    return result


def threshold_table(records: Sequence[dict]) -> pd.DataFrame:
    """The fitted 50 % threshold per (model, direction, program, d), on the noiseless, solved trials."""
    frame = pd.DataFrame(list(records))
    frame = frame[(frame["noise"] == 0) & frame["solved"]]
    rows = []
    for (model, direction, program, d), group in frame.groupby(["model", "direction", "program", "d"]):
        fit = fit_threshold(group["n"] / group["d"], group["recovered"].astype(bool))
        rows.append({"model": model, "direction": direction, "program": program, "d": d, **fit})
    return pd.DataFrame(rows, columns=list(THRESHOLD_COLUMNS))
