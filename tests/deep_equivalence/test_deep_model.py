"""The hand-written gradient of the deep posterior equals autograd's for every activation, readout, depth."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from deeplin.deep_equivalence.deep_model import DeepPosterior
from deeplin.hmc import autograd_potential_and_grad


@pytest.mark.parametrize("activation", ["tanh", "erf", "sin", "linear"])
@pytest.mark.parametrize("readout", ["linear", "tanh", "sign"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_analytic_gradient_matches_autograd(activation: str, readout: str, depth: int) -> None:
    rng = np.random.default_rng(depth)
    widths = [7, 5, 6, 4][: depth + 1]
    x = rng.standard_normal((11, 7)) / np.sqrt(7)
    y = np.sign(rng.standard_normal(11)) if readout == "sign" else rng.standard_normal(11)
    posterior = DeepPosterior(x, y, widths, activation, readout, noise=0.3)
    theta = torch.randn(3, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(depth))
    potential, grad = posterior.potential_and_grad(theta)
    reference_potential, reference_grad = autograd_potential_and_grad(posterior.potential)(theta)
    assert torch.allclose(potential, reference_potential, rtol=1e-12, atol=1e-12)
    assert torch.allclose(grad, reference_grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("vendor", ["GenuineIntel", "AuthenticAMD"])
@pytest.mark.parametrize("depth", [1, 2, 3])
def test_tanh_by_the_logistic_function_or_natively_both_match_autograd(
    vendor: str, depth: int, monkeypatch
) -> None:
    """The CPU's vendor picks how tanh is formed (natively on Intel, as 2σ(2z) − 1 elsewhere); either way
    the gradient equals autograd of the potential and the draws' in-place predictions equal `predict` by
    autograd-able ops; on CUDA tanh is native."""
    from deeplin.deep_equivalence import deep_model

    monkeypatch.setattr(deep_model, "cpu_vendor", lambda: vendor)
    assert deep_model.logistic_tanh_pays(torch.device("cpu")) == (vendor != "GenuineIntel")
    assert not deep_model.logistic_tanh_pays(torch.device("cuda"))
    rng = np.random.default_rng(10 + depth)
    widths = [7, 5, 6, 4][: depth + 1]
    x = rng.standard_normal((11, 7)) / np.sqrt(7)
    posterior = DeepPosterior(x, rng.standard_normal(11), widths, "tanh", "linear", noise=0.3)
    assert posterior._logistic == (vendor != "GenuineIntel")
    theta = torch.randn(3, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(depth))
    potential, grad = posterior.potential_and_grad(theta)
    reference_potential, reference_grad = autograd_potential_and_grad(posterior.potential)(theta)
    assert torch.allclose(potential, reference_potential, rtol=1e-12, atol=1e-12)
    assert torch.allclose(grad, reference_grad, rtol=1e-10, atol=1e-10)
    x_torch = torch.as_tensor(x)
    with torch.enable_grad():  # autograd-able ops: torch's own tanh, no in-place kernels
        reference_predictions = posterior.predict(theta.clone().requires_grad_(True), x_torch).detach()
    assert torch.allclose(posterior.predict(theta, x_torch), reference_predictions, rtol=1e-12, atol=1e-13)


def test_analytic_gradient_in_float32_and_extreme_probit_margins() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((9, 5)) / np.sqrt(5)
    y = np.sign(rng.standard_normal(9))
    posterior = DeepPosterior(x, y, [5, 4], "tanh", "sign", noise=1e-4)  # t = y h/√Δ reaches ~±100
    theta = 30.0 * torch.randn(
        2, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(1)
    )
    potential, grad = posterior.potential_and_grad(theta)
    assert torch.isfinite(potential).all() and torch.isfinite(grad).all()
    reference = autograd_potential_and_grad(posterior.potential)(theta)[1]
    assert torch.allclose(grad, reference, rtol=1e-8, atol=1e-8 * float(reference.abs().max()))
    single = DeepPosterior(x, y, [5, 4], "tanh", "sign", noise=1e-4, dtype=torch.float32)
    grad32 = single.potential_and_grad(theta.float())[1]
    assert torch.allclose(grad32.double(), grad, rtol=1e-3, atol=1e-3 * float(grad.abs().max()))


@pytest.mark.parametrize("depth", [1, 2])
def test_analytic_gradient_with_buffers_reused_across_calls(depth: int) -> None:
    """The CPU scratch buffers and the views kept for the last θ give fresh, correct results every call:
    θ changed in place between calls (as a leapfrog trajectory does), a new θ, a new chain count."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((13, 6)) / np.sqrt(6)
    posterior = DeepPosterior(x, rng.standard_normal(13), [6, 5, 4][: depth + 1], "tanh", "linear", noise=0.2)
    reference = autograd_potential_and_grad(posterior.potential)
    theta = torch.randn(4, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    first_potential, first_grad = posterior.potential_and_grad(theta)
    kept = first_potential.clone(), first_grad.clone()
    for candidate in (theta.mul_(0.5), theta, torch.randn(3, posterior.dim, dtype=torch.float64)):
        potential, grad = posterior.potential_and_grad(candidate)
        expected_potential, expected_grad = reference(candidate)
        assert torch.allclose(potential, expected_potential, rtol=1e-12, atol=1e-12)
        assert torch.allclose(grad, expected_grad, rtol=1e-10, atol=1e-10)
    # earlier results are not overwritten by later calls (they are no scratch buffers)
    assert torch.equal(first_potential, kept[0]) and torch.equal(first_grad, kept[1])


def test_inner_step_call_skips_the_potential_and_fills_out() -> None:
    """need_potential=False, out=buffer (a leapfrog's inner steps) gives the same ∇U, bit for bit, in out."""
    rng = np.random.default_rng(6)
    x = rng.standard_normal((10, 5)) / np.sqrt(5)
    posterior = DeepPosterior(x, rng.standard_normal(10), [5, 4, 3], "tanh", "linear", noise=0.4)
    assert posterior.potential_and_grad.inner_steps is True
    theta = torch.randn(3, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(7))
    _, expected = posterior.potential_and_grad(theta)
    out = torch.empty_like(theta)
    potential, grad = posterior.potential_and_grad(theta, need_potential=False, out=out)
    assert potential is None and grad is out and torch.equal(grad, expected)


def test_the_gradients_tanh_by_the_logistic_function_is_tanh_to_a_few_epsilon() -> None:
    """logistic_tanh_ (2σ(2z) − 1, the gradient's forward) against float64 tanh: within 4 eps of each dtype
    over the whole range (saturation included), odd, and in place; power: tanh(z/2) is far off."""
    from deeplin.deep_equivalence.deep_model import logistic_tanh_

    z = torch.linspace(-30.0, 30.0, 200_001, dtype=torch.float64)
    reference = torch.tanh(z)
    for dtype in (torch.float32, torch.float64):
        values = z.to(dtype)
        result = logistic_tanh_(values)
        assert result.data_ptr() == values.data_ptr()
        error = (result.double() - reference).abs().max().item()
        assert error <= 4 * torch.finfo(dtype).eps, (dtype, error)
    assert (logistic_tanh_(-z.clone()) + logistic_tanh_(z.clone())).abs().max().item() <= 4e-16
    assert (torch.tanh(z / 2) - reference).abs().max().item() > 0.1
