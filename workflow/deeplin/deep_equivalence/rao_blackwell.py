"""Rao–Blackwellised posterior means of the test predictions for the linear readout (docs/benchmark.md).

With Y = aᵀX⁽ᴸ⁾ + √Δ Z and the N(0, I) prior on a, the readout's conditional posterior given the hidden
weights W is Gaussian (Bishop, "Pattern Recognition and Machine Learning", 2006, eqs. 3.53–3.54 with
α = 1, β = 1/Δ): with Φ = X⁽ᴸ⁾(W) on the training inputs (n × d_L),

    a | W, Y ~ N(μ, P⁻¹),   P = I + ΦᵀΦ/Δ,   μ = P⁻¹ ΦᵀY/Δ,

so E[h(x*) | W, Y] = X⁽ᴸ⁾(x*)ᵀ μ(W). Averaging these conditional means over draws of W estimates the same
posterior mean as averaging the draws h(x*) themselves, with no more variance (Rao–Blackwell; Gelfand &
Smith 1990, JASA 85:398, §2.2): the within-W variance X*ᵀP⁻¹X* of the readout is integrated exactly.
`equivalent_ess` states the gain as an effective sample size of the plain estimator.
"""

from __future__ import annotations

import numpy as np
import torch

from .deep_model import DeepPosterior


def conditional_readout_mean(posterior: DeepPosterior, theta: torch.Tensor) -> torch.Tensor:
    """μ(W) = (I + ΦᵀΦ/Δ)⁻¹ ΦᵀY/Δ per chain, (C, d_L), for the hidden weights in θ (its readout ignored)."""
    if posterior.readout.name != "linear":
        raise ValueError(
            f"the readout's conditional is Gaussian only for the linear readout, not {posterior.readout.name!r}"
        )
    phi = posterior.features(theta, posterior.x_train)  # (C, n, d_L)
    eye = torch.eye(phi.shape[-1], dtype=phi.dtype, device=phi.device)
    precision = torch.baddbmm(eye, phi.transpose(1, 2), phi, alpha=1.0 / posterior.noise)
    rhs = torch.matmul(phi.transpose(1, 2), posterior.y_train.unsqueeze(-1)) / posterior.noise
    return torch.cholesky_solve(rhs, torch.linalg.cholesky(precision)).squeeze(-1)


def rao_blackwell_predictions(posterior: DeepPosterior, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """E[h(x) | W, Y] = X⁽ᴸ⁾(x)ᵀ μ(W) per chain and input: (C, n_x)."""
    mean = conditional_readout_mean(posterior, theta)
    return torch.matmul(posterior.features(theta, x), mean.unsqueeze(-1)).squeeze(-1)


def equivalent_ess(plain: np.ndarray, conditional: np.ndarray) -> np.ndarray:
    """Per test point, the draws of the plain estimator that match the conditional means' precision.

    Both arrays are (chains, draws, n_test) from the same run. The Monte Carlo variance of the averaged
    conditional means is Var(conditional)/ESS(conditional); the plain estimator reaches it with
    ESS(conditional) · Var(plain)/Var(conditional) independent draws (bulk ESS, ArviZ, as everywhere).
    """
    from .posterior_metrics import _diagnostics

    plain = np.asarray(plain, dtype=np.float64)
    conditional = np.asarray(conditional, dtype=np.float64)
    _, ess, _ = _diagnostics(conditional, with_rhat=False)
    var_plain = plain.reshape(-1, plain.shape[-1]).var(axis=0, ddof=1)
    var_conditional = conditional.reshape(-1, conditional.shape[-1]).var(axis=0, ddof=1)
    return ess * var_plain / var_conditional
