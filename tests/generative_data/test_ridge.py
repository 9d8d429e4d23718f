"""The ridge fixed point against check values, its λ → 0 limits, a damped iteration, and direct ridge on
Gaussian data at large N."""

from __future__ import annotations

import numpy as np
import pytest
from deeplin.generative_data.ridge import asymptote, fixed_point, population_error, ridge_weights

ISOTROPIC = {"spectrum": np.ones(100), "projections": np.ones(100), "gamma": 1.0, "rho": 1.0}
TWO_LEVEL = {
    "spectrum": np.r_[np.full(50, 0.5), np.full(50, 2.0)],
    "projections": 0.4 * np.r_[np.full(50, 0.5), np.full(50, 2.0)],
    "gamma": 0.5,
    "rho": 1.0,
}


@pytest.mark.parametrize("alpha, error, V", [(0.5, 0.65952248, 5.74165739), (2.0, 0.19266455, 0.84428877)])
def test_isotropic_check_values(alpha, error, V) -> None:
    point = fixed_point(**ISOTROPIC, alpha=alpha, lam=0.1, noise=0.25)
    assert point.error == pytest.approx(error, abs=1e-8) and point.V == pytest.approx(V, abs=1e-8)


@pytest.mark.parametrize(
    "alpha, error, V",
    [(0.5, 0.92766786, 51.20242255), (1.0, 1.09227697, 8.63623316), (3.0, 0.29822731, 0.49538043)],
)
def test_two_level_check_values(alpha, error, V) -> None:
    point = fixed_point(**TWO_LEVEL, alpha=alpha, lam=0.01)
    assert point.error == pytest.approx(error, abs=1e-8) and point.V == pytest.approx(V, abs=1e-7)
    assert point.V > 0


def test_asymptote_and_limits() -> None:
    assert asymptote(TWO_LEVEL["spectrum"], TWO_LEVEL["projections"], 0.5, 1.0) == pytest.approx(0.2)
    # λ → 0, isotropic: ρ(1 − α) + Δα/(1 − α) below α = 1 and Δ/(α − 1) above
    for alpha, limit in ((0.5, 0.5 + 0.25), (3.0, 0.25 / 2)):
        assert fixed_point(**ISOTROPIC, alpha=alpha, lam=1e-7, noise=0.25).error == pytest.approx(
            limit, abs=1e-5
        )
    # α → 0 gives ε → ρ_θ, α → ∞ at tiny λ gives ε_∞
    assert fixed_point(**TWO_LEVEL, alpha=1e-6, lam=0.01).error == pytest.approx(1.0, abs=1e-4)
    assert fixed_point(**TWO_LEVEL, alpha=1e5, lam=1e-6).error == pytest.approx(0.2, abs=1e-3)


def test_damped_iteration_reaches_the_same_point() -> None:
    """An independent solver: iterate V ← (1 − s)V + s⟨ω/(λ + V̂ω)⟩ from V = 1."""
    w, lam, alpha = TWO_LEVEL["spectrum"], 0.01, 3.0
    V = 1.0
    for _ in range(5000):
        V = 0.5 * V + 0.5 * np.mean(w / (lam + alpha / (1 + V) * w))
    assert fixed_point(**TWO_LEVEL, alpha=alpha, lam=lam).V == pytest.approx(V, rel=1e-10)


def test_direct_ridge_on_gaussian_data_at_large_n() -> None:
    """Ω = diag(two levels), Φ rank one along θ: 4 training sets at N = 1000, D = 500, α = 3, λ = 0.01
    against the fixed point (the two-level problem, whose ε does not depend on N)."""
    rng = np.random.default_rng(0)
    N, D, lam, alpha = 1000, 500, 0.01, 3.0
    spectrum = TWO_LEVEL["spectrum"].repeat(10)
    theta = rng.standard_normal(D)
    theta *= np.sqrt(D) / np.linalg.norm(theta)  # ρ_θ = 1
    # Φ = φθᵀ/|θ|², so Φθ = φ and d_i = φ_i² = 0.4 ω_i; Ω − ΦΦᵀ ⪰ 0 since φᵀΩ⁻¹φ/D = 0.8 < 1
    phi_vec = np.sqrt(0.4 * spectrum) * rng.choice([-1, 1], N)
    phi = np.outer(phi_vec, theta) / (theta @ theta)
    d = (phi @ theta) ** 2
    omega = np.diag(spectrum)
    assert np.all(np.linalg.eigvalsh(omega - phi @ phi.T) > -1e-12)
    theory = fixed_point(spectrum, d, D / N, alpha, lam, 1.0)
    S = omega - phi @ phi.T
    root = np.linalg.cholesky(S + 1e-12 * np.eye(N))
    errors = []
    for _ in range(4):
        n = int(alpha * N)
        c = rng.standard_normal((n, D))
        x = c @ phi.T + rng.standard_normal((n, N)) @ root.T
        w = ridge_weights(x, c @ theta / np.sqrt(D), lam)
        errors.append(population_error(w, omega, phi @ theta / np.sqrt(D), 1.0))
    mean, se = np.mean(errors), np.std(errors, ddof=1) / 2
    assert abs(mean - theory.error) <= 4 * se + 0.005, (mean, se, theory.error)
    # power: the fixed point with a mean-loss λ (λ·n) is far off
    assert abs(fixed_point(spectrum, d, D / N, alpha, lam * alpha * N, 1.0).error - mean) > 0.1
