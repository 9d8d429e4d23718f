"""Rao–Blackwellised prediction means for the linear readout: the Gaussian conditional of the readout and the
equivalent ESS of averaging it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from deeplin.deep_equivalence.deep_model import DeepPosterior
from deeplin.deep_equivalence.rao_blackwell import (
    conditional_readout_mean,
    equivalent_ess,
    predictions_and_conditional_means,
    rao_blackwell_predictions,
)


def _posterior(depth: int, readout: str = "linear") -> DeepPosterior:
    rng = np.random.default_rng(depth)
    x = rng.standard_normal((13, 6)) / np.sqrt(6)
    return DeepPosterior(x, rng.standard_normal(13), [6] + [5] * depth, "tanh", readout, noise=0.2)


@pytest.mark.parametrize("depth", [1, 2])
def test_conditional_mean_is_the_ridge_solution(depth: int) -> None:
    posterior = _posterior(depth)
    theta = torch.randn(3, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    mean = conditional_readout_mean(posterior, theta).numpy()
    phi = posterior.features(theta, posterior.x_train).numpy()
    y, noise = posterior.y_train.numpy(), posterior.noise
    for chain in range(3):
        # argmin ‖y − Φa‖²/Δ + ‖a‖² as least squares on the stacked system [Φ/√Δ; I] a = [y/√Δ; 0]
        stacked = np.vstack([phi[chain] / np.sqrt(noise), np.eye(phi.shape[-1])])
        target = np.concatenate([y / np.sqrt(noise), np.zeros(phi.shape[-1])])
        expected = np.linalg.lstsq(stacked, target, rcond=None)[0]
        assert np.allclose(mean[chain], expected, rtol=1e-10, atol=1e-12)


def test_the_potential_is_stationary_in_the_readout_at_the_conditional_mean() -> None:
    # A Gaussian conditional's mean is its mode: ∂U/∂a = 0 there, and not a step away (power).
    posterior = _posterior(2)
    theta = torch.randn(2, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    d_last = posterior.widths[-1]
    theta[:, -d_last:] = conditional_readout_mean(posterior, theta)
    grad = posterior.potential_and_grad(theta)[1]
    assert float(grad[:, -d_last:].abs().max()) < 1e-10
    theta[:, -d_last:] += 0.01
    assert float(posterior.potential_and_grad(theta)[1][:, -d_last:].abs().max()) > 1e-3


def test_predictions_are_the_features_times_the_conditional_mean() -> None:
    posterior = _posterior(1)
    theta = torch.randn(2, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    x = torch.randn(7, 6, dtype=torch.float64)
    theta_at_mean = theta.clone()
    theta_at_mean[:, -5:] = conditional_readout_mean(posterior, theta)
    expected = posterior.pre_readout(theta_at_mean, x)
    assert torch.allclose(rao_blackwell_predictions(posterior, theta, x), expected, rtol=1e-12)


def test_other_readouts_are_refused() -> None:
    posterior = _posterior(1, readout="tanh")
    with pytest.raises(ValueError, match="only for the linear readout, not 'tanh'"):
        conditional_readout_mean(posterior, torch.zeros(1, posterior.dim, dtype=torch.float64))


def test_equivalent_ess_of_independent_draws() -> None:
    # plain = A + B, conditional = E[plain | A] = A with A, B iid N(0, 1): Var ratio 2, so 4000 iid draws of
    # the conditional are worth 8000 plain ones. Bulk ESS of iid draws scatters by a few % (50 points, the
    # median): ±10 %; the ESS without the variance ratio (4000) fails it.
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 4, 1000, 50))
    ess = np.median(equivalent_ess(a + b, a))
    assert ess == pytest.approx(8000, rel=0.1)


def test_rao_blackwell_metrics_of_independent_draws_have_the_closed_form_values() -> None:
    # conditional means A ~ N(m, 1) and draws A + B, B ~ N(0, 1), all iid over N = 200 draws: the averaged
    # conditional means have MC variance 1/N, so E(f − Ŷ_RB)² = mean (f − m)² + 1/N, the draw bias is 1/N
    # (0.005), the variance ratio 2 and the equivalent ESS 2N. With f − m of variance 0.01 over 2000 test
    # points the raw error scatters by 2√(0.01/(N·2000)) ≈ 1.6e-4, so the uncorrected error (off by 0.005)
    # fails the bound; ESS estimates scatter by a few %, hence 10 % of the bias in the tolerance.
    from deeplin.deep_equivalence.posterior_metrics import rao_blackwell_metrics

    rng = np.random.default_rng(1)
    chains, draws, points = 4, 50, 2000
    m = rng.standard_normal(points)
    clean = m + 0.1 * rng.standard_normal(points)
    a = m + rng.standard_normal((chains, draws, points))
    out = rao_blackwell_metrics(a + rng.standard_normal(a.shape), a, clean)
    total = chains * draws
    assert out["draw_bias_rb"] == pytest.approx(1 / total, rel=0.1)
    assert out["rb_variance_ratio_median"] == pytest.approx(2.0, rel=0.05)
    assert out["ess_rb_equivalent_median"] == pytest.approx(2 * total, rel=0.15)
    truth = float(np.mean((clean - m) ** 2))
    tolerance = 0.1 / total + 4 * 2 * np.sqrt(0.01 / (total * points)) + 4 * np.sqrt(2 / points) / total
    assert abs(out["error_rb_corrected"] - truth) < tolerance
    assert abs(out["error_rb_raw"] - truth) > tolerance  # power: the finite-draw bias is visible
    squared = (clean - a.mean(axis=(0, 1))) ** 2  # the test-set standard error of the estimate's squares
    assert out["error_rb_se"] == pytest.approx(np.std(squared, ddof=1) / np.sqrt(points), rel=1e-6)


def test_a_kept_draw_stores_its_predictions_then_their_conditional_means() -> None:
    posterior = _posterior(2)
    theta = torch.randn(3, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    x = torch.randn(9, 6, dtype=torch.float64)
    both = predictions_and_conditional_means(posterior, theta, x)
    assert both.shape == (3, 2, 9)
    assert torch.allclose(both[:, 0], posterior.predict(theta, x), rtol=1e-13, atol=1e-15)
    theta_at_mean = theta.clone()
    theta_at_mean[:, -5:] = conditional_readout_mean(posterior, theta)
    assert torch.allclose(both[:, 1], posterior.pre_readout(theta_at_mean, x), rtol=1e-12, atol=1e-14)
