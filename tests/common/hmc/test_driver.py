"""deeplin.hmc.driver: Gaussian targets within Monte Carlo error, divergences, seeds, float32, checkpoint/resume.

The Monte Carlo yardsticks (ESS, z-scores) are in hmc_targets.py; the first tests check the ESS estimator.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from deeplin.hmc import HMCConfig, SamplerState, autograd_potential_and_grad, on_draw, sample
from hmc_targets import (
    Z_MAX,
    anharmonic_potential_and_grad,
    anisotropic_20d,
    correlated_2d,
    ess,
    gaussian_potential,
    mean_cov_z_scores,
    run_gaussian,
)

# One torch thread for these tiny tensors: tests/conftest.py sets it for the whole session.


@pytest.fixture(scope="module")
def run_20d():
    """One float64 run on the 20-D target, shared by the recovery, acceptance and float32 tests."""
    mean, cov = anisotropic_20d()
    draws, result = run_gaussian(mean, cov, HMCConfig(warmup=400, samples=1000, progress=False), seed=11)
    return mean, cov, draws, result


# ---------------------------------------------------------------------------------------------------------
# The ESS estimator itself
# ---------------------------------------------------------------------------------------------------------


def test_ess_estimator_iid_and_ar1():
    """ESS ≈ N for iid draws and ≈ N(1−φ)/(1+φ) for an AR(1) chain."""
    rng = np.random.default_rng(0)
    s, c = 4000, 4
    iid = rng.standard_normal((s, c))
    assert ess(iid) == pytest.approx(s * c, rel=0.1)
    phi = 0.9
    ar = np.zeros((s, c))
    ar[0] = rng.standard_normal(c) / math.sqrt(1 - phi**2)
    for t in range(1, s):
        ar[t] = phi * ar[t - 1] + rng.standard_normal(c)
    assert ess(ar) == pytest.approx(s * c * (1 - phi) / (1 + phi), rel=0.2)


def test_ess_estimator_matches_arviz():
    """Where ArviZ is installed, we agree with arviz.ess(method='mean') (same formula, tail term aside)."""
    arviz = pytest.importorskip("arviz")
    rng = np.random.default_rng(1)
    for phi in (-0.3, 0.0, 0.5, 0.95):
        x = np.zeros((1000, 4))
        for t in range(1, 1000):
            x[t] = phi * x[t - 1] + rng.standard_normal(4)
        assert ess(x) == pytest.approx(float(arviz.ess(x.T, method="mean")), rel=1e-3), phi


# ---------------------------------------------------------------------------------------------------------
# Gaussian targets: mean and covariance within Monte Carlo error; acceptance after warm-up
# ---------------------------------------------------------------------------------------------------------


def test_recovers_correlated_2d_gaussian():
    """2-D, correlation 0.9, scales 1 and 3: mean and covariance within Z_MAX Monte Carlo errors."""
    mean, cov = correlated_2d()
    draws, result = run_gaussian(mean, cov, HMCConfig(warmup=300, samples=1500, progress=False), seed=3)
    z_mean, z_cov = mean_cov_z_scores(draws, mean, cov)
    assert np.abs(z_mean).max() < Z_MAX, z_mean
    assert np.abs(z_cov).max() < Z_MAX, z_cov
    assert int(result.divergences.sum()) == 0


def test_recovers_anisotropic_20d_gaussian(run_20d):
    """20-D with 10× scale range: every mean and covariance entry within Z_MAX Monte Carlo errors."""
    mean, cov, draws, result = run_20d
    z_mean, z_cov = mean_cov_z_scores(draws, mean, cov)
    assert np.abs(z_mean).max() < Z_MAX, z_mean
    assert np.abs(z_cov).max() < Z_MAX, z_cov
    assert int(result.divergences.sum()) == 0
    # The adapted inverse mass is the marginal variance (up to the window's Monte Carlo noise).
    ratio = result.inv_mass.numpy() / np.diag(cov)
    assert ratio.min() > 0.5 and ratio.max() < 2.0, ratio
    sampling_gradients = draws.shape[1] * (result.n_gradients - result.n_gradients_warmup)
    min_ess = min(ess(draws[:, :, i]) for i in range(draws.shape[2]))
    print(f"20-D Gaussian: min ESS {min_ess:.0f}, {1000 * min_ess / sampling_gradients:.1f} per 1000 grads")


def test_tolerances_have_power(run_20d):
    """The same z-score check rejects a covariance inflated by 25 % and a mean shifted by 0.3 sd."""
    mean, cov, draws, _ = run_20d
    _, z_cov = mean_cov_z_scores(draws, mean, 1.25 * cov)
    assert np.abs(z_cov).max() > Z_MAX
    z_mean, _ = mean_cov_z_scores(draws, mean + 0.3 * np.sqrt(np.diag(cov)), cov)
    assert np.abs(z_mean).max() > Z_MAX


def test_acceptance_after_warmup_near_target(run_20d):
    """Target 0.8: warm-up mean acceptance ≈ 0.8 and post-warm-up acceptance within [0.6, 0.95] per chain."""
    _, _, _, result = run_20d
    assert ((result.accept_rate > 0.6) & (result.accept_rate < 0.95)).all(), result.accept_rate
    assert ((result.mean_accept_prob_warmup > 0.7) & (result.mean_accept_prob_warmup < 0.9)).all()


def test_float32_agrees_with_float64(run_20d):
    """float32 draws have the right dtype and the same mean and variance within Monte Carlo error."""
    mean, cov, d64, _ = run_20d
    d32, r32 = run_gaussian(
        mean, cov, HMCConfig(warmup=400, samples=1000, progress=False), seed=12, dtype=torch.float32
    )
    assert r32.step_size.dtype == torch.float32 and r32.potential.dtype == torch.float32
    assert r32.final_state.kernel.position.dtype == torch.float32
    for i in range(len(mean)):
        xs = [d[:, :, i] for d in (d32, d64)]
        se_mean = [x.std() / math.sqrt(ess(x)) for x in xs]
        assert abs(xs[0].mean() - xs[1].mean()) < Z_MAX * math.hypot(*se_mean), i
        qs = [(x - mean[i]) ** 2 for x in xs]
        se_var = [q.std() / math.sqrt(ess(q)) for q in qs]
        assert abs(qs[0].mean() - qs[1].mean()) < Z_MAX * math.hypot(*se_var), i


# ---------------------------------------------------------------------------------------------------------
# Divergences are counted, rejected and reported
# ---------------------------------------------------------------------------------------------------------


def test_absurd_step_size_diverges_every_transition():
    """Step size 50 with no warm-up: every transition diverges, is rejected, and the chains stay put."""
    mean, cov = np.zeros(10), np.eye(10)
    _, pg = gaussian_potential(mean, cov)
    init = torch.randn(3, 10, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    config = HMCConfig(warmup=0, samples=20, init_step_size=50.0, progress=False)
    result = sample(pg, init, config, seed=0)
    assert result.divergences.tolist() == [20, 20, 20]
    assert result.divergences_warmup.tolist() == [0, 0, 0]
    assert result.accept_rate.tolist() == [0.0, 0.0, 0.0]
    assert torch.equal(result.final_state.kernel.position, init)
    assert torch.isfinite(result.potential).all()


def test_nan_region_divergences_counted_and_chains_stay_finite():
    """U (and ∇U) is NaN for x₀ > 1: those proposals are divergences (warm-up and sampling counted apart)."""

    def potential(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x**2).sum(-1) + torch.sqrt(1.0 - x[:, 0])  # NaN beyond x₀ = 1

    init = torch.zeros(4, 2, dtype=torch.float64)
    draws: list[torch.Tensor] = []
    config = HMCConfig(warmup=100, samples=300, leapfrog_steps=8, progress=False)
    result = sample(
        autograd_potential_and_grad(potential),
        init,
        config,
        5,
        [on_draw(lambda k, x: draws.append(x.clone()))],
    )
    x = torch.stack(draws)
    assert torch.isfinite(x).all() and torch.isfinite(result.potential).all()
    assert (x[..., 0] <= 1.0).all()
    assert (result.divergences_warmup > 0).all()
    assert (result.divergences > 0).all()
    assert (result.divergences <= config.samples).all()
    accepted = (result.accept_rate * config.samples).round().long()
    assert (accepted + result.divergences <= config.samples).all()


def test_non_finite_start_is_an_error():
    """A chain starting where U is not finite cannot be sampled; the error names it."""
    init = torch.tensor([[0.0], [2.0]])
    potential = autograd_potential_and_grad(lambda x: torch.sqrt(1.0 - x[:, 0]))
    with pytest.raises(ValueError, match=r"chains \[1\]"):
        sample(potential, init, HMCConfig(warmup=1, samples=1), 0)


# ---------------------------------------------------------------------------------------------------------
# Seeds, thinning, the gradient path, the integrator
# ---------------------------------------------------------------------------------------------------------


def _small_run(seed: int, **kwargs):
    """A short autograd run on the 2-D target, recording every draw."""
    mean, cov = correlated_2d()
    potential, _ = gaussian_potential(mean, cov)
    draws: list[torch.Tensor] = []
    config = HMCConfig(
        warmup=kwargs.pop("warmup", 40), samples=kwargs.pop("samples", 30), progress=False, **kwargs
    )
    init = torch.zeros(3, 2, dtype=torch.float64)
    result = sample(
        autograd_potential_and_grad(potential),
        init,
        config,
        seed,
        [on_draw(lambda k, x: draws.append(x.clone()))],
    )
    return torch.stack(draws), result


def test_same_seed_bitwise_identical_different_seed_differs():
    """Same seed: identical draws, traces and adaptation bit for bit; another seed: different draws."""
    a, ra = _small_run(7)
    b, rb = _small_run(7)
    c, rc = _small_run(8)
    assert torch.equal(a, b)
    for name in ("potential", "step_size", "inv_mass", "divergences"):
        assert torch.equal(getattr(ra, name), getattr(rb, name)), name
    assert not torch.equal(a, c)
    assert not torch.equal(ra.step_size, rc.step_size)


def test_thinning_keeps_every_thin_th_draw():
    """thin=4 over 10 sampling iterations keeps iterations 0, 4, 8: draws 0..2 and a (3, C) trace."""
    seen: list[int] = []
    config = HMCConfig(warmup=5, samples=10, thin=4, progress=False)
    potential = autograd_potential_and_grad(lambda x: 0.5 * (x**2).sum(-1))
    result = sample(potential, torch.zeros(2, 3), config, 0, [on_draw(lambda k, x: seen.append(k))])
    assert seen == [0, 1, 2] and result.potential.shape == (3, 2) and torch.isfinite(result.potential).all()
    assert result.n_gradients >= 1 + 15 * math.floor(0.8 * 16 + 0.5)
    assert result.final_state.draws_kept == config.kept == 3


def test_the_run_has_the_dtype_and_device_of_its_initial_positions():
    potential = autograd_potential_and_grad(lambda x: 0.5 * (x**2).sum(-1))
    result = sample(potential, torch.zeros(2, 3, dtype=torch.float32), HMCConfig(warmup=3, samples=3), 0)
    assert result.step_size.dtype == result.potential.dtype == result.inv_mass.dtype == torch.float32


def test_autograd_matches_analytic_gradient_path():
    """The autograd gradient reproduces an analytic (U, ∇U) run to rounding over a short run."""
    mean, cov = anisotropic_20d()
    potential, pg = gaussian_potential(mean, cov)
    init = torch.zeros(2, 20, dtype=torch.float64)
    config = HMCConfig(warmup=0, samples=5, init_step_size=0.05, progress=False)
    a = sample(autograd_potential_and_grad(potential), init, config, 3)
    b = sample(pg, init, config, 3)
    assert torch.allclose(a.potential, b.potential, rtol=1e-10, atol=1e-10)
    assert torch.allclose(
        a.final_state.kernel.position, b.final_state.kernel.position, rtol=1e-10, atol=1e-10
    )


def test_static_trajectory_samples_like_the_eager_one() -> None:
    theta = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    config = HMCConfig(warmup=10, samples=10, leapfrog_steps=5, progress=False)
    runs = [
        sample(anharmonic_potential_and_grad, theta, config, seed=3, trajectory=kind)
        for kind in ("eager", "static")
    ]
    # Rounding differs in the last half kick only (then grows chaotically): close after 20 iterations.
    positions = [run.final_state.kernel.position for run in runs]
    assert torch.allclose(positions[0], positions[1], atol=1e-8)
    assert torch.equal(runs[0].accept_rate, runs[1].accept_rate)
    with pytest.raises(ValueError, match="CUDA"):
        sample(anharmonic_potential_and_grad, theta, config, seed=0, trajectory="graph")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the capture is not exercised")
def test_cuda_graph_trajectory_samples_like_the_static_one_on_gpu() -> None:
    theta = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).cuda()
    config = HMCConfig(warmup=20, samples=20, leapfrog_steps=5, progress=False)
    runs = [
        sample(anharmonic_potential_and_grad, theta, config, seed=3, trajectory=kind)
        for kind in ("static", "graph")
    ]
    assert torch.allclose(runs[0].final_state.kernel.position, runs[1].final_state.kernel.position, atol=1e-9)


# ---------------------------------------------------------------------------------------------------------
# Checkpoint and resume
# ---------------------------------------------------------------------------------------------------------


# Iterations: warm-up (fast buffer, inside the slow window), the warm-up/sampling boundary, sampling.
@pytest.mark.parametrize("checkpoint_at", [1, 33, 60, 75])
def test_resume_from_checkpoint_is_bitwise_identical(checkpoint_at):
    """Save the state at iteration k through torch.save, resume: the kept draws match an uninterrupted run."""
    mean, cov = correlated_2d()
    potential = autograd_potential_and_grad(gaussian_potential(mean, cov)[0])
    config = HMCConfig(warmup=60, samples=40, thin=3, progress=False)
    init = torch.zeros(3, 2, dtype=torch.float64)
    full: dict[int, torch.Tensor] = {}
    saved: dict[str, bytes] = {}

    def checkpoint(state: SamplerState) -> None:
        if state.iteration == checkpoint_at:
            buffer = io.BytesIO()
            torch.save(state.state_dict(), buffer)
            saved["state"] = buffer.getvalue()

    reference = sample(
        potential, init, config, 4, [on_draw(lambda k, x: full.__setitem__(k, x.clone())), checkpoint]
    )
    state = SamplerState.from_state_dict(torch.load(io.BytesIO(saved["state"]), weights_only=True))
    assert state.iteration == checkpoint_at
    resumed: dict[int, torch.Tensor] = {}
    # the initial positions and the seed are ignored on resume
    result = sample(
        potential,
        init + 1.0,
        config,
        999,
        [on_draw(lambda k, x: resumed.__setitem__(k, x.clone()))],
        resume=state,
    )
    assert len(full) == config.kept == 14
    for k, x in resumed.items():
        assert torch.equal(x, full[k]), k
    assert len(resumed) == len([k for k in full if config.warmup + 3 * k >= checkpoint_at])
    for name in (
        "potential",
        "step_size",
        "inv_mass",
        "accept_rate",
        "divergences",
        "divergences_warmup",
        "mean_accept_prob_warmup",
    ):
        assert torch.equal(getattr(result, name), getattr(reference, name)), name
    assert result.n_gradients == reference.n_gradients


def test_resume_rejects_a_different_schedule_and_another_device_type():
    """A state from another warm-up/sampling schedule is refused rather than silently mis-adapted; a CPU
    random stream cannot continue as a CUDA one."""
    _, result = _small_run(1, warmup=20, samples=5)
    potential = autograd_potential_and_grad(lambda x: x.sum(-1))
    with pytest.raises(ValueError, match="warmup"):
        sample(potential, torch.zeros(3, 2), HMCConfig(warmup=30, samples=5), 1, resume=result.final_state)
    saved = result.final_state.state_dict()
    assert saved["rng"]["device_type"] == "cpu"
    with pytest.raises(ValueError, match="saved on a cpu device and cannot continue on cuda"):
        SamplerState.from_state_dict(saved, "cuda")
