"""Output channels of the equivalent GLM and their replica-symmetric integrals.

The GLM is Y ~ P(y | η0 z + √γ0 ξ) with z = vᵀx, Gaussian prior on v (Barbier et al., PNAS 2019,
adapted to the effective noise γ0). With ω = √q ξ0 and s² = η0²(1−q) + γ0, every channel provides
- ``fisher(q)``   Q(q) = q̂/α = E_ξ0 ∫ dy (∂_ω Z_out)² / Z_out;
- ``psi_out(q)``  E_ξ0 ∫ dy Z_out log Z_out (output part of the free entropy, so that ψ_out′ = Q/2);
- ``errors(q)``   (error, error_noisy) of the Bayes-optimal predictor at overlap q (docs/deep_equivalence.md,
  'Two test errors');
- ``conditional_entropy()``  H(Y | v, ξ) per sample, for the mutual information (None if infinite).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
from scipy import integrate, special

from ..activations import Readout, get_readout
from .layers import gaussian_expectation

_LOG_2PI_E = math.log(2.0 * math.pi * math.e)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@dataclass
class LinearChannel:
    """f(x) = x: Y = η0 z + √(γ0+Δ) N; every quantity in closed form (docs/deep_equivalence.md, 'Linear readout')."""

    eta0: float
    gamma0: float
    delta: float

    @property
    def noise_total(self) -> float:
        """D = Δ + γ0: the depth's nonlinear part acts as extra Gaussian label noise."""
        return self.delta + self.gamma0

    def exact_q(self, alpha: float) -> float:
        """Positive root m of η0² m² + (D + η0²(α−1)) m − D = 0, q = 1 − m (Barbier et al. 2019)."""
        return 1.0 - linear_mmse(alpha, self.eta0**2, self.noise_total)

    def fisher(self, q: float) -> float:
        # Z_out(y; ω) = N(y; η0 ω, η0²(1−q) + D) ⇒ E (∂_ω log Z_out)² = η0² / (η0²(1−q) + D).
        return self.eta0**2 / (self.eta0**2 * (1.0 - q) + self.noise_total)

    def fisher_bound(self) -> float:
        """Sup of Q over q ∈ [0, 1]."""
        return math.inf if self.noise_total == 0 else self.eta0**2 / self.noise_total

    def psi_out(self, q: float) -> float:
        # ∫ N log N = −½ log(2πe V) with V = η0²(1−q) + D.
        return -0.5 * math.log(2.0 * math.pi * math.e * (self.eta0**2 * (1.0 - q) + self.noise_total))

    def errors(self, q: float) -> tuple[float, float]:
        # error = η0² m + γ0 with m = 1 − q; the noisy label adds Δ.
        error = self.eta0**2 * (1.0 - q) + self.gamma0
        return error, error + self.delta

    def conditional_entropy(self) -> float | None:
        return None if self.delta == 0 else 0.5 * math.log(2.0 * math.pi * math.e * self.delta)

    def mutual_information(self, alpha: float) -> float | None:
        """I/n = (1/2α) ∫₀^{η0²/D} q(t)/t dt + ½ log(1 + γ0/Δ) (I-MMSE; docs/deep_equivalence.md)."""
        if self.delta == 0:
            return None
        snr = self.eta0**2 / self.noise_total

        def q_over_t(t: float) -> float:
            # q(t) = 1 − m(t) with signal t and unit noise; q/t → α/(1+t) as q → 0, finite at t = 0.
            return (1.0 - linear_mmse(alpha, t, 1.0)) / t if t > 0 else alpha

        value, _ = integrate.quad(q_over_t, 0.0, snr, epsabs=1e-14, epsrel=1e-13, limit=200)
        return value / (2.0 * alpha) + 0.5 * math.log1p(self.gamma0 / self.delta)


def linear_mmse(alpha: float, signal: float, noise: float) -> float:
    """m = 1 − q solving signal·m² + (noise + signal(α−1)) m − noise = 0, m ∈ [0, 1].

    The linear readout's closed form (docs/deep_equivalence.md); written without cancellation. noise = 0 gives
    m = max(1 − α, 0).
    """
    if signal == 0:
        return 1.0
    b = noise + signal * (alpha - 1.0)
    disc = math.sqrt(b * b + 4.0 * signal * noise)
    if b > 0:
        return 2.0 * noise / (b + disc)
    return (disc - b) / (2.0 * signal)


@dataclass
class GaussianChannel:
    """Y = f(h) + √Δ N for a general odd readout f, by quadrature on uniform grids.

    Z_out and ∂_ω Z_out are trapezoid sums over h (spectrally accurate for the smooth, Gaussian-decaying
    integrands), the y-integral is a trapezoid sum over a grid that covers f's range ± 12√Δ, and the
    ξ0-expectation is a trapezoid sum on ξ0 ≥ 0, using that f odd makes every integrand even in ξ0.
    Grid spacings are a fraction ``1/resolution`` of the narrowest feature, min(s, √Δ / max|f′|).
    Accuracy (grids refined 2× in every direction, tests/benchmarks/bench_theory.py): ~1e-13 relative in
    q and the error for tanh/erf/sin networks; ~1e-9 in the error when γ0 = 0 (deep linear networks),
    where the ξ0 integrand sharpens as s → 0.
    """

    readout: Readout
    eta0: float
    gamma0: float
    delta: float
    resolution: float = 2.0  # grid points per narrowest feature in h and y (2 ⇒ ~1e-13, see tests)
    xi_refinement: float = 1.0  # divides the ξ0 spacing (accuracy studies only)
    max_slope: float = 1.0  # max |f′| (1 for tanh and the identity)
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._sigma_L = self.eta0**2 + self.gamma0
        self._f_second_moment, _ = gaussian_expectation(lambda x: self.readout.fn(x) ** 2, self._sigma_L)

    def exact_q(self, alpha: float) -> float | None:
        """Δ = 0 with an invertible f reveals h itself: same overlap as the linear readout."""
        if self.delta == 0 and self.readout.invertible:
            return LinearChannel(self.eta0, self.gamma0, 0.0).exact_q(alpha)
        return None

    def _xi_nodes(self, q: float) -> tuple[np.ndarray, np.ndarray]:
        """Trapezoid nodes and weights for E_ξ0 g(ξ0), g even, on ξ0 ∈ [0, 9].

        The integrands are analytic in ω up to tanh-type poles at distance ~π/2 in h = η0ω + s t,
        i.e. a = π/(2η0√q) in ξ0. The trapezoid rule converges like exp(−2πa/spacing) (Gauss–Hermite
        only like exp(−a√(2n)), which cost 1e-8 errors at η0 ≈ 1); spacing ≤ a/6 gives < 1e-16.
        """
        analytic_halfwidth = 0.5 * math.pi / max(self.eta0 * math.sqrt(q), 1e-300)
        spacing = min(0.25, analytic_halfwidth / 6.0) / self.xi_refinement
        nodes = np.arange(0.0, 9.0 + spacing, spacing)
        weights = np.exp(-0.5 * nodes**2) * (2.0 * spacing * _INV_SQRT_2PI)
        weights[0] *= 0.5
        return nodes, weights

    def _h_grid(self, q: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
        """Prior weights N(h; η0 √q ξ_k, s²)·dh on a uniform h-grid: (h, W, ξ nodes, ξ weights, s)."""
        s = math.sqrt(max(self.eta0**2 * (1.0 - q), 0.0) + self.gamma0)
        if s == 0:
            raise ValueError("s = 0 (q = 1 with gamma0 = 0): the channel integrals are degenerate")
        xi, xi_weights = self._xi_nodes(q)
        mu = self.eta0 * math.sqrt(q) * xi
        width = s if self.delta == 0 else min(s, math.sqrt(self.delta) / self.max_slope)
        dh = width / self.resolution
        lo, hi = mu.min() - 12.0 * s, mu.max() + 12.0 * s
        h = np.linspace(lo, hi, math.ceil((hi - lo) / dh) + 1)
        dh = h[1] - h[0]
        weights = np.exp(-0.5 * ((h[None, :] - mu[:, None]) / s) ** 2) * (_INV_SQRT_2PI / s * dh)
        return h, weights, xi, xi_weights, s

    def _integrals(self, q: float) -> tuple[float, float]:
        """(Q(q), ψ_out(q)) from one pass over the (ξ0, h, y) grids; cached per q."""
        if q in self._cache:
            return self._cache[q]
        if self.delta <= 0:
            raise ValueError("the numerical Gaussian channel needs noise > 0")
        h, weights, xi, xi_weights, s = self._h_grid(q)
        mu = self.eta0 * math.sqrt(q) * xi
        fh = self.readout.fn(h)
        sd = math.sqrt(self.delta)
        y_lo, y_hi = fh.min() - 12.0 * sd, fh.max() + 12.0 * sd
        y = np.linspace(y_lo, y_hi, math.ceil((y_hi - y_lo) * self.resolution / sd) + 1)
        dy = y[1] - y[0]
        kernel = np.exp(-0.5 * ((y[None, :] - fh[:, None]) / sd) ** 2) * (_INV_SQRT_2PI / sd)
        z_out = weights @ kernel
        # ∂_ω Z_out = η0 ∫ dh N(h; η0ω, s²) (h − η0ω)/s² P(y|f(h))  (Barbier et al. 2019)
        dz_out = ((weights * (h[None, :] - mu[:, None])) @ kernel) * (self.eta0 / s**2)
        positive = z_out > 0
        ratio = np.divide(dz_out**2, z_out, out=np.zeros_like(z_out), where=positive)
        z_log_z = np.where(positive, z_out * np.log(np.where(positive, z_out, 1.0)), 0.0)
        result = (
            float(xi_weights @ ratio.sum(axis=1)) * dy,
            float(xi_weights @ z_log_z.sum(axis=1)) * dy,
        )
        self._cache[q] = result
        return result

    def fisher(self, q: float) -> float:
        return self._integrals(q)[0]

    def fisher_bound(self) -> float:
        """Q ≤ η0² max f′² / Δ: Fisher information is convex, so the mixture over t carries at most
        the average information f′(η0ω + s t)²/Δ of its Gaussian components."""
        return math.inf if self.delta == 0 else self.eta0**2 * self.max_slope**2 / self.delta

    def psi_out(self, q: float) -> float:
        return self._integrals(q)[1]

    def errors(self, q: float) -> tuple[float, float]:
        # error = E f(√σ_L Z)² − E_ξ0 [(∫ Dt f(η0ω + s t))²]; the noisy label adds Δ.
        h, weights, _, xi_weights, _ = self._h_grid(q)
        posterior_mean = weights @ self.readout.fn(h)
        error = self._f_second_moment - float(xi_weights @ posterior_mean**2)
        return error, error + self.delta

    def conditional_entropy(self) -> float | None:
        return None if self.delta == 0 else 0.5 * _LOG_2PI_E + 0.5 * math.log(self.delta)


@dataclass(frozen=True)
class ProbitChannel:
    """Sign readout with the noise inside: Y = sign(h + √Δ N) (docs/deep_equivalence.md, 'Sign readout').

    Z_out(y; ω) = Φ(y c ω) with c = η0 / √(R − η0² q), R = η0² + γ0 + Δ, so the ξ0-expectations are
    one-dimensional; they are done by adaptive quadrature in u = c ω ~ N(0, c² q).
    """

    eta0: float
    gamma0: float
    delta: float

    @property
    def total_variance(self) -> float:
        """R = η0² + γ0 + Δ, the variance of the pre-sign field."""
        return self.eta0**2 + self.gamma0 + self.delta

    def exact_q(self, alpha: float) -> None:
        return None

    def _slope(self, q: float) -> float:
        return self.eta0 / math.sqrt(self.total_variance - self.eta0**2 * q)

    def _expect_u(self, fn, q: float) -> float:
        """E g(u) for u ~ N(0, c² q) and even g, by the trapezoid rule on u ≥ 0.

        For an even, smooth, Gaussian-decaying integrand the half-line trapezoid sum equals the
        full-line one, which converges spectrally; the spacing resolves both N(u; 0, c²q) and g
        (whose features are O(1)).
        """
        scale = self._slope(q) * math.sqrt(q)
        if scale == 0:
            return float(fn(np.zeros(1))[0])
        du = min(1.0, scale) / 6.0
        u = np.arange(0.0, min(14.0 * scale, 40.0) + du, du)
        weights = np.exp(-0.5 * (u / scale) ** 2) * (2.0 * du * _INV_SQRT_2PI / scale)
        weights[0] *= 0.5
        return float(weights @ fn(u))

    def fisher(self, q: float) -> float:
        # q̂ = α c² E_ξ0 [N(cω)² (1/Φ(cω) + 1/Φ(−cω))]; written with log-CDFs so that the
        # tails (Φ(−u) underflowing) stay finite.
        def integrand(u: np.ndarray) -> np.ndarray:
            log_density2 = -u * u - math.log(2.0 * math.pi)
            return np.exp(log_density2 - special.log_ndtr(u)) + np.exp(log_density2 - special.log_ndtr(-u))

        return self._slope(q) ** 2 * self._expect_u(integrand, q)

    def fisher_bound(self) -> float:
        """Q ≤ (2/π) η0²/(γ0 + Δ): N(u)²/(Φ(u)Φ(−u)) is largest at u = 0 and c² ≤ η0²/(γ0 + Δ)."""
        floor = self.gamma0 + self.delta
        return math.inf if floor == 0 else (2.0 / math.pi) * self.eta0**2 / floor

    def psi_out(self, q: float) -> float:
        # Σ_y Z_out log Z_out with Z_out(y; ω) = Φ(y c ω).
        def integrand(u: np.ndarray) -> np.ndarray:
            return special.ndtr(u) * special.log_ndtr(u) + special.ndtr(-u) * special.log_ndtr(-u)

        return self._expect_u(integrand, q)

    def errors(self, q: float) -> tuple[float, float]:
        # The Bayes classifier is sign(ω); the pre-sign field has correlation η0√q/√V with ω, hence
        # P(mistake) = arccos(√(η0² q / V))/π with V = σ_L (clean label) or R (noisy label).
        clean = math.acos(min(1.0, math.sqrt(self.eta0**2 * q / (self.eta0**2 + self.gamma0)))) / math.pi
        noisy = math.acos(min(1.0, math.sqrt(self.eta0**2 * q / self.total_variance))) / math.pi
        return clean, noisy

    def conditional_entropy(self) -> float:
        """H(Y | v, ξ) = E_h H_b(Φ(h/√Δ)), h ~ N(0, σ_L); zero without noise (cached per (η0, γ0, Δ))."""
        return _probit_conditional_entropy(self.eta0, self.gamma0, self.delta)


@functools.cache
def _probit_conditional_entropy(eta0: float, gamma0: float, delta: float) -> float:
    """:meth:`ProbitChannel.conditional_entropy`, cached on the channel's numbers rather than on instances."""
    if delta == 0:
        return 0.0

    def binary_entropy(h: float) -> float:
        x = h / math.sqrt(delta)
        return -sum(special.ndtr(v) * special.log_ndtr(v) for v in (x, -x))

    value, _ = gaussian_expectation(binary_entropy, eta0**2 + gamma0)
    return value


Channel = LinearChannel | GaussianChannel | ProbitChannel


def make_channel(readout: str, eta0: float, gamma0: float, delta: float, **numerics) -> Channel:
    """The equivalent GLM's output channel for a readout name (linear, tanh, sign)."""
    if delta < 0:
        raise ValueError(f"noise must be >= 0, got {delta}")
    spec = get_readout(readout)
    if spec.likelihood == "probit":
        return ProbitChannel(eta0, gamma0, delta)
    if spec.name == "linear":
        return LinearChannel(eta0, gamma0, delta)
    return GaussianChannel(spec, eta0, gamma0, delta, **numerics)
