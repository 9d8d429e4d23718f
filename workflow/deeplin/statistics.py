"""Statistics helpers every result uses: a mean with its Student-t interval over independent replicates, and
the weighted log-log slope of a quantity against a size (how a finite-size gap decays)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats


def mean_interval(values: pd.Series, confidence: float) -> dict[str, float]:
    """Mean, standard error and a Student-t confidence interval of the finite values."""
    finite = values[np.isfinite(values.astype(float))].astype(float)
    count = len(finite)
    mean = float(finite.mean()) if count else math.nan
    se = float(finite.std(ddof=1) / math.sqrt(count)) if count > 1 else math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, count - 1)) * se if count > 1 else math.nan
    return {"mean": mean, "se": se, "ci_low": mean - half, "ci_high": mean + half, "count": count}


def fit_gap_slope(widths: np.ndarray, gaps: np.ndarray, ses: np.ndarray, confidence: float) -> dict:
    """Weighted least-squares slope of log|gap| against log width, with a confidence interval.

    Only widths whose gap exceeds its standard error enter (log|gap| of an unresolved gap is noise); the
    weights are 1/SE(log|gap|) = |gap|/SE (delta method), and the slope's SE comes from those errors alone
    (``cov='unscaled'``), so two widths already give an interval.
    """
    resolved = np.isfinite(gaps) & np.isfinite(ses) & (ses > 0) & (np.abs(gaps) > ses)
    result = {
        "widths_used": ",".join(str(int(w)) for w in widths[resolved]),
        "slope": math.nan,
        "slope_se": math.nan,
        "slope_ci_low": math.nan,
        "slope_ci_high": math.nan,
        "intercept": math.nan,
    }
    if resolved.sum() < 2:
        result["note"] = f"{int(resolved.sum())} width(s) with |gap| > SE; a slope needs 2"
        return result
    x, y = np.log(widths[resolved].astype(float)), np.log(np.abs(gaps[resolved]))
    coefficients, covariance = np.polyfit(x, y, 1, w=np.abs(gaps[resolved]) / ses[resolved], cov="unscaled")
    se = float(math.sqrt(covariance[0, 0]))
    half = float(stats.norm.ppf(0.5 + confidence / 2)) * se
    slope = float(coefficients[0])
    result.update(
        slope=slope,
        slope_se=se,
        slope_ci_low=slope - half,
        slope_ci_high=slope + half,
        intercept=float(coefficients[1]),
        note="",
    )
    return result
