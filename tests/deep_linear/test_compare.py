"""The comparison of one cell with the three laws, on networks drawn from the exact finite law (the reduced
Bartlett sampler) instead of simulated: every moment's z-score must then be a standard-normal draw, every
finite-law KS distance at noise level, and a wrong depth must be caught."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.deep_linear import compare, theory

A, WIDTH, RHO0, NETWORKS = 0.25, 16, 0.3, 4000
SETTINGS = {"input_overlap": RHO0, "reference_draws": 20000, "sde_step": 0.002}
SEEDS = {"finite": 11, "limit": 12}


def exact_cell(depth: int, seed: int, width: int = WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """Kernels drawn from the exact finite law and two output units per network, Gaussian given the kernel."""
    rng = np.random.default_rng(seed)
    kernels = theory.bartlett_kernels(width, depth, RHO0, NETWORKS, rng)
    chol = np.linalg.cholesky(kernels)
    outputs = np.einsum("nij,nuj->nui", chol, rng.standard_normal((NETWORKS, 2, 2)))
    return outputs, kernels


def rows_by_statistic(rows: list[dict]) -> dict[str, dict]:
    return {row["statistic"]: row for row in rows}


def test_rows_have_every_column_and_statistic() -> None:
    outputs, kernels = exact_cell(theory.depth_for(A, WIDTH), seed=1)
    rows = compare.cell_statistics(outputs, kernels, A, WIDTH, SETTINGS, SEEDS)
    assert [row["statistic"] for row in rows] == [*compare.MOMENTS, *compare.DISTRIBUTIONS]
    for row in rows:
        assert list(row) == list(compare.COLUMNS)
        assert row["a"] == A and row["N"] == WIDTH and row["L"] == 4 and row["networks"] == NETWORKS
    by_name = rows_by_statistic(rows)
    assert by_name["kurtosis"]["finite"] == pytest.approx(3 * (1 + 2 / WIDTH) ** 4, rel=1e-12)
    assert by_name["kurtosis"]["limit"] == pytest.approx(3 * math.exp(2 * A), rel=1e-12)
    assert by_name["kurtosis"]["gaussian_process"] == 3.0
    assert by_name["ks_output_vs_gp"]["noise_level"] == pytest.approx(0.8276 / math.sqrt(NETWORKS))


def test_exact_draws_agree_with_the_finite_law_and_a_wrong_depth_does_not() -> None:
    """Exact finite-law networks: every |z| <= 4 (a 4-sigma bound on 7 statistics fails by chance with
    probability ~5e-4) and the finite-law KS tests do not reject at 1e-3. Power: the same cell drawn with
    three extra layers moves E log K by 3[ψ(N/2) + log(2/N)] ≈ −0.19, i.e. by ~15 SE."""
    depth = theory.depth_for(A, WIDTH)
    outputs, kernels = exact_cell(depth, seed=2)
    rows = rows_by_statistic(compare.cell_statistics(outputs, kernels, A, WIDTH, SETTINGS, SEEDS))
    for name in compare.MOMENTS:
        assert abs(rows[name]["z"]) <= 4, (name, rows[name])
    for name in ("ks_log_k_vs_finite", "ks_output_vs_finite", "ks_corr_vs_finite"):
        assert rows[name]["p_value"] > 1e-3, (name, rows[name])
    wrong_outputs, wrong_kernels = exact_cell(depth + 3, seed=3)
    wrong = rows_by_statistic(
        compare.cell_statistics(wrong_outputs, wrong_kernels, A, WIDTH, SETTINGS, SEEDS)
    )
    assert abs(wrong["log_k_mean"]["z"]) > 8
    assert wrong["ks_log_k_vs_finite"]["p_value"] < 1e-6


def test_the_gaussian_process_is_rejected_where_the_mixture_is_not() -> None:
    """At a = 0.5 the outputs' tails are visibly heavier than N(0, 1): with 4000 networks the GP's KS
    distance is many noise levels while the limit mixture's stays near one (N = 64: finite ≈ limit)."""
    width, a = 64, 0.5
    outputs, kernels = exact_cell(theory.depth_for(a, width), seed=4, width=width)
    rows = rows_by_statistic(compare.cell_statistics(outputs, kernels, a, width, SETTINGS, SEEDS))
    assert rows["ks_output_vs_gp"]["estimate"] > 3 * rows["ks_output_vs_gp"]["noise_level"]
    assert rows["ks_output_vs_mixture"]["estimate"] < 2.5 * rows["ks_output_vs_mixture"]["noise_level"]
