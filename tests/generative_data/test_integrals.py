"""The Gaussian integrals of the erf(·/√2) network against published-style check values (computed independently
with 4-D Gauss–Hermite quadrature at 40⁴ points) and against our own tensor-product Gauss–Hermite quadrature."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from deeplin.generative_data.integrals import generalisation_error, i2, i3, i4
from scipy.special import erf

C = np.array([[1.0, 0.3, 0.2, 0.1], [0.3, 1.5, 0.4, 0.2], [0.2, 0.4, 0.8, 0.25], [0.1, 0.2, 0.25, 1.2]])
CHECK = [
    (i2, (0, 1), 0.085669837739),
    (i3, (0, 1, 2), 0.124840887680),
    (i3, (0, 0, 1), 0.043095372205),
    (i3, (1, 2, 2), 0.224912230489),
    (i3, (2, 2, 2), 0.175473254444),
    (i4, (0, 1, 2, 3), 0.020046336687),
    (i4, (0, 0, 1, 1), 0.147709760255),
    (i4, (0, 1, 0, 1), 0.007254303265),
    (i4, (2, 2, 2, 2), 0.059700215287),
    (i4, (0, 1, 2, 2), 0.079284872456),
]


def g(z):
    return erf(z / np.sqrt(2))


def g_prime(z):
    return np.sqrt(2 / np.pi) * np.exp(-0.5 * z * z)


@pytest.fixture(scope="module")
def quadrature() -> tuple[np.ndarray, np.ndarray]:
    """Points z = Lξ (L Lᵀ = C) and weights of a 4-D tensor Gauss–Hermite rule, 30 nodes per axis."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(30)
    weights = weights / weights.sum()
    xi = np.array(list(itertools.product(nodes, repeat=4)))
    w = np.prod(np.array(list(itertools.product(weights, repeat=4))), axis=1)
    return xi @ np.linalg.cholesky(C).T, w


@pytest.mark.parametrize("func, index, value", CHECK, ids=[f"{f.__name__}{i}" for f, i, _ in CHECK])
def test_closed_forms_match_the_check_values(func, index, value) -> None:
    # both are exact closed forms; only rounding separates them
    assert func(C, *index) == pytest.approx(value, abs=1e-11)


def _quadrature_value(name: str, index, z: np.ndarray, w: np.ndarray, activation=g) -> float:
    a = index
    if name == "i2":
        f = activation(z[:, a[0]]) * activation(z[:, a[1]])
    elif name == "i3":
        f = g_prime(z[:, a[0]]) * z[:, a[1]] * activation(z[:, a[2]])
    else:
        f = g_prime(z[:, a[0]]) * g_prime(z[:, a[1]]) * activation(z[:, a[2]]) * activation(z[:, a[3]])
    return float(f @ w)


@pytest.mark.parametrize("func, index, value", CHECK, ids=[f"{f.__name__}{i}" for f, i, _ in CHECK])
def test_closed_forms_match_gauss_hermite_quadrature(quadrature, func, index, value) -> None:
    z, w = quadrature
    # 30 nodes per axis integrate these smooth integrands to far below 1e-8 (40 nodes agree to 7e-12)
    assert func(C, *index) == pytest.approx(_quadrature_value(func.__name__, index, z, w), abs=1e-8)


def test_quadrature_has_power_against_the_wrong_activation(quadrature) -> None:
    """erf(z) instead of erf(z/√2) changes I2 by far more than the tolerance above."""
    z, w = quadrature
    wrong = _quadrature_value("i2", (0, 1), z, w, activation=erf)
    assert abs(wrong - i2(C, 0, 1)) > 1e-2


def test_integrals_vectorise_over_index_tuples() -> None:
    a, b, c, d = (np.array(x) for x in zip(*[(0, 1, 2, 3), (0, 0, 1, 1), (2, 2, 2, 2)], strict=True))
    assert np.allclose(i4(C, a, b, c, d), [0.020046336687, 0.147709760255, 0.059700215287], atol=1e-11)
    grid = i3(C, np.arange(4)[:, None, None], np.arange(4)[None, :, None], np.arange(4)[None, None, :])
    assert grid.shape == (4, 4, 4) and grid[1, 2, 2] == pytest.approx(0.224912230489, abs=1e-11)


def test_generalisation_error_matches_the_check_value() -> None:
    assert generalisation_error(C[:2, :2], C[:2, 2:], C[2:, 2:]) == pytest.approx(0.594887384472, abs=1e-11)


def test_generalisation_error_vanishes_for_a_perfect_student() -> None:
    T = np.array([[1.0, 0.2], [0.2, 0.7]])
    assert generalisation_error(T, T, T) == pytest.approx(0.0, abs=1e-14)
    assert generalisation_error(T, 0.9 * T, T) > 1e-3  # power: a slightly misaligned student errs


def test_student_tensors_equal_the_general_closed_forms() -> None:
    from deeplin.generative_data.integrals import i3_students, i4_students

    k, b = np.arange(2)[:, None], np.arange(4)[None, :]
    same, other = i3_students(C, 2)
    assert np.allclose(same, i3(C, k, k, b), atol=1e-15) and np.allclose(other, i3(C, k, b, b), atol=1e-15)
    a, c = np.arange(2), np.arange(4)
    full = i4(
        C, a[:, None, None, None], a[None, :, None, None], c[None, None, :, None], c[None, None, None, :]
    )
    assert np.allclose(i4_students(C, 2), full, atol=1e-15)
