"""Full-batch ridge regression on generator features: the Gaussian-covariate fixed point and its simulation.

Teacher y = θ·c/√D + √Δ ζ on the latent, student ŷ = w·x/√N, w = argmin Σ_μ ½(y_μ − w·x_μ/√N)² + (λ/2)|w|²
(summed loss) from n = αN samples. The test error of the Gaussian covariate model with covariance Ω and
input–teacher covariance Φθ is the fixed point of Loureiro et al. 2021 (arXiv 2102.08127, eqs. (2.6)–(2.7),
square loss), as used by Goldt et al. 2020 (arXiv 2006.14709, §4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq


@dataclass(frozen=True)
class FixedPoint:
    """The fixed point's V, m, q and the excess test error ε = ρ_θ + q − 2m."""

    V: float
    m: float
    q: float
    error: float


def fixed_point(
    spectrum: np.ndarray,
    projections: np.ndarray,
    gamma: float,
    alpha: float,
    lam: float,
    rho: float,
    noise: float = 0.0,
) -> FixedPoint:
    """Solve the square-loss fixed point (Loureiro et al. 2021, eqs. (2.6)–(2.7)); ⟨·⟩ = mean over modes i:
    V̂ = α/(1+V), m̂ = α/(√γ(1+V)), V = ⟨ω/(λ + V̂ω)⟩, m = (m̂/√γ)⟨d/(λ + V̂ω)⟩,
    q = (a + b(ρ − 2m + Δ))/(1 − b), b = α⟨ω²/(λ+V̂ω)²⟩/(1+V)², a = m̂²⟨dω/(λ+V̂ω)²⟩,
    with ω_i the eigenvalues of Ω and d_i = (u_i·Φθ)². V is the unique positive root of the concave
    h(V) = ⟨ω/(λ + V̂ω)⟩ − V (h(0) > 0), bracketed for brentq; a root V ≤ 0 is unphysical and refused."""
    w, d = np.asarray(spectrum, float), np.asarray(projections, float)

    def h(V: float) -> float:
        return float(np.mean(w / (lam + alpha / (1 + V) * w))) - V

    low, high = 1e-9, 1e6
    while h(high) >= 0 and high < 1e300:  # V grows like 1/λ below α = 1: widen the bracket
        high *= 1e3
    if not h(low) > 0 > h(high):
        raise ValueError(f"no positive root of the fixed point at alpha={alpha}, lambda={lam}")
    V = brentq(h, low, high, xtol=1e-14, rtol=1e-13, maxiter=500)
    if V <= 0:
        raise ValueError(f"unphysical root V = {V} <= 0")
    hat = alpha / (1 + V)
    m_hat = alpha / (np.sqrt(gamma) * (1 + V))
    denom = lam + hat * w
    m = m_hat / np.sqrt(gamma) * float(np.mean(d / denom))
    b = alpha * float(np.mean(w**2 / denom**2)) / (1 + V) ** 2
    a = m_hat**2 * float(np.mean(d * w / denom**2))
    q = (a + b * (rho - 2 * m + noise)) / (1 - b)
    return FixedPoint(float(V), float(m), float(q), float(rho + q - 2 * m))


def asymptote(spectrum: np.ndarray, projections: np.ndarray, gamma: float, rho: float) -> float:
    """ε_∞ = ρ_θ − θᵀΦᵀΩ⁻¹Φθ/D = ρ_θ − (1/(γN)) Σ_i d_i/ω_i: the limit α → ∞, λ → 0, the part of y that is
    not linear in x (Goldt et al. 2020, §4)."""
    w, d = np.asarray(spectrum, float), np.asarray(projections, float)
    return float(rho - np.sum(d / w) / (gamma * w.size))


def ridge_weights(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """w = (XᵀX/N + λI)⁻¹ Xᵀy/√N, the minimiser of the summed ridge loss above."""
    n, N = x.shape
    return np.linalg.solve(x.T @ x / N + lam * np.eye(N), x.T @ y / np.sqrt(N))


def population_error(w: np.ndarray, omega: np.ndarray, phi_theta: np.ndarray, rho: float) -> float:
    """ε = ρ_θ + wᵀΩw/N − 2wᵀΦθ/√(ND), exact for the square loss (no test set needed); Φθ given as a vector
    already divided by √D."""
    N = w.size
    return float(rho + w @ omega @ w / N - 2 * w @ phi_theta / np.sqrt(N))
