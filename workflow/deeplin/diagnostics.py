"""The one verdict on a posterior run: which sampler diagnostics fail the study's `analysis` thresholds.

A point's verdict is decided once, by the posterior job, from the thresholds it was given; the posterior log,
posterior.json, metrics.json, the tables, `deeplin deep_equivalence check` and the figures all read that record
instead of deciding again with rules of their own. Its convergence part (`convergence_failures`: R-hat and
bulk ESS) is also the criterion by which a posterior job stops sampling: sampling ends when exactly these
checks pass, or when the draw budget is spent (the point is then flagged "budget").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# The `analysis` keys that define the verdict (the others, exclude_flagged and confidence, are about tables).
VERDICT_KEYS = ("max_rhat", "min_rhat_fraction", "min_ess", "max_divergences", "min_accept_rate")
# The flag of a point whose sampler spent its draw budget before the convergence checks passed.
BUDGET_FLAG = "budget"
# R-hat at or below which a test prediction counts as converged in `rhat_fraction_ok` (Vehtari, Gelman, Simpson,
# Carpenter, Bürkner 2021, Bayesian Analysis 16(2): the rank-normalised R-hat and its 1.01 rule).
RHAT_OK = 1.01


def verdict_thresholds(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """The part of an `analysis` section that decides the verdict."""
    return {key: analysis[key] for key in VERDICT_KEYS}


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _failed(metrics: Mapping[str, Any], checks: list[tuple[str, Any, str]]) -> list[str]:
    failed = []
    for key, ok, name in checks:
        value = _number(metrics.get(key))
        if not math.isfinite(value):
            failed.append(f"{key} missing")
        elif not ok(value):
            failed.append(name)
    return failed


def convergence_failures(metrics: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """The failed convergence checks (those more draws can fix): R-hat of the test predictions and of the
    potential, the fraction of test predictions with R-hat <= 1.01, the median bulk ESS of the test predictions.

    ``metrics`` holds `rhat_max`, `potential_rhat`, `rhat_fraction_ok` and `ess_bulk_median`; a missing or
    non-finite value is a failure of its own, never a pass.
    """
    max_rhat, min_fraction, min_ess = (
        thresholds["max_rhat"],
        thresholds["min_rhat_fraction"],
        thresholds["min_ess"],
    )
    return _failed(
        metrics,
        [
            ("rhat_max", lambda v: v <= max_rhat, f"rhat>{max_rhat:g}"),
            ("potential_rhat", lambda v: v <= max_rhat, f"potential_rhat>{max_rhat:g}"),
            ("rhat_fraction_ok", lambda v: v >= min_fraction, f"rhat_fraction<{min_fraction:g}"),
            ("ess_bulk_median", lambda v: v >= min_ess, f"ess<{min_ess:g}"),
        ],
    )


def failed_checks(metrics: Mapping[str, Any], thresholds: Mapping[str, Any]) -> list[str]:
    """Names of the failed diagnostics of one posterior run (empty: it passes).

    ``metrics`` holds the run's `rhat_max`, `potential_rhat`, `rhat_fraction_ok`, `ess_bulk_median`,
    `divergences` (after warm-up), `accept_rate_min`, `error_corrected` and `error_nishimori`, and
    `stopped` ("budget" when the draw budget ran out first, which is a failure of its own); a missing or
    non-finite value is a failure of its own, never a pass.
    """
    max_div, min_accept = thresholds["max_divergences"], thresholds["min_accept_rate"]
    failed = convergence_failures(metrics, thresholds)
    failed += _failed(
        metrics,
        [
            ("divergences", lambda v: v <= max_div, f"divergences>{max_div:g}"),
            ("accept_rate_min", lambda v: v >= min_accept, f"accept_rate<{min_accept:g}"),
        ],
    )
    if not all(math.isfinite(_number(metrics.get(key))) for key in ("error_corrected", "error_nishimori")):
        failed.append("non-finite error")
    if metrics.get("stopped") == BUDGET_FLAG:
        failed.append(BUDGET_FLAG)
    return failed


def verdict_line(metrics: Mapping[str, Any], thresholds: Mapping[str, Any]) -> str:
    """One log line: the diagnostics next to their thresholds, and PASS or FLAGGED with the failed checks."""
    failed = failed_checks(metrics, thresholds)
    status = "PASS" if not failed else "FLAGGED (" + "; ".join(failed) + ")"
    return (
        f"verdict {status}: R-hat <= {RHAT_OK} on {100 * _number(metrics.get('rhat_fraction_ok')):.1f} % of test "
        f"predictions (need >= {100 * thresholds['min_rhat_fraction']:g} %), max R-hat "
        f"{_number(metrics.get('rhat_max')):.3f} and potential R-hat {_number(metrics.get('potential_rhat')):.3f} "
        f"(need <= {thresholds['max_rhat']:g}), bulk ESS of the test predictions (median) "
        f"{_number(metrics.get('ess_bulk_median')):.0f} (need >= {thresholds['min_ess']:g}), sampling "
        f"divergences {metrics.get('divergences')} "
        f"(allowed {thresholds['max_divergences']}), worst chain acceptance "
        f"{_number(metrics.get('accept_rate_min')):.2f} (need >= {thresholds['min_accept_rate']:g})"
    )
