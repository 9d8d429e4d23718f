"""The relaxed and exact convex programs: the deterministic 7×3 instance (optima checked against the dual
program and a second solver), recovery far above and far below the threshold, relaxed <= exact on every
instance solved here, the certificate implying recovery, and a solver failure kept apart from non-recovery."""

from __future__ import annotations

import math

import cvxpy as cp
import numpy as np
import pytest
from deeplin.relu_recovery import patterns as pat
from deeplin.relu_recovery import programs, theory
from deeplin.relu_recovery.aggregate import recovery_table
from deeplin.relu_recovery.cells import run_trial

X7 = np.array([[3, -2, -3], [-2, -1, -1], [-1, 1, 2], [1, 2, 0], [2, 3, 0], [2, 0, -1], [-1, 2, 3]], float)
W7 = np.array([1.0, -2.0, 2.0]) / 3
SOLVER = {
    "name": "CLARABEL",
    "fallback": "SCS",
    "tolerance": 1e-8,
    "max_iterations": 200,
    "scs_eps": 1e-9,
    "scs_max_iterations": 100000,
}
SETTINGS = {
    "models": ["linear_skip"],
    "directions": ["random"],
    "noise_levels": [0.0],
    "trials": 1,
    "pattern_factor": 2.0,
    "min_patterns": 50,
    "programs": ["relaxed", "exact"],
    "exact_max_dim": 20,
    "solver": SOLVER,
    "recovery_atol": 1e-4,
    "seed": 0,
}


@pytest.fixture(scope="module")
def masks7() -> np.ndarray:
    return pat.all_patterns(X7)


def _dual_value(x: np.ndarray, y: np.ndarray, masks: np.ndarray) -> float:
    """The relaxed program's dual: max yᵀz s.t. |Xᵀz| <= 1 and |XᵀD_j z| <= 1 for every pattern j."""
    z = cp.Variable(len(y))
    constraints = [cp.norm(x.T @ z) <= 1] + [
        cp.norm(x.T @ cp.multiply(masks[:, j], z)) <= 1 for j in range(masks.shape[1])
    ]
    problem = cp.Problem(cp.Maximize(y @ z), constraints)
    problem.solve(solver="CLARABEL")
    return float(problem.value)


def test_seven_by_three_relaxed_misses_and_exact_recovers(masks7: np.ndarray) -> None:
    y = X7 @ W7
    relaxed = programs.solve_program(X7, y, masks7, "relaxed", True, SOLVER)
    assert relaxed.status == "optimal" and relaxed.objective == pytest.approx(0.74726001, abs=2e-8)
    assert not programs.recovered(relaxed, W7, True, None, 1e-4)
    # strong duality: the dual's optimum is the same number (an independent program)
    assert _dual_value(X7, y, masks7) == pytest.approx(relaxed.objective, abs=1e-7)
    scs = programs.solve_program(X7, y, masks7, "relaxed", True, SOLVER | {"name": "SCS", "fallback": "none"})
    assert scs.objective == pytest.approx(0.74726001, abs=1e-6)
    exact = programs.solve_program(X7, y, masks7, "exact", True, SOLVER)
    assert exact.status == "optimal" and exact.objective == pytest.approx(1.0, abs=1e-7)
    assert programs.recovered(exact, W7, True, None, 1e-4)
    assert programs.distance(exact, W7, True, None) < 1e-5
    assert relaxed.objective <= exact.objective


def _trials(d: int, n: int, count: int, **changes) -> list[dict]:
    settings = SETTINGS | changes
    return [record for trial in range(count) for record in run_trial(d, n, trial, settings)]


def _check_invariants(records: list[dict]) -> None:
    """relaxed <= exact on every instance where both solved; NIC < 1 implies recovery by both programs."""
    by_instance: dict[tuple, dict] = {}
    for r in records:
        assert r["solved"], r
        by_instance.setdefault((r["model"], r["direction"], r["noise"], r["trial"]), {})[r["program"]] = r
        if r["certified"] and r["noise"] == 0:
            assert r["recovered"], r
    for pair in by_instance.values():
        if {"relaxed", "exact"} <= set(pair):
            assert pair["relaxed"]["objective"] <= pair["exact"]["objective"] * (1 + 1e-6), pair


def test_relaxed_recovers_far_above_the_threshold_and_fails_far_below() -> None:
    # n/d = 5: P(all-ones) = 2.6e-6 at d = 10, and the certificate typically holds
    above = _trials(10, 50, 3, programs=["relaxed"])
    assert all(r["recovered"] and r["distance"] < 1e-6 for r in above)
    # n = d: the points always lie in a half space (Wendel: probability 1), the all-ones pattern ties with the
    # skip connection and the interior-point optimum splits the neuron
    below = _trials(10, 10, 3, programs=["relaxed"])
    assert all(r["all_ones"] and not r["recovered"] and r["distance"] > 0.1 for r in below)
    _check_invariants(above + below)


@pytest.mark.slow
def test_invariants_on_instances_across_the_transition() -> None:
    """Both programs, both planted models and both directions at d = 6 around n = 2d."""
    records = []
    for n in (9, 12, 18):
        records += _trials(
            6,
            n,
            3,
            models=["linear_skip", "relu_plain"],
            directions=["random", "smallest_singular"],
            noise_levels=[0.0, 0.1],
        )
    _check_invariants(records)
    certified = [r for r in records if r["certified"] and r["noise"] == 0]
    assert certified, "the check needs certified instances"


def test_invariants_and_the_planted_relu_neuron() -> None:
    records = _trials(
        5, 30, 2, models=["linear_skip", "relu_plain"], directions=["random", "smallest_singular"]
    )
    _check_invariants(records)
    relu = [r for r in records if r["model"] == "relu_plain" and r["program"] == "exact"]
    assert relu and all(r["recovered"] for r in relu), relu


def test_a_solver_failure_is_recorded_and_not_counted_as_non_recovery() -> None:
    # one interior-point iteration and no fallback: CLARABEL stops at its iteration limit
    failed = _trials(
        6, 24, 2, programs=["relaxed"], solver=SOLVER | {"max_iterations": 1, "fallback": "none"}
    )
    assert failed and all(
        not r["solved"] and r["recovered"] is None and r["status"] != "optimal" for r in failed
    )
    good = _trials(6, 24, 2, programs=["relaxed"])
    # inject: trial 0 failed, trial 1 solved
    mixed = [r for r in failed if r["trial"] == 0] + [r for r in good if r["trial"] == 1]
    row = recovery_table(mixed, {(6, 24): theory.wendel_probability(24, 6)}).iloc[0]
    assert row["trials"] == 2 and row["solver_failures"] == 1 and row["solved"] == 1
    assert row["recovered"] == int(good[1]["recovered"]) and row["rate"] == float(good[1]["recovered"])


def test_the_fallback_solver_answers_when_the_primary_gives_up() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 4)) / math.sqrt(12)
    w = np.array([1.0, 0, 0, 0])
    solution = programs.solve_program(
        x, x @ w, pat.sample_patterns(x, 50, rng), "relaxed", True, SOLVER | {"max_iterations": 1}
    )
    assert solution.solver == "SCS" and solution.status == "optimal"


def test_an_unknown_program_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown program"):
        programs.solve_program(X7, X7 @ W7, np.ones((7, 1), np.int8), "primal", True, SOLVER)
