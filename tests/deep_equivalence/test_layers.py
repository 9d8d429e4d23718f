"""Layer recursion (docs/deep_equivalence.md, 'Layer recursion') against closed forms, check values, the identity
η0² + γ0 = σ_L and a Monte Carlo of wide random networks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.activations import ACTIVATIONS, get_activation, odd_activation_names
from deeplin.deep_equivalence.layers import gaussian_expectation, layer_coefficients

VARIANCES = [0.05, 0.3, 1.0, 2.5, 10.0]


@pytest.mark.parametrize("name", [n for n, a in ACTIVATIONS.items() if a.second_moment is not None])
@pytest.mark.parametrize("v", VARIANCES)
def test_quadrature_matches_closed_forms(name: str, v: float) -> None:
    act = ACTIVATIONS[name]
    second, err2 = gaussian_expectation(lambda x: act.fn(x) ** 2, v)
    mean_d, errd = gaussian_expectation(act.derivative, v)
    assert second == pytest.approx(act.second_moment(v), rel=1e-12, abs=1e-14)
    assert mean_d == pytest.approx(act.mean_derivative(v), rel=1e-12, abs=1e-14)
    assert err2 < 1e-11 and errd < 1e-11  # QUADPACK's own estimate is consistent with the claim


def test_tanh_check_values_from_spec() -> None:
    # φ = tanh, L = 1: ρ = 0.605706, √ε = 0.165576 (six digits; docs/deep_equivalence.md, 'Check values').
    c = layer_coefficients("tanh", 1)
    assert c.rho[0] == pytest.approx(0.605706, abs=5e-7)
    assert math.sqrt(c.epsilon[0]) == pytest.approx(0.165576, abs=5e-7)


def test_recursion_follows_closed_forms_through_depth() -> None:
    # erf: iterate the closed forms by hand for three layers and compare every coefficient.
    act = ACTIVATIONS["erf"]
    sigma, eta, gamma = 1.0, 1.0, 0.0
    coefficients = layer_coefficients("erf", 3)
    for layer in range(3):
        rho = act.mean_derivative(sigma)
        new_sigma = act.second_moment(sigma)
        eps = new_sigma - sigma * rho**2
        assert coefficients.rho[layer] == pytest.approx(rho, rel=1e-12)
        assert coefficients.epsilon[layer] == pytest.approx(eps, rel=1e-10)
        eta, gamma, sigma = eta * rho, gamma * rho**2 + eps, new_sigma
    assert coefficients.eta0 == pytest.approx(eta, rel=1e-12)
    assert coefficients.gamma0 == pytest.approx(gamma, rel=1e-10)


def test_linear_network_is_exactly_linear() -> None:
    c = layer_coefficients("linear", 4)
    assert c.eta0 == pytest.approx(1.0, abs=1e-13) and c.gamma0 == pytest.approx(0.0, abs=1e-13)


@pytest.mark.parametrize("name", odd_activation_names())
@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_identity_eta_squared_plus_gamma_is_sigma_L(name: str, depth: int) -> None:
    c = layer_coefficients(name, depth)
    assert c.eta0**2 + c.gamma0 == pytest.approx(c.sigma_L, rel=1e-12)
    assert c.gamma0 >= 0 and all(e >= -1e-14 for e in c.epsilon)


def test_non_odd_activation_is_refused_with_reason() -> None:
    with pytest.raises(ValueError, match="not odd") as info:
        layer_coefficients("relu", 1)
    assert "bias" in str(info.value)
    assert get_activation("relu", allow_non_odd=True).name == "relu"


def _network_statistics(name: str, depth: int, width: int, n_inputs: int, rng) -> np.ndarray:
    """One random teacher (docs/deep_equivalence.md): output variance, slope on the linear part, residual variance."""
    act = ACTIVATIONS[name]
    d0 = width
    x = rng.standard_normal((n_inputs, d0)) / math.sqrt(d0)
    layer, linear_map = x, np.eye(d0)
    for _ in range(depth):
        w = rng.standard_normal((width, layer.shape[1]))
        layer = act.fn(layer @ w.T) / math.sqrt(width)  # φ(W X)/√d_l
        linear_map = w @ linear_map / math.sqrt(width)
    a = rng.standard_normal(width)
    h = layer @ a
    v = linear_map.T @ a  # v = W1ᵀ…W_Lᵀ a / √(d1…dL) ~ N(0, I_{d0}): the linear part is η0 vᵀx
    lin = x @ v
    slope = np.dot(h, lin) / np.dot(lin, lin)
    residual = h - slope * lin
    return np.array([np.mean(h**2), slope, np.mean(residual**2)])


@pytest.mark.parametrize("name,depth", [("tanh", 1), ("tanh", 2), ("erf", 2), ("sin", 1)])
def test_wide_random_network_matches_recursion(name: str, depth: int) -> None:
    """Var h → σ_L, regression slope on vᵀx → η0, residual variance → γ0 (within 4 standard errors
    of the spread over independent networks, which includes finite-width and sampling noise)."""
    rng = np.random.default_rng(20261123)
    stats = np.array([_network_statistics(name, depth, 600, 3000, rng) for _ in range(8)])
    mean, se = stats.mean(axis=0), stats.std(axis=0, ddof=1) / math.sqrt(len(stats))
    c = layer_coefficients(name, depth)
    expected = np.array([c.sigma_L, c.eta0, c.gamma0])
    # finite-width bias is O(1/d) ≈ 2e-3 relative, well inside these tolerances
    assert np.all(np.abs(mean - expected) <= 4 * se + 2e-3 * np.abs(expected)), (mean, se, expected)
