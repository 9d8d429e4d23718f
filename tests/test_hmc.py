"""The batched HMC kernel (deeplin.hmc): Gaussian targets, integrator, divergences, RNG, checkpoint/resume.

Monte Carlo tolerances come from effective sample sizes computed here with the standard split-chain
estimator (Stan / Vehtari et al. 2021, §3.2, without rank normalisation; ArviZ's method="mean") truncated by
Geyer's (1992) initial monotone positive sequence; `test_ess_estimator_*` checks it against known
autocorrelations and, where installed, against ArviZ.
"""

from __future__ import annotations

import io
import logging
import math

import numpy as np
import pytest
import torch
from deeplin.hmc import (
    HMCConfig,
    HMCState,
    StaticLeapfrog,
    autograd_potential_and_grad,
    leapfrog,
    mass_adaptation_windows,
    sample,
)

Z_MAX = 4.5  # per-quantity z bound: with ≤ 230 checked quantities the false-alarm rate is < 1e-3


# One torch thread for these tiny tensors: tests/conftest.py sets it for the whole session.


# ---------------------------------------------------------------------------------------------------------
# Effective sample size (initial monotone positive sequence) and Monte Carlo checks
# ---------------------------------------------------------------------------------------------------------


def ess(x: np.ndarray) -> float:
    """Split-chain ESS of draws x (S, C): Stan's combined autocorrelation, Geyer initial monotone sequence."""
    half = x.shape[0] // 2
    x = np.concatenate([x[:half], x[x.shape[0] - half :]], axis=1)  # split chains (Vehtari et al. 2021)
    s, c = x.shape
    xc = x - x.mean(axis=0)
    nfft = 1 << (2 * s - 1).bit_length()
    f = np.fft.rfft(xc, n=nfft, axis=0)
    acov = np.fft.irfft(f * np.conj(f), n=nfft, axis=0)[:s] / s  # biased autocovariance per chain
    within = (acov[0] * s / (s - 1)).mean()
    between = x.mean(axis=0).var(ddof=1) if c > 1 else 0.0
    var_plus = within * (s - 1) / s + between
    if var_plus <= 0:
        return float(s * c)
    rho = 1.0 - (within - acov.mean(axis=1)) / var_plus
    rho[0] = 1.0
    # Geyer: pair sums P_k = ρ_2k + ρ_2k+1 kept while positive and made monotone; as in Stan, the even term
    # of the first non-positive pair is added when it is positive.
    pairs = rho[: 2 * (s // 2)].reshape(-1, 2).sum(axis=1)
    stop = np.flatnonzero(pairs <= 0)
    n_kept = stop[0] if stop.size else pairs.size
    tail = rho[2 * n_kept] if n_kept < pairs.size and rho[2 * n_kept] > 0 else 0.0
    tau = -1.0 + 2.0 * np.minimum.accumulate(pairs[:n_kept]).sum() + tail
    return float(s * c / max(tau, 1.0 / math.log10(s * c)))


def mean_cov_z_scores(draws: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """z-scores of the sample mean and of every covariance entry (using the known mean), from their ESS.

    Σ̂_ij = mean of (x_i − μ_i)(x_j − μ_j) is unbiased; its MCSE is sd(product)/√ESS(product).
    """
    _, _, d = draws.shape
    sd = np.sqrt(np.diag(cov))
    z_mean = np.array(
        [(draws[:, :, i].mean() - mean[i]) / (sd[i] / math.sqrt(ess(draws[:, :, i]))) for i in range(d)]
    )
    centred = draws - mean
    z_cov = []
    for i in range(d):
        for j in range(i, d):
            q = centred[:, :, i] * centred[:, :, j]
            z_cov.append((q.mean() - cov[i, j]) / (q.std(ddof=1) / math.sqrt(ess(q))))
    return z_mean, np.array(z_cov)


def correlated_2d() -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a 2-D Gaussian with correlation 0.9 and scales 1 and 3."""
    scales = np.array([1.0, 3.0])
    corr = np.array([[1.0, 0.9], [0.9, 1.0]])
    return np.array([1.0, -2.0]), corr * np.outer(scales, scales)


def anisotropic_20d() -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a 20-D Gaussian: scales log-spaced over 10×, random moderate correlations."""
    rng = np.random.default_rng(20)
    d = 20
    scales = np.logspace(-0.5, 0.5, d)
    a = rng.standard_normal((d, 4 * d))
    wishart = a @ a.T / (4 * d)
    corr = wishart / np.sqrt(np.outer(np.diag(wishart), np.diag(wishart)))
    return rng.standard_normal(d), corr * np.outer(scales, scales)


def gaussian_potential(mean: np.ndarray, cov: np.ndarray, dtype=torch.float64):
    """U(θ) = ½(θ−μ)ᵀΣ⁻¹(θ−μ) and an analytic (U, ∇U), batched over chains."""
    mu = torch.tensor(mean, dtype=dtype)
    prec = torch.tensor(np.linalg.inv(cov), dtype=dtype)

    def potential(x: torch.Tensor) -> torch.Tensor:
        y = x - mu
        return 0.5 * ((y @ prec) * y).sum(-1)

    def potential_and_grad(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = x - mu
        g = y @ prec
        return 0.5 * (g * y).sum(-1), g

    return potential, potential_and_grad


def run_gaussian(mean, cov, config, seed, chains=4, dtype=torch.float64):
    """Sample a Gaussian target from over-dispersed starts; returns (draws (S, C, D) float64, result)."""
    _, pg = gaussian_potential(mean, cov, dtype)
    gen = torch.Generator().manual_seed(seed)
    init = torch.tensor(mean) + 2.0 * torch.randn(chains, len(mean), generator=gen, dtype=torch.float64)
    draws: list[torch.Tensor] = []
    result = sample(
        None,
        init,
        config,
        seed,
        callback=lambda k, x: draws.append(x.clone()),
        potential_and_grad_fn=pg,
        dtype=dtype,
    )
    return torch.stack(draws).double().numpy(), result


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
# 1. Gaussian targets: mean and covariance within Monte Carlo error
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


# ---------------------------------------------------------------------------------------------------------
# 2. Leapfrog: reversibility and second-order energy error
# ---------------------------------------------------------------------------------------------------------


def anharmonic_potential(x: torch.Tensor) -> torch.Tensor:
    """A non-Gaussian, coupled potential: Σ(x²/2 + x⁴/4) + 0.3 Σ x_i x_{i+1}."""
    return (0.5 * x**2 + 0.25 * x**4).sum(-1) + 0.3 * (x[:, 1:] * x[:, :-1]).sum(-1)


def test_leapfrog_is_reversible_and_pure():
    """L steps forward, negate p, L steps back: the start is recovered to 1e-10; inputs are untouched."""
    gen = torch.Generator().manual_seed(0)
    c, d = 6, 5
    pg = autograd_potential_and_grad(anharmonic_potential)
    theta0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    p0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    inv_mass = 0.5 + torch.rand(c, d, generator=gen, dtype=torch.float64)
    step = torch.linspace(0.01, 0.08, c, dtype=torch.float64)
    _, g0 = pg(theta0)
    copies = [t.clone() for t in (theta0, p0, g0, step, inv_mass)]
    theta1, p1, _, g1 = leapfrog(theta0, p0, g0, step, inv_mass, 50, pg)
    for before, after in zip(copies, (theta0, p0, g0, step, inv_mass), strict=True):
        assert torch.equal(before, after)
    assert (theta1 - theta0).abs().max() > 0.1  # it did move
    theta2, p2, _, _ = leapfrog(theta1, -p1, g1, step, inv_mass, 50, pg)
    assert (theta2 - theta0).abs().max() < 1e-10
    assert (p2 + p0).abs().max() < 1e-10


def test_leapfrog_energy_error_is_second_order():
    """Over a fixed trajectory time, halving the step divides the max energy error by ≈ 4."""
    gen = torch.Generator().manual_seed(1)
    c, d = 64, 5
    pg = autograd_potential_and_grad(anharmonic_potential)
    theta0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    p0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    inv_mass = torch.ones(c, d, dtype=torch.float64)
    u0, g0 = pg(theta0)
    h0 = u0 + 0.5 * (p0**2).sum(-1)
    errors = []
    for n in (16, 32, 64):  # trajectory time 1.6
        step = torch.full((c,), 1.6 / n, dtype=torch.float64)
        _, p, u, _ = leapfrog(theta0, p0, g0, step, inv_mass, n, pg)
        errors.append(float((u + 0.5 * (p**2).sum(-1) - h0).abs().max()))
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(3.3 < r < 4.8 for r in ratios), (errors, ratios)


# ---------------------------------------------------------------------------------------------------------
# 3. Divergences are counted, rejected and reported
# ---------------------------------------------------------------------------------------------------------


def test_absurd_step_size_diverges_every_transition():
    """Step size 50 with no warm-up: every transition diverges, is rejected, and the chains stay put."""
    mean, cov = np.zeros(10), np.eye(10)
    _, pg = gaussian_potential(mean, cov)
    init = torch.randn(3, 10, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    config = HMCConfig(warmup=0, samples=20, init_step_size=50.0, progress=False)
    result = sample(None, init, config, seed=0, potential_and_grad_fn=pg)
    assert result.divergences.tolist() == [20, 20, 20]
    assert result.divergences_warmup.tolist() == [0, 0, 0]
    assert result.accept_rate.tolist() == [0.0, 0.0, 0.0]
    assert torch.equal(result.final_state.position, init)
    assert torch.isfinite(result.potential).all()


def test_nan_region_divergences_counted_and_chains_stay_finite():
    """U (and ∇U) is NaN for x₀ > 1: those proposals are divergences (warm-up and sampling counted apart)."""

    def potential(x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (x**2).sum(-1) + torch.sqrt(1.0 - x[:, 0])  # NaN beyond x₀ = 1

    init = torch.zeros(4, 2, dtype=torch.float64)
    draws: list[torch.Tensor] = []
    config = HMCConfig(warmup=100, samples=300, leapfrog_steps=8, progress=False)
    result = sample(potential, init, config, seed=5, callback=lambda k, x: draws.append(x.clone()))
    x = torch.stack(draws)
    assert torch.isfinite(x).all() and torch.isfinite(result.potential).all()
    assert (x[..., 0] <= 1.0).all()
    assert (result.divergences_warmup > 0).all()
    assert (result.divergences > 0).all()
    assert (result.divergences <= config.samples).all()
    accepted = (result.accept_rate * config.samples).round().long()
    assert (accepted + result.divergences <= config.samples).all()


# ---------------------------------------------------------------------------------------------------------
# 4. Seeds
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
    result = sample(potential, init, config, seed, callback=lambda k, x: draws.append(x.clone()))
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


# ---------------------------------------------------------------------------------------------------------
# 5. float32 against float64
# ---------------------------------------------------------------------------------------------------------


def test_float32_agrees_with_float64(run_20d):
    """float32 draws have the right dtype and the same mean and variance within Monte Carlo error."""
    mean, cov, d64, _ = run_20d
    d32, r32 = run_gaussian(
        mean, cov, HMCConfig(warmup=400, samples=1000, progress=False), seed=12, dtype=torch.float32
    )
    assert r32.step_size.dtype == torch.float32 and r32.potential.dtype == torch.float32
    assert r32.final_state.position.dtype == torch.float32
    for i in range(len(mean)):
        xs = [d[:, :, i] for d in (d32, d64)]
        se_mean = [x.std() / math.sqrt(ess(x)) for x in xs]
        assert abs(xs[0].mean() - xs[1].mean()) < Z_MAX * math.hypot(*se_mean), i
        qs = [(x - mean[i]) ** 2 for x in xs]
        se_var = [q.std() / math.sqrt(ess(q)) for q in qs]
        assert abs(qs[0].mean() - qs[1].mean()) < Z_MAX * math.hypot(*se_var), i


# ---------------------------------------------------------------------------------------------------------
# 6. Checkpoint and resume
# ---------------------------------------------------------------------------------------------------------


# Iterations: warm-up (fast buffer, inside the slow window), the warm-up/sampling boundary, sampling.
@pytest.mark.parametrize("checkpoint_at", [1, 33, 60, 75])
def test_resume_from_checkpoint_is_bitwise_identical(checkpoint_at):
    """Save the state at iteration k through torch.save, resume: the kept draws match an uninterrupted run."""
    mean, cov = correlated_2d()
    potential, _ = gaussian_potential(mean, cov)
    config = HMCConfig(warmup=60, samples=40, thin=3, progress=False)
    init = torch.zeros(3, 2, dtype=torch.float64)
    full: dict[int, torch.Tensor] = {}
    saved: dict[str, bytes] = {}

    def checkpoint(state: HMCState) -> None:
        if state.iteration == checkpoint_at:
            buffer = io.BytesIO()
            torch.save(state.state_dict(), buffer)
            saved["state"] = buffer.getvalue()

    reference = sample(
        potential,
        init,
        config,
        seed=4,
        on_iteration=checkpoint,
        callback=lambda k, x: full.__setitem__(k, x.clone()),
    )
    state = HMCState.from_state_dict(torch.load(io.BytesIO(saved["state"]), weights_only=True))
    assert state.iteration == checkpoint_at
    resumed: dict[int, torch.Tensor] = {}
    result = sample(
        potential,
        init,
        config,
        seed=999,
        state=state,  # the seed is ignored on resume
        callback=lambda k, x: resumed.__setitem__(k, x.clone()),
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


def test_resume_rejects_a_different_schedule():
    """A state from another warm-up/sampling schedule is refused rather than silently mis-adapted."""
    _, result = _small_run(1, warmup=20, samples=5)
    with pytest.raises(ValueError, match="warmup"):
        sample(
            None,
            torch.zeros(3, 2),
            HMCConfig(warmup=30, samples=5),
            1,
            state=result.final_state,
            potential_and_grad_fn=lambda x: (x.sum(-1), torch.ones_like(x)),
        )


# ---------------------------------------------------------------------------------------------------------
# 7. Acceptance after warm-up
# ---------------------------------------------------------------------------------------------------------


def test_acceptance_after_warmup_near_target(run_20d):
    """Target 0.8: warm-up mean acceptance ≈ 0.8 and post-warm-up acceptance within [0.6, 0.95] per chain."""
    _, _, _, result = run_20d
    assert ((result.accept_rate > 0.6) & (result.accept_rate < 0.95)).all(), result.accept_rate
    assert ((result.mean_accept_prob_warmup > 0.7) & (result.mean_accept_prob_warmup < 0.9)).all()


# ---------------------------------------------------------------------------------------------------------
# Smaller pieces: adaptation windows, thinning, autograd path, progress output, bad input
# ---------------------------------------------------------------------------------------------------------


def test_mass_adaptation_windows_follow_stan_doubling():
    """15 % initial buffer, windows 25, 50, 100, … (one stretched when the next would not fit), 10 % final."""
    assert mass_adaptation_windows(1000) == (150, [175, 225, 325, 900])
    assert mass_adaptation_windows(300) == (45, [70, 120, 270])
    assert mass_adaptation_windows(19) == (19, [])
    for warmup in range(20, 400, 7):
        start, ends = mass_adaptation_windows(warmup)
        sizes = np.diff([start, *ends])
        assert ends[-1] == warmup - int(0.1 * warmup) and (sizes > 0).all()
        assert all(sizes[i + 1] >= 2 * sizes[i] for i in range(len(sizes) - 1))


def test_inverse_mass_is_regularised_window_variance():
    """After the slow window, M⁻¹ = n/(n+5)·(per-chain variance of its n draws) + 1e-3·5/(n+5) (Stan)."""
    mean, cov = correlated_2d()
    potential, _ = gaussian_potential(mean, cov)
    config = HMCConfig(warmup=60, samples=0, progress=False)
    start, ends = mass_adaptation_windows(config.warmup)
    assert (start, ends) == (9, [54])
    window: list[torch.Tensor] = []
    seen: dict[str, torch.Tensor] = {}

    def record(state: HMCState) -> None:
        if start < state.iteration <= ends[0]:
            window.append(state.position.clone())
        if state.iteration == ends[0]:
            seen["inv_mass"] = state.inv_mass.clone()

    sample(potential, torch.zeros(3, 2, dtype=torch.float64), config, 2, on_iteration=record)
    x = torch.stack(window)
    n = x.shape[0]
    expected = n / (n + 5) * x.var(dim=0, unbiased=True) + 1e-3 * 5 / (n + 5)
    assert n == 45 and torch.allclose(seen["inv_mass"], expected, rtol=1e-12, atol=0)


def test_thinning_and_callback_indices():
    """thin=4 over 10 iterations keeps draws 0, 4, 8: callback indices 0..2 and a (3, C) trace."""
    seen: list[int] = []
    config = HMCConfig(warmup=5, samples=10, thin=4, progress=False)
    result = sample(
        lambda x: 0.5 * (x**2).sum(-1), torch.zeros(2, 3), config, 0, callback=lambda k, x: seen.append(k)
    )
    assert seen == [0, 1, 2] and result.potential.shape == (3, 2)
    assert result.n_gradients >= 1 + 15 * math.floor(0.8 * 16 + 0.5)


def test_autograd_matches_analytic_gradient_path():
    """The default autograd gradient reproduces an analytic (U, ∇U) run to rounding over a short run."""
    mean, cov = anisotropic_20d()
    potential, pg = gaussian_potential(mean, cov)
    init = torch.zeros(2, 20, dtype=torch.float64)
    config = HMCConfig(warmup=0, samples=5, init_step_size=0.05, progress=False)
    a = sample(potential, init, config, 3)
    b = sample(None, init, config, 3, potential_and_grad_fn=pg)
    assert torch.allclose(a.potential, b.potential, rtol=1e-10, atol=1e-10)
    assert torch.allclose(a.final_state.position, b.final_state.position, rtol=1e-10, atol=1e-10)


def test_progress_bar_and_log_lines(capsys, caplog):
    """progress=True draws a carriage-return bar on stderr; False logs ~10 % lines instead."""
    kwargs = {"potential_fn": lambda x: 0.5 * (x**2).sum(-1), "init_position": torch.zeros(2, 2), "seed": 0}
    sample(config=HMCConfig(warmup=5, samples=5, progress=True), **kwargs)
    assert "\rHMC [" in capsys.readouterr().err
    with caplog.at_level(logging.INFO, logger="deeplin.hmc"):
        sample(config=HMCConfig(warmup=10, samples=10, progress=False), **kwargs)
    lines = [r.message for r in caplog.records if r.name == "deeplin.hmc"]
    assert 5 <= len(lines) <= 11 and lines[-1].startswith("HMC [") and "20/20" in lines[-1]


def test_non_finite_start_is_an_error():
    """A chain starting where U is not finite cannot be sampled; the error names it."""
    init = torch.tensor([[0.0], [2.0]])
    with pytest.raises(ValueError, match=r"chains \[1\]"):
        sample(lambda x: torch.sqrt(1.0 - x[:, 0]), init, HMCConfig(warmup=1, samples=1), 0)


# ---------------------------------------------------------------------------------------------------------
# The static-buffer integrator (the GPU path's code, run here without graph capture)
# ---------------------------------------------------------------------------------------------------------


def _deep_problem():
    from deeplin.deep_model import DeepPosterior

    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 6)) / np.sqrt(6)
    posterior = DeepPosterior(x, rng.standard_normal(20), [6, 5, 4], "tanh", "linear", 0.1)
    theta = torch.randn(4, posterior.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    return posterior, theta


def test_static_leapfrog_equals_leapfrog_and_reuses_its_buffers() -> None:
    posterior, theta = _deep_problem()
    momentum = torch.randn(theta.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    _, grad = posterior.potential_and_grad(theta)
    step = torch.tensor([0.05, 0.02, 0.04, 0.03], dtype=torch.float64)
    inv_mass = 0.5 + torch.rand(theta.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    integrator = StaticLeapfrog(posterior.potential_and_grad, theta, capture=False)
    for n_steps in (1, 7):
        expected = leapfrog(theta, momentum, grad, step, inv_mass, n_steps, posterior.potential_and_grad)
        got = integrator(theta, momentum, grad, step, inv_mass, n_steps)
        for a, b in zip(expected, got, strict=True):
            assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    buffer = integrator.theta.data_ptr()
    integrator(theta, momentum, grad, step, inv_mass, 3)
    assert integrator.theta.data_ptr() == buffer  # static: what a captured graph needs


def test_static_trajectory_samples_like_the_eager_one() -> None:
    posterior, theta = _deep_problem()
    config = HMCConfig(warmup=10, samples=10, leapfrog_steps=5, progress=False)
    runs = [sample(None, theta, config, seed=3, potential_and_grad_fn=posterior.potential_and_grad,
                   trajectory=kind) for kind in ("eager", "static")]  # fmt: skip
    # Rounding differs in the last half kick only (then grows chaotically): close after 20 iterations.
    assert torch.allclose(runs[0].final_state.position, runs[1].final_state.position, atol=1e-8)
    assert torch.equal(runs[0].accept_rate, runs[1].accept_rate)


def test_graph_trajectory_needs_cuda() -> None:
    posterior, theta = _deep_problem()
    config = HMCConfig(warmup=2, samples=2, leapfrog_steps=2, progress=False)
    with pytest.raises(ValueError, match="CUDA"):
        sample(None, theta, config, seed=0, potential_and_grad_fn=posterior.potential_and_grad, trajectory="graph")
    with pytest.raises(ValueError, match="trajectory must be"):
        sample(None, theta, config, seed=0, potential_and_grad_fn=posterior.potential_and_grad, trajectory="jit")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the capture is not exercised")
def test_cuda_graph_trajectory_equals_eager_on_gpu() -> None:
    from deeplin.deep_model import DeepPosterior

    _, theta = _deep_problem()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 6)) / np.sqrt(6)
    gpu = DeepPosterior(x, rng.standard_normal(20), [6, 5, 4], "tanh", "linear", 0.1, device="cuda")
    config = HMCConfig(warmup=20, samples=20, leapfrog_steps=5, progress=False)
    runs = [sample(None, theta.cuda(), config, seed=3, potential_and_grad_fn=gpu.potential_and_grad,
                   trajectory=kind) for kind in ("static", "graph")]  # fmt: skip
    assert torch.allclose(runs[0].final_state.position, runs[1].final_state.position, atol=1e-9)
