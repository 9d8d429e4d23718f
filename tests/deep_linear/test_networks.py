"""The direct network simulation (deeplin.deep_linear.networks) against the exact finite moments, the
conditional Gaussian law of the outputs given K_L, a replay of its weights, and its seeding.

Statistical checks use a fixed seed, |z| ≤ Z_BOUND or a KS p-value above P_FLOOR, and show their power.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from deeplin.deep_linear import networks, theory
from scipy import stats

Z_BOUND = 4.0  # two-sided, per statistic
P_FLOOR = 1e-3  # KS tests: a true law fails one of them with probability 1e-3

# the tiny direct-simulation case of docs/deep_linear.md, 'Check values'
TINY = dict(width=10, depth=5, input_dim=7, outputs=2, rho0=0.3)
TINY_NETWORKS = 150_000  # relative SEs ≈ 0.7 % (B) and 1.0 % (C); about 4 s on one core


def _z(sample: np.ndarray, target: float) -> float:
    return float((sample.mean() - target) / (sample.std(ddof=1) / math.sqrt(sample.size)))


def _z_var(sample: np.ndarray, target: float) -> float:
    centred = sample - sample.mean()
    var = centred.var()
    return float((var - target) / math.sqrt(((centred**4).mean() - var * var) / sample.size))


@pytest.fixture(scope="module")
def tiny() -> tuple[np.ndarray, np.ndarray]:
    return networks.simulate_networks(**TINY, networks=TINY_NETWORKS, seed=2024)


def test_tiny_simulation_matches_the_exact_moments(tiny) -> None:
    """N = 10, L = 5, N0 = 7, ρ0 = 0.3: B = 1.3370, C = 0.7996, E log K11 = −0.5166, Var log K11 = 1.1066, and
    the output moments E f(x1)²f(x2)² = B + 2C, E f⁴ = 3E K², Cov(f_1², f_2²) = Var K of two units."""
    f, k = tiny
    assert f.shape == (TINY_NETWORKS, 2, 2) and k.shape == (TINY_NETWORKS, 2, 2)
    assert f.dtype == np.float64 and k.dtype == np.float64
    moments = theory.finite_moments(TINY["width"], TINY["depth"], TINY["rho0"])
    assert (moments["b"], moments["c"]) == pytest.approx((1.3370, 0.7996), abs=5e-5)
    log_k11 = np.log(k[:, 0, 0])
    squares = f[:, :, 0] ** 2
    z = {
        "b": _z(k[:, 0, 0] * k[:, 1, 1], moments["b"]),
        "c": _z(k[:, 0, 1] ** 2, moments["c"]),
        "log_k11_mean": _z(log_k11, moments["log_k_mean"]),
        "log_k11_var": _z_var(log_k11, moments["log_k_var"]),
        "k_mean": _z(k[:, [0, 1], [0, 1]].ravel(), 1.0),
        "k12_mean": _z(k[:, 0, 1], TINY["rho0"]),
        "cross": _z((f[:, 0, 0] * f[:, 0, 1]) ** 2, moments["cross_fourth_moment"]),
        "kurtosis": _z(f[:, 0, 0] ** 4, moments["kurtosis"]),
        "unit_cov": _z((squares[:, 0] - 1) * (squares[:, 1] - 1), moments["unit_square_cov"]),
    }
    assert max(map(abs, z.values())) < Z_BOUND, z
    # power: the same statistics reject the limit law at a = L/N = 0.5 and the Gaussian process
    limit, gp = theory.limit_moments(0.5, TINY["rho0"]), theory.gp_moments(TINY["rho0"])
    assert abs(_z(log_k11, limit["log_k_mean"])) > Z_BOUND
    assert abs(_z(k[:, 0, 1] ** 2, limit["c"])) > Z_BOUND
    assert abs(_z(k[:, 0, 0] * k[:, 1, 1], gp["b"])) > 5 * Z_BOUND
    assert abs(_z(f[:, 0, 0] ** 4, gp["kurtosis"])) > 2 * Z_BOUND


def test_outputs_are_gaussian_given_the_kernel(tiny) -> None:
    """f/√K11 ~ N(0, 1), and the outputs whitened by chol(K_L) are iid N(0, 1) (KS); a 5 % error in the scale
    is caught; the unconditional law of f is the finite mixture E Φ(t/√K)."""
    f, k = tiny
    standard = (f[:, :, 0] / np.sqrt(k[:, 0, 0])[:, None]).ravel()
    assert stats.kstest(standard, "norm").pvalue > P_FLOOR
    assert stats.kstest(standard / 1.05, "norm").pvalue < 1e-6  # power
    white = np.linalg.solve(np.linalg.cholesky(k)[:, None], f[..., None])[..., 0]  # (networks, D, 2)
    for column in range(2):
        assert stats.kstest(white[:, :, column].ravel(), "norm").pvalue > P_FLOOR
    pair = white[:, 0, 0] * white[:, 0, 1]
    assert abs(_z(pair, 0.0)) < Z_BOUND  # uncorrelated after whitening
    grid = np.linspace(-20, 20, 1201)  # linear interpolation error < 1e-4
    draws = theory.finite_log_k_draws(TINY["width"], TINY["depth"], 20_000, np.random.default_rng(6))
    cdf = theory.finite_output_cdf(grid, draws)
    assert stats.kstest(f[:20_000, 0, 0], lambda x: np.interp(x, grid, cdf)).pvalue > P_FLOOR


def _replay(width, depth, input_dim, outputs, rho0, count, seed, batch):
    """The weights of simulate_networks drawn again in its documented order, and the forward pass written out
    per network with numpy: (f, H_L) for every network."""
    generator = torch.Generator().manual_seed(seed)
    root = math.sqrt(input_dim)
    x = np.zeros((input_dim, 2))
    x[0] = root, root * rho0
    x[1, 1] = root * math.sqrt(1 - rho0**2)
    fs, hs = [], []
    for start in range(0, count, batch):
        size = min(batch, count - start)
        fan_ins = [input_dim] + [width] * depth
        layers = [
            torch.randn((size, width, n), generator=generator, dtype=torch.float64).numpy()
            for n in fan_ins[:-1]
        ]
        readout = torch.randn((size, outputs, fan_ins[-1]), generator=generator, dtype=torch.float64).numpy()
        for index in range(size):
            h = x
            for w in layers:
                h = w[index] @ h / math.sqrt(h.shape[0])
            fs.append(readout[index] @ h / math.sqrt(h.shape[0]))
            hs.append(h)
    return np.array(fs), np.array(hs)


@pytest.mark.parametrize("batch", [None, 2, 5])
def test_kernel_is_h_transpose_h_over_n_of_the_replayed_weights(batch: int | None) -> None:
    args = dict(width=6, depth=4, input_dim=5, outputs=3, rho0=-0.4)
    f, k = networks.simulate_networks(**args, networks=5, seed=77, batch=batch)
    f_ref, h_ref = _replay(**args, count=5, seed=77, batch=batch or 5)
    assert np.allclose(f, f_ref, rtol=1e-12, atol=1e-13)
    assert np.allclose(k, np.transpose(h_ref, (0, 2, 1)) @ h_ref / args["width"], rtol=1e-12, atol=1e-13)
    assert np.all(k[:, 0, 1] == k[:, 1, 0]) and np.all(np.linalg.eigvalsh(k) > 0)


def test_kernel_is_the_covariance_of_many_output_units() -> None:
    """Without replaying the weights: the sample covariance S of D = 4000 output units of one network is K_L
    up to Wishart noise, Var S_ij = (K_ii K_jj + K_ij²)/D; a K off by 10 % is caught."""
    outputs = 4000
    f, k = networks.simulate_networks(8, 6, 4, outputs, 0.5, networks=10, seed=5)
    sample = np.transpose(f, (0, 2, 1)) @ f / outputs
    diag = np.diagonal(k, axis1=1, axis2=2)
    se = np.sqrt((diag[:, :, None] * diag[:, None, :] + k**2) / outputs)
    assert np.abs((sample - k) / se).max() < Z_BOUND
    assert np.abs((sample - 1.1 * k) / se).max() > Z_BOUND  # power


def test_zero_depth_kernel_is_the_input_gram_matrix() -> None:
    """The inputs are built exactly: with no hidden layer K = XᵀX/N0 = [[1, ρ0], [ρ0, 1]]."""
    _, k = networks.simulate_networks(5, 0, 9, 1, 0.3, networks=3, seed=0)
    assert np.allclose(k, [[1.0, 0.3], [0.3, 1.0]], rtol=0, atol=1e-15)
    x = networks.unit_inputs(9, 0.8, torch.device("cpu"), torch.float64)
    assert torch.allclose(
        x.T @ x / 9, torch.tensor([[1.0, 0.8], [0.8, 1.0]], dtype=torch.float64), atol=1e-15
    )
    with pytest.raises(ValueError):
        networks.unit_inputs(1, 0.3, torch.device("cpu"), torch.float64)


def test_same_seed_same_numbers_and_progress() -> None:
    calls = []
    args = dict(width=7, depth=3, input_dim=4, outputs=2, rho0=0.3, networks=9)
    first = networks.simulate_networks(**args, seed=3, batch=4, progress=lambda d, t: calls.append((d, t)))
    again = networks.simulate_networks(**args, seed=3, batch=4)
    other = networks.simulate_networks(**args, seed=4, batch=4)
    assert calls == [(4, 9), (8, 9), (9, 9)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.allclose(first[1], other[1])
    single = networks.simulate_networks(**args, seed=3, dtype=torch.float32, batch=4)
    assert single[0].dtype == np.float64 and single[1].dtype == np.float64
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            single, networks.simulate_networks(**args, seed=3, dtype=torch.float32, batch=4), strict=True
        )
    )


def test_default_batch_stays_below_a_gigabyte() -> None:
    for width, input_dim, outputs in [
        (10, 7, 2),
        (100, 784, 1),
        (1000, 1000, 1),
        (2000, 10, 5000),
        (40000, 1, 1),
    ]:
        batch = networks.default_batch(width, input_dim, outputs)
        assert batch >= 1
        assert batch == 1 or batch * 8 * width * max(width, input_dim, outputs) <= networks.MEMORY_BYTES
    assert networks.default_batch(10, 7, 2) > TINY_NETWORKS  # the tiny case runs in one batch


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_cuda() -> None:
    args = dict(width=10, depth=5, input_dim=7, outputs=2, rho0=0.3, networks=20_000, seed=9)
    f, k = networks.simulate_networks(**args, device="cuda")
    again = networks.simulate_networks(**args, device="cuda")
    assert np.array_equal(f, again[0]) and np.array_equal(k, again[1])
    moments = theory.finite_moments(10, 5, 0.3)
    assert abs(_z(k[:, 0, 0] * k[:, 1, 1], moments["b"])) < Z_BOUND
    assert abs(_z(np.log(k[:, 0, 0]), moments["log_k_mean"])) < Z_BOUND
