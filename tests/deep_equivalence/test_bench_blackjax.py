"""The BlackJAX peer of `deeplin deep_equivalence bench` samples the posterior deeplin samples (skipped where
the bench extra is not installed)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from deeplin.deep_equivalence.bench import BenchProblem, run_deeplin
from deeplin.deep_equivalence.bench_common import mean_chi2

pytest.importorskip("blackjax", reason="the bench extra (BlackJAX) is not installed")

from deeplin.deep_equivalence.bench_blackjax import log_density, network, run_blackjax  # noqa: E402

# L = 1, d0 = d1 = 4, n = 8: 20 parameters, a posterior both samplers mix over in a few hundred draws
TINY = BenchProblem("tiny", depth=1, width=4, n=8, test_size=16)
RUN = {"chains": 8, "warmup": 200, "samples": 400, "leapfrog_steps": 8, "dtype": "float64"}


@pytest.fixture(scope="module")
def deeplin_run():
    return run_deeplin(TINY, TINY.data(), device="cpu", seed=3, **RUN)[0]


def test_log_density_is_minus_deeplins_potential() -> None:
    import jax
    import torch
    from deeplin.deep_equivalence.deep_model import DeepPosterior

    jax.config.update("jax_enable_x64", True)
    problem = BenchProblem("t", depth=2, width=3, n=5, test_size=4)
    data = problem.data()
    widths = [3, 3, 3]
    posterior = DeepPosterior(data.x_train, data.y_train, widths, "tanh", "linear", problem.noise)
    theta = np.random.default_rng(0).standard_normal((2, posterior.dim))
    expected = posterior.potential(torch.as_tensor(theta)).numpy()
    logdensity = log_density(data.x_train, data.y_train, widths, problem.noise)
    assert np.allclose([-float(logdensity(t)) for t in theta], expected, rtol=1e-12)
    predicted = posterior.pre_readout(torch.as_tensor(theta), torch.as_tensor(data.x_test)).numpy()
    assert np.allclose([np.asarray(network(widths)(t, data.x_test)) for t in theta], predicted, rtol=1e-12)


@pytest.mark.parametrize("variant", [pytest.param("hmc", marks=pytest.mark.slow), "hmc-jitter"])
def test_blackjax_samples_the_posterior_deeplin_samples(deeplin_run, variant: str) -> None:
    data = TINY.data()
    result = run_blackjax(TINY, data, variant=variant, seed=4, **RUN)
    # Two independent estimates of the same posterior means differ by Monte Carlo error only: each term of
    # the χ² mean is ≈ χ²₁, and 16 (correlated) test points keep the mean below 3 but for ~1 % of seeds.
    assert mean_chi2(deeplin_run, result) < 3.0
    # Counting: a fixed or jittered 8 (round(8 · U[0.8, 1.2]) = 6..10) leapfrog steps per draw and chain.
    low, high = (8, 8) if variant == "hmc" else (6, 10)
    assert 8 * 400 * low <= result.sampling_gradients <= 8 * 400 * high
    assert result.compile_seconds > 0 and result.sampling_seconds > 0 and result.peer == f"blackjax-{variant}"
    assert result.metrics["rhat_max"] < 1.05 and 0 < result.row()["ess_bulk"] <= 8 * 400 * 3


def test_the_comparison_sees_a_different_posterior(deeplin_run) -> None:
    # Power: the same check between this posterior and the one of the same data with 4× the noise fails.
    noisier = dataclasses.replace(TINY, noise=4 * TINY.noise)
    (other,) = run_deeplin(noisier, TINY.data(), device="cpu", seed=4, **RUN)
    assert mean_chi2(deeplin_run, other) > 10.0


@pytest.mark.slow
def test_blackjax_nuts_samples_the_posterior_deeplin_samples(deeplin_run) -> None:
    result = run_blackjax(TINY, TINY.data(), variant="nuts", seed=5, **RUN)
    assert mean_chi2(deeplin_run, result) < 3.0
    assert math.isfinite(result.row()["ess_per_1000_grad"])
