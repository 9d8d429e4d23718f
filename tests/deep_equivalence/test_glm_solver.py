"""Bayes-optimal GLM theory (Barbier et al., PNAS 2019; docs/deep_equivalence.md): closed forms, limits, Cui et al.'s
values, internal identities, the sign readout by independent routes, and the multiple-root machinery."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.activations import Activation, get_readout
from deeplin.deep_equivalence.glm_channels import (
    GaussianChannel,
    LinearChannel,
    ProbitChannel,
    linear_mmse,
    make_channel,
)
from deeplin.deep_equivalence.glm_solver import (
    FixedPointError,
    free_entropy,
    mutual_information,
    solve,
    solve_curve,
)
from deeplin.deep_equivalence.layers import layer_coefficients
from scipy import integrate, special

TANH2 = layer_coefficients("tanh", 2)


def test_linear_mmse_solves_the_quadratic() -> None:
    for alpha in (0.1, 1.0, 3.0):
        for signal, noise in ((0.3, 0.1), (1.0, 1e-6), (0.5, 2.0)):
            m = linear_mmse(alpha, signal, noise)
            assert 0 < m < 1
            assert signal * m**2 + (noise + signal * (alpha - 1)) * m - noise == pytest.approx(0, abs=1e-15)
    # noiseless linear regression: m = max(1 − α, 0)
    assert linear_mmse(0.4, 1.0, 0.0) == pytest.approx(0.6) and linear_mmse(2.0, 1.0, 0.0) == 0.0


def test_cui_krzakala_zdeborova_values() -> None:
    # Check values (docs/deep_equivalence.md, 'Check values'): φ = tanh(2x), L = 2, Δ = 0, linear readout.
    tanh2x = Activation(
        "tanh2x", "tanh(2x)", lambda x: np.tanh(2 * x), lambda x: 2 * (1 - np.tanh(2 * x) ** 2), True
    )
    c = layer_coefficients(tanh2x, 2)
    channel = make_channel("linear", c.eta0, c.gamma0, 0.0)
    assert solve(channel, 1.0289855072463767).q == pytest.approx(0.5581237364898, abs=1e-12)
    assert solve(channel, 2.0579710144927534).q == pytest.approx(0.7748706227866, abs=1e-12)


@pytest.mark.parametrize("readout", ["linear", "tanh"])
def test_small_and_large_alpha_limits(readout: str) -> None:
    # docs/deep_equivalence.md, 'Linear readout': α → 0 gives the prior error σ_L (E f(√σ_L Z)² for f = tanh);
    # α → ∞ gives γ0 for the linear readout (the depth's nonlinear part is never learnt).
    channel = make_channel(readout, TANH2.eta0, TANH2.gamma0, 0.1)
    tiny = solve(channel, 1e-7)
    prior_error = channel.errors(0.0)[0]
    assert tiny.error == pytest.approx(prior_error, rel=1e-6)
    if readout == "linear":
        assert prior_error == pytest.approx(TANH2.sigma_L, rel=1e-14)
        huge = solve(channel, 1e7)
        assert huge.error == pytest.approx(TANH2.gamma0, rel=1e-6)


@pytest.mark.parametrize("act,depth,delta", [("tanh", 1, 0.1), ("erf", 3, 0.01), ("tanh", 2, 1.0)])
def test_general_solver_with_identity_readout_equals_closed_form(act: str, depth: int, delta: float) -> None:
    c = layer_coefficients(act, depth)
    numeric = GaussianChannel(get_readout("linear"), c.eta0, c.gamma0, delta)
    closed = LinearChannel(c.eta0, c.gamma0, delta)
    alphas = [0.25, 1.0, 3.0, 8.0]
    for a, b in zip(solve_curve(numeric, alphas), solve_curve(closed, alphas), strict=True):
        assert a.q == pytest.approx(b.q, rel=1e-10)
        assert a.error == pytest.approx(b.error, rel=1e-10)
        assert a.free_entropy == pytest.approx(b.free_entropy, rel=1e-10)
    for q in (0.0, 0.4, 0.9):
        assert numeric.fisher(q) == pytest.approx(closed.fisher(q), rel=1e-11)
        assert numeric.psi_out(q) == pytest.approx(closed.psi_out(q), rel=1e-11)


@pytest.mark.parametrize("readout,delta", [("tanh", 0.1), ("tanh", 0.01), ("sign", 0.1), ("sign", 0.0)])
def test_psi_out_derivative_is_half_the_fisher_integral(readout: str, delta: float) -> None:
    # Stationarity of f_RS in q requires ψ_out′(q) = Q(q)/2 (Barbier et al. 2019): a check that the two
    # integrals, computed separately, are consistent.
    channel = make_channel(readout, TANH2.eta0, TANH2.gamma0, delta)
    for q in (0.2, 0.5, 0.8):
        step = 1e-4
        derivative = (channel.psi_out(q + step) - channel.psi_out(q - step)) / (2 * step)
        assert derivative == pytest.approx(channel.fisher(q) / 2, rel=2e-7)


@pytest.mark.parametrize("readout", ["tanh", "sign", "linear"])
def test_fisher_bound_holds(readout: str) -> None:
    channel = make_channel(readout, TANH2.eta0, TANH2.gamma0, 0.05)
    bound = channel.fisher_bound()
    assert all(channel.fisher(q) < bound for q in np.linspace(0, 0.999, 12))


def test_mutual_information_formula_equals_free_entropy_route() -> None:
    # The I-MMSE integral (docs/deep_equivalence.md, 'Mutual information per sample') vs −f_RS/α − H(Y|v,ξ)/n
    # evaluated by the general machinery.
    for delta in (0.01, 0.1, 1.0):
        closed = LinearChannel(TANH2.eta0, TANH2.gamma0, delta)
        for alpha in (0.3, 1.0, 5.0):
            q = closed.exact_q(alpha)
            via_free_entropy = -free_entropy(closed, alpha, q) / alpha - closed.conditional_entropy()
            assert closed.mutual_information(alpha) == pytest.approx(via_free_entropy, rel=1e-10)


def test_mutual_information_matches_finite_size_log_determinant() -> None:
    # Y = η0 X v + √γ0 ξ + √Δ Z with X rows ~ N(0, I/d0): I(v, ξ; Y) = ½ log det(I + (η0²/D) X Xᵀ)
    # + (n/2) log(1 + γ0/Δ) exactly; its d0 → ∞ limit per sample is the I-MMSE formula.
    rng = np.random.default_rng(7)
    eta0, gamma0, delta, d0 = TANH2.eta0, TANH2.gamma0, 0.1, 400
    for alpha in (0.5, 2.0):
        n = int(alpha * d0)
        values = []
        for _ in range(4):
            x = rng.standard_normal((n, d0)) / math.sqrt(d0)
            _, logdet = np.linalg.slogdet(np.eye(d0) + (eta0**2 / (gamma0 + delta)) * x.T @ x)
            values.append(0.5 * logdet / n + 0.5 * math.log1p(gamma0 / delta))
        theory = LinearChannel(eta0, gamma0, delta).mutual_information(alpha)
        # fluctuations of log det are O(1/n) per sample; finite-size bias O(1/d0)
        assert np.mean(values) == pytest.approx(theory, abs=2e-3)


def test_sign_fisher_matches_general_integral() -> None:
    # Independent route for the c-formula: Z_out(y; ω) = ∫ dh N(h; η0ω, s²) Φ(y h/√Δ), its ω-derivative
    # by quadrature in h, y summed over ±1, ξ0 by adaptive quadrature.
    eta0, gamma0, delta = TANH2.eta0, TANH2.gamma0, 0.1
    channel = ProbitChannel(eta0, gamma0, delta)
    q = 0.6
    s = math.sqrt(eta0**2 * (1 - q) + gamma0)
    nodes, weights = np.polynomial.hermite_e.hermegauss(120)
    weights = weights / math.sqrt(2 * math.pi)

    def ratio_sum(xi0: float) -> float:
        mu = eta0 * math.sqrt(q) * xi0
        total = 0.0
        for y in (-1.0, 1.0):
            like = special.ndtr(y * (mu + s * nodes) / math.sqrt(delta))
            z = weights @ like
            dz = eta0 * (weights @ (nodes / s * like))
            total += dz**2 / z
        return total

    value, _ = integrate.quad(
        lambda t: ratio_sum(t) * math.exp(-t * t / 2) / math.sqrt(2 * math.pi), -12, 12, epsabs=1e-13
    )
    assert channel.fisher(q) == pytest.approx(value, rel=1e-9)


def test_sign_classification_error_monte_carlo() -> None:
    # Given the overlap q, simulate the GLM teacher field and the Bayes classifier sign(ω) directly.
    eta0, gamma0, delta, q = TANH2.eta0, TANH2.gamma0, 0.2, 0.7
    rng = np.random.default_rng(11)
    n = 2_000_000
    omega = math.sqrt(q) * rng.standard_normal(n)
    z = omega + math.sqrt(1 - q) * rng.standard_normal(n)  # z | ω under the posterior
    clean = eta0 * z + math.sqrt(gamma0) * rng.standard_normal(n)
    noisy = clean + math.sqrt(delta) * rng.standard_normal(n)
    clean_err, noisy_err = ProbitChannel(eta0, gamma0, delta).errors(q)
    for predicted, field in ((clean_err, clean), (noisy_err, noisy)):
        mistakes = np.mean(np.sign(field) != np.sign(omega))
        se = math.sqrt(mistakes * (1 - mistakes) / n)
        assert abs(mistakes - predicted) < 4 * se


class ThreeRootChannel:
    """A synthetic channel whose map q ↦ αQ/(1+αQ) = q − k(q−0.2)(q−0.5)(q−0.8) at α = 1, with ψ_out
    consistent (ψ′ = Q/2), to exercise the root scan and the free-entropy selection."""

    def __init__(self, k: float, tilt: float = 0.0) -> None:
        self.k, self.tilt = k, tilt

    def _map(self, q: float) -> float:
        return q - self.k * (q - 0.2) * (q - 0.5) * (q - 0.8)

    def exact_q(self, alpha: float) -> None:
        return None

    def fisher(self, q: float) -> float:
        m = self._map(q)
        return m / (1 - m)

    def fisher_bound(self) -> float:
        return math.inf

    def psi_out(self, q: float) -> float:
        return 0.5 * integrate.quad(self.fisher, 0, q, epsabs=1e-14)[0] + self.tilt

    def errors(self, q: float) -> tuple[float, float]:
        return 1 - q, 1 - q

    def conditional_entropy(self) -> float:
        return 0.0


def test_solver_finds_every_root_and_selects_by_free_entropy() -> None:
    channel = ThreeRootChannel(k=1.0)
    point = solve(channel, 1.0)
    assert point.n_roots == 3
    assert point.roots == pytest.approx((0.2, 0.5, 0.8), abs=1e-12)
    stable = (0.2, 0.8)
    best = max(stable, key=lambda r: free_entropy(channel, 1.0, r))
    assert point.q == pytest.approx(best, abs=1e-12)
    assert point.q != pytest.approx(0.5)  # the unstable root is never chosen


def test_solver_refuses_an_unbracketed_top() -> None:
    class Saturated(ThreeRootChannel):
        def fisher(self, q: float) -> float:
            return 1e15  # F > 0 everywhere: a root would lie above the scan, which must be reported

    with pytest.raises(FixedPointError, match="top of the scan"):
        solve(Saturated(1.0), 1.0)


def test_gaussian_channel_grids_are_converged() -> None:
    # Stated accuracy: refining every grid (h, y spacing ×1/2, ξ0 spacing ×1/2) moves q and the error
    # by less than 1e-11 relative for tanh/erf networks.
    for act, depth, delta in (("tanh", 1, 0.01), ("erf", 3, 0.1), ("tanh", 2, 1.0)):
        c = layer_coefficients(act, depth)
        alphas = [0.25, 2.0, 8.0]
        base = solve_curve(make_channel("tanh", c.eta0, c.gamma0, delta), alphas)
        fine = solve_curve(
            make_channel("tanh", c.eta0, c.gamma0, delta, resolution=6.0, xi_refinement=2.0), alphas
        )
        for a, b in zip(base, fine, strict=True):
            assert a.q == pytest.approx(b.q, rel=1e-11)
            assert a.error == pytest.approx(b.error, rel=1e-11)


def test_noiseless_invertible_readout_reduces_to_linear_overlap() -> None:
    tanh_out = make_channel("tanh", TANH2.eta0, TANH2.gamma0, 0.0)
    linear_out = make_channel("linear", TANH2.eta0, TANH2.gamma0, 0.0)
    a, b = solve(tanh_out, 2.0), solve(linear_out, 2.0)
    assert a.q == b.q and a.mutual_information is None and math.isnan(a.free_entropy)
    assert 0 < a.error < tanh_out.errors(0.0)[0]


def test_mutual_information_is_defined_for_noisy_tanh_and_sign() -> None:
    for readout in ("tanh", "sign"):
        channel = make_channel(readout, TANH2.eta0, TANH2.gamma0, 0.1)
        curve = solve_curve(channel, [0.5, 2.0, 8.0])
        mi = [p.mutual_information for p in curve]
        assert all(m > 0 for m in mi) and mi[0] > mi[1] > mi[2]  # per-sample information decreases
        assert mutual_information(channel, 0.5, curve[0].q) == pytest.approx(mi[0])
