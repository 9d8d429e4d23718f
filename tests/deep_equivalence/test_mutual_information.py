"""The I-MMSE ladder: quadrature on exact curves, scalar channels with known mutual information, and the full
estimator on the exact conjugate posterior (docs/deep_equivalence.md, 'Mutual information at finite size')."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.deep_equivalence.layers import layer_coefficients
from deeplin.deep_equivalence.mutual_information import (
    coarse_ladder,
    conjugate_ladder,
    make_ladder,
    twin_covariance_eigenvalues,
    twin_mi_exact,
    twin_mmse,
)
from scipy import integrate

COEF = layer_coefficients("tanh", 1)
ETA0, GAMMA0 = COEF.eta0, COEF.gamma0
SIGMA_L = ETA0**2 + GAMMA0  # prior variance of the linear readout's output


def _inputs(d0: int, alpha: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((round(alpha * d0), d0)) / math.sqrt(d0)


def test_ladder_weights_integrate_known_functions():
    # ½ ∫₀^S m ds with m = 1 is S/2 and with m = 1/(1+s) is ½ log(1+S); 16 nodes reach 1e-9 on both.
    ladder = make_ladder(10.0, 1.0, 16)
    assert ladder.integrate(np.ones(16)) == pytest.approx(5.0, rel=1e-9)
    assert ladder.integrate(1 / (1 + ladder.snr)) == pytest.approx(0.5 * math.log(11.0), rel=1e-9)
    assert np.all(np.diff(ladder.snr) > 0) and 0 < ladder.snr[0] and ladder.snr[-1] < 10.0


@pytest.mark.parametrize("alpha", [0.5, 2.0, 4.0])
@pytest.mark.parametrize("noise", [0.1, 0.01])
def test_quadrature_on_exact_twin_curve_matches_log_det(alpha, noise):
    # The 8-rung quadrature of m(s) = tr[C(I+sC)⁻¹]/n against ½ log det(I + C/Δ)/n: the smooth integrand in
    # u makes it accurate to ~1e-6 (measured ≤ 8e-7 at α = 4, Δ = 0.01); the coarse-ladder difference
    # (the stated error) must bound the actual error.
    c = twin_covariance_eigenvalues(_inputs(100, alpha, 1), ETA0, GAMMA0)
    exact = twin_mi_exact(c, noise)
    ladder = make_ladder(1 / noise, SIGMA_L, 8)
    estimate = ladder.integrate(twin_mmse(c, ladder.snr))
    coarse = coarse_ladder(ladder)
    stated = abs(estimate - coarse.integrate(twin_mmse(c, coarse.snr)))
    assert abs(estimate - exact) < 5e-6
    assert abs(estimate - exact) <= stated
    # power: a uniform trapezoid on s with 9 points is far off (the reason for the change of variable)
    s = np.linspace(0, 1 / noise, 9)
    assert abs(0.5 * integrate.trapezoid(twin_mmse(c, s), s) - exact) > 1e-3


def test_log_det_matches_sylvester_and_theory_terms():
    # Sylvester: n > d0 diagonalises XᵀX; the full n × n determinant agrees. And at α = 2, Δ = 0.1 the
    # average over inputs approaches the asymptotic I/n = 0.5500218 (tanh, L = 1; per-input sd ≈ 1e-3 at
    # d0 = 100, so 5 sd for one input).
    x = _inputs(100, 2.0, 3)
    c = twin_covariance_eigenvalues(x, ETA0, GAMMA0)
    sign, logdet = np.linalg.slogdet(np.eye(len(x)) + (ETA0**2 * x @ x.T + GAMMA0 * np.eye(len(x))) / 0.1)
    assert sign > 0 and twin_mi_exact(c, 0.1) == pytest.approx(0.5 * logdet / len(x), rel=1e-10)
    assert twin_mi_exact(c, 0.1) == pytest.approx(0.5500218, abs=5e-3)


def test_twin_mmse_limits_and_monotonicity():
    c = twin_covariance_eigenvalues(_inputs(50, 2.0, 4), ETA0, GAMMA0)
    # s → 0: the prior variance tr(C)/n ≈ σ_L (‖x‖² ≈ 1); it decreases with s, and I/n grows with s_max.
    assert twin_mmse(c, 0.0)[0] == pytest.approx(c.mean())
    assert c.mean() == pytest.approx(SIGMA_L, rel=0.1)
    s = np.geomspace(1e-3, 1e3, 30)
    assert np.all(np.diff(twin_mmse(c, s)) < 0)
    mi = [twin_mi_exact(c, 1 / smax) for smax in s]
    assert mi[0] > 0 and np.all(np.diff(mi) > 0)


def _binary_mmse(s: float) -> float:
    """Binary ±1 input: mmse(s) = 1 − E tanh(s + √s Z) (Guo, Shamai, Verdú 2005, eq. (17))."""
    f = lambda z: math.tanh(s + math.sqrt(s) * z) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa: E731
    return 1.0 - integrate.quad(f, -12, 12, epsabs=1e-13)[0]


def _binary_mi(s: float) -> float:
    """Binary ±1 input: I(s) = s − E log cosh(s + √s Z) (Guo, Shamai, Verdú 2005, eq. (18))."""

    def f(z: float) -> float:
        t = s + math.sqrt(s) * z
        logcosh = abs(t) + math.log1p(math.exp(-2 * abs(t))) - math.log(2)
        return logcosh * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)

    return s - integrate.quad(f, -12, 12, epsabs=1e-13)[0]


@pytest.mark.parametrize("s_max", [0.5, 4.0, 20.0])
def test_i_mmse_on_scalar_gaussian_channels(s_max):
    # Gaussian input N(0, P): I = ½ log(1 + s P), mmse = P/(1 + sP); binary input: the closed forms above.
    # 8 rungs are accurate to ~1e-7 on the Gaussian input and ~1e-4 on the binary one, whose mmse falls
    # like e^{-s/2} (sharper in u at large s); the stated error (coarse ladder) bounds both.
    for power in (0.5, 2.0):
        ladder = make_ladder(s_max, power, 8)
        mmse = power / (1 + ladder.snr * power)
        assert ladder.integrate(mmse) == pytest.approx(0.5 * math.log1p(s_max * power), abs=1e-6)
    ladder = make_ladder(s_max, 1.0, 8)
    coarse = coarse_ladder(ladder)
    estimate = ladder.integrate(np.array([_binary_mmse(s) for s in ladder.snr]))
    stated = abs(estimate - coarse.integrate(np.array([_binary_mmse(s) for s in coarse.snr])))
    exact = _binary_mi(s_max)
    assert abs(estimate - exact) < 2e-4 and abs(estimate - exact) <= stated
    # power: the Gaussian formula is wrong for the binary input by far more than the quadrature error
    assert abs(0.5 * math.log1p(s_max) - exact) > max(1e-3, 10 * abs(estimate - exact))


def test_conjugate_ladder_matches_log_det():
    # The full estimator (8 rungs, M = 100 exact posterior draws per rung, same U* and Z at every rung) on
    # 8 independent input/teacher draws at d0 = 60, α = 2, Δ = 0.1: the paired difference to the exact log-det
    # averages to zero within 4 standard errors (its SE, ≈ 5e-4, comes from the draws; the quadrature error is
    # ~1e-9). Power: a sample variance with ddof = 0 at M = 5 is biased by −1/5 of the mmse and is caught.
    ladder = make_ladder(10.0, SIGMA_L, 8)
    rng = np.random.default_rng(7)
    post, teach, biased = [], [], []
    for rep in range(8):
        x = _inputs(60, 2.0, 100 + rep)
        exact = twin_mi_exact(twin_covariance_eigenvalues(x, ETA0, GAMMA0), 0.1)
        est = conjugate_ladder(x, ETA0, GAMMA0, ladder, 100, rng)
        post.append(est.mi_posterior - exact)
        teach.append(est.mi_teacher - exact)
        few = conjugate_ladder(x, ETA0, GAMMA0, ladder, 5, rng)
        biased.append(few.mi_posterior * 4 / 5 - exact)  # ddof = 0 instead of 1
    for diffs in (post, teach):
        se = np.std(diffs, ddof=1) / math.sqrt(len(diffs))
        assert abs(np.mean(diffs)) < 4 * se + 1e-6
    assert np.mean(post) != 0.0
    se_biased = np.std(biased, ddof=1) / math.sqrt(len(biased))
    assert abs(np.mean(biased)) > 4 * se_biased
    # the teacher-based estimate is much noisier than the posterior-variance one (≈ 20× in sd)
    assert np.std(teach) > 3 * np.std(post)
