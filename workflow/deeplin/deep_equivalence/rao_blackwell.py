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

import torch

from .deep_model import DeepPosterior
from .posterior_metrics import equivalent_ess as equivalent_ess  # the bench and tests read it here


def conditional_readout_mean(posterior: DeepPosterior, theta: torch.Tensor) -> torch.Tensor:
    """μ(W) = (I + ΦᵀΦ/Δ)⁻¹ ΦᵀY/Δ per chain, (C, d_L), for the hidden weights in θ (its readout ignored)."""
    if posterior.readout.name != "linear":
        raise ValueError(
            f"the readout's conditional is Gaussian only for the linear readout, not {posterior.readout.name!r}"
        )
    # Φ = s_L T_Lᵀ with T_L (C, d_L, n) in the gradient's layout: ΦᵀΦ = s_L² T_L T_Lᵀ and ΦᵀY = s_L T_L Y,
    # the scalars folded into the products.
    layer = posterior.last_layer(theta, posterior.x_train)
    scale, noise = posterior.last_scale, posterior.noise
    eye = torch.eye(layer.shape[1], dtype=layer.dtype, device=layer.device)
    precision = torch.baddbmm(eye, layer, layer.transpose(1, 2), alpha=scale * scale / noise)
    rhs = torch.matmul(layer, posterior.y_train.unsqueeze(-1)).mul_(scale / noise)
    return torch.cholesky_solve(rhs, torch.linalg.cholesky(precision)).squeeze(-1)


def rao_blackwell_predictions(posterior: DeepPosterior, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """E[h(x) | W, Y] = X⁽ᴸ⁾(x)ᵀ μ(W) per chain and input: (C, n_x)."""
    return predictions_and_conditional_means(posterior, theta, x)[:, 1]


def predictions_and_conditional_means(
    posterior: DeepPosterior, theta: torch.Tensor, x: torch.Tensor
) -> torch.Tensor:
    """The draw's predictions h(x) = aᵀX⁽ᴸ⁾(x) and their conditional means μ(W)ᵀX⁽ᴸ⁾(x), (C, 2, n_x): what a
    kept draw of the linear readout stores. The features of x are computed once for both (one product of the
    stacked [a; μ] with them), which halves the cost of the conditional means on top of the predictions."""
    mean = conditional_readout_mean(posterior, theta)
    readout = posterior.unflatten(theta)[-1]
    stacked = torch.stack([readout, mean], dim=1)  # (C, 2, d_L)
    layer = posterior.last_layer(theta, x)  # (C, d_L, n_x)
    return torch.bmm(stacked, layer).mul_(posterior.last_scale)
