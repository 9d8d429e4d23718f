"""The generators' moments: the sign generator's exact Ω, Φ against Monte Carlo, the deep generator's Monte
Carlo standard errors against the spread of independent estimates, and the linearised moments."""

from __future__ import annotations

import numpy as np
import pytest
from deeplin.generative_data.generators import (
    Generator,
    conditional_root,
    linearised_moments,
    make_generator,
    monte_carlo_moments,
    sign_moments,
)


def test_two_rows_with_overlap_one_half_give_one_third() -> None:
    F = np.array([[1.0, 0.0], [0.5, np.sqrt(0.75)]])
    omega, phi = sign_moments(F)
    assert omega[0, 1] == pytest.approx(1 / 3, abs=1e-15) and np.allclose(np.diag(omega), 1)
    assert phi == pytest.approx(np.sqrt(2 / np.pi) * F)


def test_sign_moments_match_monte_carlo() -> None:
    generator = make_generator("sign", 12, 4, 2, seed=0)
    exact_omega, exact_phi = sign_moments(generator.weights[0])
    estimate = monte_carlo_moments(generator, 200_000, seed=1)
    # entrywise z-scores with the estimator's own SE: all within 5 SE (N² + ND = 192 entries)
    off = ~np.eye(12, dtype=bool)
    assert np.all(np.abs(estimate.omega - exact_omega)[off] <= 5 * estimate.omega_se[off])
    assert np.all(np.abs(estimate.phi - exact_phi) <= 5 * estimate.phi_se)
    # power: without the arcsine (Ω = (2/π)FFᵀ off the diagonal) the estimate disagrees by many SE
    wrong = (2 / np.pi) * generator.weights[0] @ generator.weights[0].T
    assert np.max(np.abs(estimate.omega - wrong)[off] / estimate.omega_se[off]) > 10


def test_linearised_moments_of_one_sign_layer_are_the_closed_form() -> None:
    generator = make_generator("sign", 10, 5, 2, seed=3)
    F = generator.weights[0]
    omega_lin, phi_lin = linearised_moments(generator)
    assert omega_lin == pytest.approx((2 / np.pi) * F @ F.T + (1 - 2 / np.pi) * np.eye(10), abs=1e-14)
    assert phi_lin == pytest.approx(np.sqrt(2 / np.pi) * F, abs=1e-14)


def test_one_tanh_layer_linearisation_matches_its_exact_diagonal_and_phi() -> None:
    """For one tanh layer, Φ = κ1 F exactly (Stein) and diag Ω = E tanh(Z)² exactly; off the diagonal only
    the linear term is kept."""
    rng = np.random.default_rng(0)
    F = rng.standard_normal((6, 3))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    generator = Generator("deep_tanh", (F,))
    omega_lin, phi_lin = linearised_moments(generator)
    estimate = monte_carlo_moments(generator, 400_000, seed=2)
    assert np.all(np.abs(phi_lin - estimate.phi) <= 5 * estimate.phi_se)
    assert np.all(np.abs(np.diag(omega_lin) - np.diag(estimate.omega)) <= 5 * np.diag(estimate.omega_se))


def test_deep_generator_monte_carlo_error_is_what_it_states() -> None:
    generator = make_generator("deep_tanh", 10, 5, 2, seed=4)
    a, b = (monte_carlo_moments(generator, 50_000, seed=s) for s in (10, 11))
    z = (a.omega - b.omega)[np.triu_indices(10)] / np.sqrt(a.omega_se**2 + b.omega_se**2)[np.triu_indices(10)]
    # 55 differences of two independent estimates, each ~ N(0, 1) if the stated SE is right
    assert 0.7 < z.std() < 1.3
    assert np.all(np.abs(a.omega - a.omega.T) == 0) and np.allclose(
        a.omega_se.max(), 0.6 / np.sqrt(5e4), rtol=0.5
    )


def test_the_gaussian_equivalent_is_well_defined_and_has_the_moments() -> None:
    generator = make_generator("sign", 20, 10, 2, seed=5)
    omega, phi = sign_moments(generator.weights[0])
    assert np.linalg.eigvalsh(omega - phi @ phi.T).min() > 0  # Schur product theorem on arcsin − id
    root = conditional_root(omega, phi)
    assert root @ root + phi @ phi.T == pytest.approx(omega, abs=1e-12)


def test_generators_are_reproducible_and_odd() -> None:
    a, b = make_generator("deep_tanh", 8, 4, 3, seed=0), make_generator("deep_tanh", 8, 4, 3, seed=0)
    assert len(a.weights) == 3 and all(
        np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=True)
    )
    assert not np.array_equal(a.weights[0], make_generator("deep_tanh", 8, 4, 3, seed=1).weights[0])
    c = np.random.default_rng(0).standard_normal((5, 4))
    assert np.allclose(a(-c), -a(c))  # odd, so E x = 0
    with pytest.raises(ValueError, match="unknown generator"):
        make_generator("relu", 8, 4, 2, seed=0)
