"""The finite-size GLM twin of a simulation point (docs/deep_equivalence.md, 'GLM twin').

Linear readout: the exact Gaussian-conjugate posterior of Y = η0 Xv + √(γ0+Δ) N with v ~ N(0, I):
precision A = I + (η0²/D) XᵀX, D = γ0 + Δ, mean m = A⁻¹ (η0/D) Xᵀy — i.e. ridge regression with
λ = D/η0² in the parametrisation (XᵀX + λI) m = Xᵀy/η0. Its Bayes error on a new x ~ N(0, I/d0) is
η0² tr(A⁻¹)/d0 + γ0 (the ξ part is never learnt). Nonlinear readouts use GAMP (deeplin.deep_equivalence.gamp).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy import linalg

from ..io import provenance, write_json
from .data import load_point
from .errors import test_error
from .gamp import gamp, make_output, state_evolution_for


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


def conjugate_posterior(
    x: np.ndarray, y: np.ndarray, eta0: float, gamma0: float, noise: float
) -> ConjugatePosterior:
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


def glm_twin(data_path: str, out: str) -> dict:
    """The finite-size GLM twin (exact conjugate posterior or GAMP) and the GLM estimator on deep data."""
    start = time.perf_counter()
    data, meta = load_point(data_path)
    model, eta0, gamma0 = meta["model"], meta["eta0"], meta["gamma0"]
    readout, noise, sign = model["readout"], model["noise"], model["readout"] == "sign"
    result: dict = {"readout": readout}
    for label, y_train, clean_test in (
        ("glm", data.glm_y_train, data.glm_clean_test),
        ("glm_estimator_on_deep", data.y_train, data.clean_test),
    ):
        if readout == "linear":
            posterior = conjugate_posterior(data.x_train, y_train, eta0, gamma0, noise)
            prediction = posterior.predict(data.x_test)
            error, se = test_error(prediction, clean_test, sign)
            result[f"{label}_error"], result[f"{label}_error_se"] = error, se
            if label == "glm":  # model-based, teacher-free: meaningful only where the GLM is the truth
                result["glm_expected_error"] = posterior.expected_error()
                # how close the twin's posterior mean is to the GLM teacher it learns
                result["glm_overlap"] = float(data.glm_v @ posterior.mean / len(data.glm_v))
            result[f"{label}_method"] = "conjugate"
        else:
            output = make_output(readout, eta0, gamma0, noise)
            fit = gamp(data.x_train, y_train, output, v_true=data.glm_v if label == "glm" else None)
            pred = fit.predict(data.x_test)
            error, se = test_error(pred.mean if not sign else pred.label, clean_test, sign)
            result[f"{label}_error"], result[f"{label}_error_se"] = error, se
            if (
                label == "glm" and not sign
            ):  # sign: GAMP's expectation is of the noisy-label error, not this one
                result["glm_expected_error"] = pred.expected_error()
            result[f"{label}_gamp_converged"] = bool(fit.converged)
            result[f"{label}_gamp_iterations"] = int(fit.iterations)
            if fit.overlap is not None:
                result[f"{label}_overlap"] = float(fit.overlap)
            result[f"{label}_method"] = "gamp"
    # State evolution's fixed point: the overlap the twin should reach as d0 → ∞ (docs/deep_equivalence.md).
    evolution = state_evolution_for(readout, eta0, gamma0, noise, meta["alpha"])
    result["state_evolution_q"] = float(evolution.q[-1])
    result["state_evolution_iterations"] = len(evolution.q) - 1
    result["state_evolution_converged"] = bool(evolution.converged)
    result["seconds"] = time.perf_counter() - start
    result["provenance"] = provenance(meta["provenance"]["config_hash"])
    write_json(out, result)
    return result
