"""The finite-size GLM twin of a simulation point (docs/science.md, 'GLM twin').

Linear readout: the exact Gaussian-conjugate posterior of Y = η0 Xv + √(γ0+Δ) N with v ~ N(0, I):
precision A = I + (η0²/D) XᵀX, D = γ0 + Δ, mean m = A⁻¹ (η0/D) Xᵀy — i.e. ridge regression with
λ = D/η0² in the parametrisation (XᵀX + λI) m = Xᵀy/η0. Its Bayes error on a new x ~ N(0, I/d0) is
η0² tr(A⁻¹)/d0 + γ0 (the ξ part is never learnt). Nonlinear readouts use GAMP (deeplin.gamp).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg


@dataclass(frozen=True)
class ConjugatePosterior:
    """Posterior of v for the linear-readout GLM: mean and covariance A⁻¹."""

    mean: np.ndarray
    covariance: np.ndarray
    eta0: float
    gamma0: float

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Posterior mean of the clean output η0 xᵀv + √γ0 ξ (ξ unknown: mean 0)."""
        return self.eta0 * (x @ self.mean)

    def predictive_variance(self, x: np.ndarray) -> np.ndarray:
        """Var of the clean output given the data: η0² xᵀA⁻¹x + γ0 (Nishimori: equals the error)."""
        return self.eta0**2 * np.einsum("ij,jk,ik->i", x, self.covariance, x) + self.gamma0

    def expected_error(self) -> float:
        """E over a new x ~ N(0, I/d0) of the Bayes error: η0² tr(A⁻¹)/d0 + γ0."""
        return self.eta0**2 * float(np.trace(self.covariance)) / self.covariance.shape[0] + self.gamma0


def conjugate_posterior(x: np.ndarray, y: np.ndarray, eta0: float, gamma0: float, noise: float) -> ConjugatePosterior:
    """Exact posterior for Y = η0 Xv + √γ0 ξ + √Δ Z, v ~ N(0, I) (Gaussian conjugacy)."""
    total = gamma0 + noise
    if total <= 0:
        raise ValueError("the conjugate posterior needs gamma0 + noise > 0")
    d = x.shape[1]
    precision = np.eye(d) + (eta0**2 / total) * (x.T @ x)
    factor = linalg.cho_factor(precision, lower=True)
    mean = linalg.cho_solve(factor, (eta0 / total) * (x.T @ y))
    covariance = linalg.cho_solve(factor, np.eye(d))
    return ConjugatePosterior(mean=mean, covariance=covariance, eta0=eta0, gamma0=gamma0)
