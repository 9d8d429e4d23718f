"""Targets and Monte Carlo yardsticks shared by the deeplin.hmc tests.

Monte Carlo tolerances come from effective sample sizes computed here with the standard split-chain
estimator (Stan / Vehtari et al. 2021, §3.2, without rank normalisation; ArviZ's method="mean") truncated by
Geyer's (1992) initial monotone positive sequence; test_driver.py checks it against known autocorrelations
and, where installed, against ArviZ.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from deeplin.hmc import HMCConfig, HMCResult, on_draw, sample

Z_MAX = 4.5  # per-quantity z bound: with ≤ 230 checked quantities the false-alarm rate is < 1e-3


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


def anharmonic_potential(x: torch.Tensor) -> torch.Tensor:
    """A non-Gaussian, coupled potential: Σ(x²/2 + x⁴/4) + 0.3 Σ x_i x_{i+1}."""
    return (0.5 * x**2 + 0.25 * x**4).sum(-1) + 0.3 * (x[:, 1:] * x[:, :-1]).sum(-1)


def anharmonic_potential_and_grad(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The anharmonic potential with its analytic gradient x + x³ + 0.3 (x_{i−1} + x_{i+1}) (capturable)."""
    coupling = torch.zeros_like(x)
    coupling[:, 1:] += x[:, :-1]
    coupling[:, :-1] += x[:, 1:]
    return anharmonic_potential(x), x + x**3 + 0.3 * coupling


def run_gaussian(
    mean, cov, config: HMCConfig, seed: int, chains: int = 4, dtype=torch.float64
) -> tuple[np.ndarray, HMCResult]:
    """Sample a Gaussian target from over-dispersed starts; returns (draws (S, C, D) float64, result)."""
    _, pg = gaussian_potential(mean, cov, dtype)
    gen = torch.Generator().manual_seed(seed)
    init = torch.tensor(mean) + 2.0 * torch.randn(chains, len(mean), generator=gen, dtype=torch.float64)
    draws: list[torch.Tensor] = []
    result = sample(pg, init.to(dtype), config, seed, [on_draw(lambda k, x: draws.append(x.clone()))])
    return torch.stack(draws).double().numpy(), result
