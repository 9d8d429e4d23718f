"""Wendel's probability, Cover's count and the neural-isometry certificate against independent computations:
published check values, exact identities, an LP Monte Carlo and the KKT conditions checked by a solver."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from deeplin.relu_recovery import patterns as pat
from deeplin.relu_recovery import theory

# The deterministic 7×3 instance (unscaled) with its planted neuron; its arrangement has Cover(7, 3) = 44 cells.
X7 = np.array([[3, -2, -3], [-2, -1, -1], [-1, 1, 2], [1, 2, 0], [2, 3, 0], [2, 0, -1], [-1, 2, 3]], float)
W7 = np.array([1.0, -2.0, 2.0]) / 3


@pytest.mark.parametrize(
    "n, d, value",
    [
        (15, 6, 0.2119750977),
        (24, 12, 0.5),
        (30, 12, 0.1324654482),
        (45, 15, 0.0113144206),
        (100, 40, 0.0219376468),
    ],
)
def test_wendel_check_values(n: int, d: int, value: float) -> None:
    assert theory.wendel_probability(n, d) == pytest.approx(value, abs=1e-10)


@pytest.mark.parametrize("d", [1, 2, 5, 12, 40, 150])
def test_wendel_is_exactly_one_half_at_n_equal_2d(d: int) -> None:
    # Σ_{k<d} C(2d−1, k) is half of Σ_k C(2d−1, k) = 2^{2d−1} by the symmetry C(m, k) = C(m, m−k)
    assert theory.wendel_probability_exact(2 * d, d) == Fraction(1, 2)


def test_wendel_is_one_up_to_n_equal_d_and_cover_count_is_two_to_the_n_there() -> None:
    for d in (3, 7):
        for n in range(1, d + 1):
            assert theory.wendel_probability_exact(n, d) == 1
            assert theory.cover_count(n, d) == 2**n
    assert theory.cover_count(7, 3) == 44
    assert theory.cover_count(15, 6) * Fraction(1, 2**15) == theory.wendel_probability_exact(15, 6)


def _monte_carlo_all_ones(n: int, d: int, trials: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    return float(np.mean([pat.has_all_ones(rng.standard_normal((n, d))) for _ in range(trials)]))


@pytest.mark.parametrize("n, d", [(15, 6), (12, 6)])
def test_wendel_against_an_lp_monte_carlo(n: int, d: int) -> None:
    """The all-ones LP on Gaussian data: frequency within 4 binomial SEs of Wendel's probability. With 600
    trials the SE is <= 0.0204, so the band is <= ±0.082 (false alarm < 1e-4); the probability for an
    affine half space (a bias: Wendel's formula in d + 1 dimensions, 0.395 at (15, 6), 0.726 at (12, 6)) lies
    outside it: the power check."""
    trials = 600
    p = theory.wendel_probability(n, d)
    band = 4 * math.sqrt(p * (1 - p) / trials)
    frequency = _monte_carlo_all_ones(n, d, trials, seed=n * 100 + d)
    assert abs(frequency - p) < band, (frequency, p, band)
    assert abs(theory.wendel_probability(n, d + 1) - frequency) > 2 * band


def test_all_ones_lp_finds_a_half_space_and_refuses_a_symmetric_set() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((30, 4))
    x[:, 0] = np.abs(x[:, 0]) + 0.1  # every point has e1·x > 0
    assert pat.all_ones_margin(x) > 0.1 and pat.has_all_ones(x)
    # a point and its mirror image can never both lie strictly on the positive side
    assert not pat.has_all_ones(np.vstack([x, -x[:1]]))


def test_all_patterns_of_the_seven_by_three_instance() -> None:
    masks = pat.all_patterns(X7)
    assert masks.shape == (7, 44) and len(np.unique(masks.T, axis=0)) == 44
    assert not pat.has_all_ones(X7) and not (masks == 1).all(axis=0).any()


def test_certificate_check_value_and_the_all_ones_tie() -> None:
    masks = pat.all_patterns(X7)
    assert theory.isometry_certificate(X7, masks, W7, None) == pytest.approx(1.657602, abs=5e-7)
    # the group D = I contributes XᵀIX(XᵀX)⁻¹w = w, exactly |w| = 1: with it in the set the value is >= 1
    # (a tie at best), never a certificate
    ones = np.ones((7, 1), dtype=np.int8)
    assert theory.isometry_certificate(X7, ones, W7, None) == pytest.approx(1.0, abs=1e-12)
    assert not theory.certified(theory.isometry_certificate(X7, ones, W7, None))
    assert theory.certified(0.99) and not theory.certified(1.0 - 1e-12)


def test_certificate_is_the_norm_of_a_feasible_dual() -> None:
    """Independent check: z = X(XᵀX)⁻¹w solves Xᵀz = w, and the value is max_j |XᵀD_j z| computed directly."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 5)) / math.sqrt(40)
    w = rng.standard_normal(5)
    w /= np.linalg.norm(w)
    masks = pat.sample_patterns(x, 80, rng)
    z = np.linalg.lstsq(x.T, w, rcond=None)[0]  # the minimal-norm solution of Xᵀz = w
    assert np.allclose(x.T @ z, w)
    direct = max(np.linalg.norm(x.T @ (masks[:, j] * z)) for j in range(masks.shape[1]))
    assert theory.isometry_certificate(x, masks, w, None) == pytest.approx(direct, rel=1e-10)
    # without skip: the planted pattern's block D*X replaces X and its own group is left out
    star = (x @ w >= 0).astype(np.int8)
    masks, planted = pat.with_pattern(masks, star)
    a = x * star[:, None]
    z = a @ np.linalg.solve(a.T @ a, w)
    direct = max(np.linalg.norm(x.T @ (masks[:, j] * z)) for j in range(masks.shape[1]) if j != planted)
    assert theory.isometry_certificate(x, masks, w, planted) == pytest.approx(direct, rel=1e-10)


def test_wendel_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="n >= 1"):
        theory.wendel_probability(0, 3)
