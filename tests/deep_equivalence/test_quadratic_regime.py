"""The quadratic-regime grid, table and figure ticks (deeplin.deep_equivalence.quadratic_regime)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.deep_equivalence.mi_figures import _distinct_ticks
from deeplin.deep_equivalence.quadratic_regime import quadratic_alpha, quadratic_points, quadratic_table


@pytest.mark.parametrize("width", [8, 12, 16, 33])
@pytest.mark.parametrize("kappa", [0.1, 0.25, 1.0, 2.0])
def test_the_alpha_of_a_point_gives_exactly_its_rounded_n(width: int, kappa: float) -> None:
    n = quadratic_alpha(width, kappa) * width
    assert n == pytest.approx(round(kappa * width * width), abs=1e-9)


def test_the_grid_lists_every_model_width_kappa_and_seed_once() -> None:
    section = {"quadratic": {"models": ["m"], "widths": [8, 12], "kappas": [0.5, 2.0], "seeds": 3}}
    points = quadratic_points(section)
    assert len(points) == 12
    assert len({tuple(sorted(p.items())) for p in points}) == 12
    assert quadratic_points({}) == []


def _row(seed: int, deep: float, teacher: float, prior: float) -> dict:
    return {
        "model": "m",
        "width": 8,
        "alpha": "4",
        "kappa": 0.5,
        "seed": seed,
        "n": 32,
        "activation": "tanh",
        "depth": 1,
        "readout": "linear",
        "noise": 0.1,
        "parameters": 72,
        "gamma0": 0.0274,
        "deep_error": deep,
        "deep_nishimori": deep,
        "teacher_half": teacher,
        "prior_half": prior,
        "glm_theory": 0.06,
        "glm_twin": 0.055,
        "glm_estimator_on_deep": 0.058,
        "passes_diagnostics": seed != 0,
        "rhat_max": 1.01,
        "seconds": 2.0,
    }


def test_the_table_holds_the_seed_means_and_their_standard_errors() -> None:
    rng = np.random.default_rng(3)
    deep = rng.normal(0.04, 0.01, 5)
    teacher, prior = deep + rng.normal(0, 0.002, 5), deep + rng.normal(0, 0.002, 5)
    rows = [_row(s, deep[s], teacher[s], prior[s]) for s in range(5)]
    (row,) = quadratic_table(rows).to_dict("records")
    assert row["seeds"] == 5 and row["fraction_passing"] == pytest.approx(0.8)
    assert row["deep_error"] == pytest.approx(deep.mean(), rel=1e-12)
    assert row["deep_error_se"] == pytest.approx(deep.std(ddof=1) / math.sqrt(5), rel=1e-12)
    # gap = GLM prediction − deep error, its SE the seeds' spread of that difference (the theory is fixed)
    assert row["gap"] == pytest.approx(0.06 - deep.mean(), rel=1e-12)
    assert row["gap_se"] == pytest.approx(row["deep_error_se"], rel=1e-12)
    halves = teacher - prior
    assert row["halves_difference"] == pytest.approx(halves.mean(), rel=1e-12)
    assert row["halves_difference_se"] == pytest.approx(halves.std(ddof=1) / math.sqrt(5), rel=1e-12)


def test_kappas_that_differ_only_by_rounding_share_one_tick() -> None:
    # κ = round(0.1 d0²)/d0² at d0 = 8, 12, 16 is 0.09375, 0.0972, 0.1016: one label, not three
    kappas = [round(0.1 * w * w) / w**2 for w in (8, 12, 16)] + [0.25, 0.5, 1.0, 2.0]
    assert _distinct_ticks(kappas) == [0.094, 0.25, 0.5, 1.0, 2.0]
    # power: without the merging the three near-equal values would be three ticks
    assert len({float(f"{k:.2g}") for k in kappas}) == 7
