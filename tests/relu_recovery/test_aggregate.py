"""Wilson intervals against their closed form, the logistic threshold fit against known thresholds, and the
table's bookkeeping of solver failures, certificates and the relaxed <= exact check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.relu_recovery.aggregate import COLUMNS, fit_threshold, recovery_table, wilson_interval
from scipy import stats


@pytest.mark.parametrize("k, n", [(0, 10), (3, 10), (10, 10), (27, 50)])
def test_wilson_against_its_closed_form(k: int, n: int) -> None:
    # (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)   (Wilson 1927, JASA 22, 209)
    z = stats.norm.ppf(0.975)
    p = k / n
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low, high = wilson_interval(k, n)
    assert low == pytest.approx((centre - half) / (1 + z * z / n), abs=1e-12)
    assert high == pytest.approx((centre + half) / (1 + z * z / n), abs=1e-12)


@pytest.mark.slow
def test_threshold_fit_finds_a_known_threshold_and_covers_it() -> None:
    """Simulated logistic outcomes with threshold 2.3 and slope 4 at 7 ratios × 40 trials: in 20 repetitions
    the 95 % interval covers 2.3 at least 16 times (P(Binomial(20, 0.95) <= 15) = 0.003 for a correct
    interval) and the median estimate is within 0.1 of it (its SE is ≈ 0.08); a threshold of 3.3 is never
    covered (the power check)."""
    rng = np.random.default_rng(5)
    ratios = np.repeat(np.linspace(1, 4, 7), 40)
    covered, wrong, estimates = 0, 0, []
    for _ in range(20):
        hit = rng.random(len(ratios)) < 1 / (1 + np.exp(-4 * (ratios - 2.3)))
        fit = fit_threshold(ratios, hit)
        estimates.append(fit["threshold"])
        covered += fit["ci_low"] <= 2.3 <= fit["ci_high"]
        wrong += fit["ci_low"] <= 3.3 <= fit["ci_high"]
    assert covered >= 16 and wrong == 0
    assert abs(np.median(estimates) - 2.3) < 0.1


def test_threshold_fit_of_a_step_and_of_no_transition() -> None:
    step = fit_threshold([1, 1, 2, 2, 3, 3], [0, 0, 0, 1, 1, 1])
    assert (
        step["bracketed"]
        and 2 <= step["threshold"] <= 3
        and step["ci_low"] < 2
        and step["ci_high"] > 3 - 1e-9
    )
    none = fit_threshold([1, 2, 3], [1, 1, 1])
    assert not none["bracketed"] and math.isnan(none["threshold"])


def _record(program: str, trial: int, **fields) -> dict:
    base = {
        "model": "linear_skip",
        "direction": "random",
        "noise": 0.0,
        "program": program,
        "d": 4,
        "n": 8,
        "trial": trial,
        "status": "optimal",
        "solver": "CLARABEL",
        "solved": True,
        "recovered": True,
        "distance": 1e-8,
        "objective": 1.0,
        "seconds": 0.1,
        "patterns": 20,
        "certificate": 0.9,
        "certified": True,
        "all_ones": False,
    }
    return base | fields


def test_table_counts_failures_apart_and_flags_broken_invariants() -> None:
    records = [
        _record("relaxed", 0),
        _record("relaxed", 1, recovered=False, certified=True, objective=1.2, distance=0.5),
        _record("relaxed", 2, status="user_limit", solved=False, recovered=None, objective=None),
        _record("exact", 0),
        _record("exact", 1, objective=1.0),
        _record("exact", 2),
    ]
    table = recovery_table(records, {(4, 8): 0.5})
    assert list(table.columns) == list(COLUMNS)
    table = table.set_index("program")
    relaxed, exact = table.loc["relaxed"], table.loc["exact"]
    assert relaxed["trials"] == 3 and relaxed["solved"] == 2 and relaxed["solver_failures"] == 1
    assert relaxed["rate"] == 0.5 and relaxed["certified_not_recovered"] == 1
    assert exact["relaxed_above_exact"] == 1 and exact["rate"] == 1.0 and exact["wendel_all_ones"] == 0.5
