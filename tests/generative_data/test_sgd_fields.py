"""The SGD simulation (one step by hand, reproducibility, stream independence) and the local-field check
(Gaussian data passes, sparse students on sign data fail: the negative control has power)."""

from __future__ import annotations

import numpy as np
import pytest
from deeplin.generative_data import instances
from deeplin.generative_data.fields import field_statistics, sparse_student
from deeplin.generative_data.generators import linearised_moments, make_generator, sign_moments
from deeplin.generative_data.integrals import generalisation_error
from deeplin.generative_data.sgd import record_steps, simulate
from scipy.special import erf


def setup(N: int = 16, D: int = 8):
    generator = make_generator("sign", N, D, 2, seed=0)
    omega, phi = sign_moments(generator.weights[0])
    B = instances.teacher(0, "sign", N, D, 2)
    W0 = instances.student(0, "sign", N, 2)
    test = np.random.default_rng(1).standard_normal((500, D))
    return generator, omega, phi, B, W0, test


def test_one_step_is_the_sgd_update_by_hand() -> None:
    import torch

    generator, omega, phi, B, W0, test = setup()
    N, D = generator.width, generator.latent
    seed = 123
    run = simulate(generator, W0, B, 0.5, [0, 1], [seed], omega, phi, test)
    c = torch.randn(1, D, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).numpy()[0]
    x = np.sign(generator.weights[0] @ c)
    lam, nu = W0 @ x / np.sqrt(N), B @ c / np.sqrt(D)
    e = erf(lam / np.sqrt(2)).sum() - erf(nu / np.sqrt(2)).sum()
    W1 = W0 - 0.5 / np.sqrt(N) * (np.sqrt(2 / np.pi) * np.exp(-(lam**2) / 2) * e)[:, None] * x[None, :]
    assert run.Q[0, 1] == pytest.approx(W1 @ omega @ W1.T / N, abs=1e-12)
    assert run.R[0, 1] == pytest.approx(W1 @ phi @ B.T / np.sqrt(N * D), abs=1e-12)
    T = B @ B.T / D
    assert run.error_population[0, 0] == pytest.approx(
        generalisation_error(W0 @ omega @ W0.T / N, W0 @ phi @ B.T / np.sqrt(N * D), T)
    )


def test_streams_are_reproducible_and_independent_of_how_many_run() -> None:
    generator, omega, phi, B, W0, test = setup()
    seeds = instances.stream_seeds(0, "sign", 16, 3)
    assert seeds[:2] == instances.stream_seeds(0, "sign", 16, 2)
    steps = record_steps(16, 2.0, 4)
    three = simulate(generator, W0, B, 0.5, steps, seeds, omega, phi, test)
    two = simulate(generator, W0, B, 0.5, steps, seeds[:2], omega, phi, test)
    assert np.array_equal(three.error_population[:2], two.error_population)
    assert not np.allclose(three.error_population[0, -1], three.error_population[1, -1])
    assert steps[0] == 0 and np.all(np.diff(steps) > 0) and steps[-1] == 32


def test_dense_fields_are_gaussian_and_sparse_ones_are_not() -> None:
    N, D, n = 200, 100, 20_000
    generator = make_generator("sign", N, D, 2, seed=2)
    omega, phi = sign_moments(generator.weights[0])
    omega_lin, _ = linearised_moments(generator)
    rng = np.random.default_rng(3)
    B = rng.standard_normal((2, D))
    students = [("dense", rng.standard_normal(N)), ("sparse_1", sparse_student(rng, N, 1))]
    c = rng.standard_normal((n, D))
    rows, fields = field_statistics(students, generator(c), c, B, omega, omega_lin, phi)
    dense, sparse = rows
    critical = 1.36 / np.sqrt(n)
    assert dense["ks_field"] < 1.5 * critical and dense["ks_residual"] < 1.5 * critical
    assert abs(dense["second_moment"] - dense["Q_exact"]) < 5 * dense["second_moment_se"]
    assert abs(dense["excess_kurtosis"]) < 5 * dense["kurtosis_se"] and dense["cross_moment_max_z"] < 5
    # the negative control: one sign input is ±1, KS ≈ 0.34 and excess kurtosis −2
    assert sparse["ks_field"] > 0.3 and sparse["excess_kurtosis"] == pytest.approx(-2.0, abs=0.01)
    assert fields["dense"].shape == (n,) and sparse["nonzeros"] == 1
