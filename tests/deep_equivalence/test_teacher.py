"""Teachers and their data (deeplin.deep_equivalence.teacher): the per-point random streams are pinned, and
the one GLM-data generator draws the equivalent GLM of Camilli et al. (2025) on the inputs it is given.

Tolerances are 4σ of the statistic they bound (a sample variance of n iid Gaussians has relative SD
√(2/(n−1))).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.deep_equivalence.layers import layer_coefficients
from deeplin.deep_equivalence.teacher import glm_data, inputs, make_point, point_seed
from deeplin.seeding import derived_seed
from scipy import special

TANH2 = layer_coefficients("tanh", 2)
ETA0, GAMMA0 = TANH2.eta0, TANH2.gamma0


def test_point_seed_is_the_derived_seed_of_the_points_coordinates() -> None:
    seed = point_seed("tanh-L2", 32, 2.0, 3, "teacher")
    assert seed == derived_seed("tanh-L2", "d0=32", "alpha=2.0", "seed=3", "teacher") == 3547149254513773604
    # coordinates are normalised before hashing: an integral α or a numpy integer is the same point
    assert point_seed("tanh-L2", np.int64(32), 2, np.int64(3), "teacher") == seed
    assert point_seed("tanh-L2", 32, 2.0, 3, "labels") != seed


def test_the_streams_of_a_point_are_pinned() -> None:
    """Values the generator gave before the result moved into its subpackage: a stored point's data can be
    recomputed bit for bit (the entries drawn directly from the streams are compared exactly)."""
    model = {"activation": "tanh", "depth": 2, "readout": "sign", "noise": 0.1, "width_ratios": [1.0, 0.5]}
    point = make_point("tanh-L2", model, 16, 2.0, 3, 50, ETA0, GAMMA0)
    assert point.x_train.shape == (32, 16) and [w.shape for w in point.weights] == [(16, 16), (8, 16)]
    assert point.x_train[0, :3].tolist() == [-0.09451282769441605, 0.31620368361473083, -0.2086600363254547]
    assert point.x_test[0, :2].tolist() == [0.2046438604593277, 0.08774436265230179]
    assert point.weights[1][0, :2].tolist() == [2.370136672263662, -1.6679705290021256]
    assert point.readout_weights[:2].tolist() == [-0.8346865427039893, 0.6002223014704063]
    assert point.glm_v[:2].tolist() == [1.716158628772832, 2.164614261967902]
    assert point.y_train[:8].tolist() == [-1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 1.0]
    assert point.glm_y_train[:8].tolist() == [-1.0, -1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -1.0]


def test_inputs_are_float32_values_of_variance_one_over_d() -> None:
    count, width = 4000, 50
    x = inputs(np.random.default_rng(1), count, width)
    assert x.shape == (count, width) and x.dtype == np.float64
    assert np.array_equal(x.astype(np.float32).astype(np.float64), x)  # what is stored is what was used
    # E‖x‖² = 1; the mean over rows of χ²_d/d has SD √(2/(d·count))
    assert np.mean(np.sum(x * x, axis=1)) == pytest.approx(1.0, abs=4 * math.sqrt(2 / (width * count)))


def _glm(readout: str, noise: float, n: int = 20_000, n_test: int = 2_000, d: int = 50):
    rng = np.random.default_rng(2)
    x_train, x_test = inputs(rng, n, d), inputs(rng, n_test, d)
    return x_train, x_test, glm_data(x_train, x_test, ETA0, GAMMA0, readout, noise, rng)


@pytest.mark.parametrize("readout", ["linear", "tanh"])
def test_glm_data_is_the_equivalent_glm_on_the_given_inputs(readout: str) -> None:
    """h = η0 vᵀx + √γ0 ξ with one v for training and test inputs; Y = f(h) + √Δ Z; clean = f(h)."""
    noise = 0.1
    x_train, x_test, data = _glm(readout, noise)
    f = np.tanh if readout == "tanh" else (lambda h: h)
    assert data.v.shape == (50,) and data.y_train.shape == (20_000,) and data.y_test.shape == (2_000,)
    for x, h, size in ((x_train, data.h_train, 20_000), (x_test, data.h_test, 2_000)):
        xi = h - ETA0 * (x @ data.v)  # √γ0 ξ if the same v made both sets; another v would add ~2η0²
        assert np.var(xi, ddof=1) == pytest.approx(GAMMA0, rel=4 * math.sqrt(2 / (size - 1)))
        assert abs(np.mean(xi)) < 4 * math.sqrt(GAMMA0 / size)
    assert np.var(data.y_train - f(data.h_train), ddof=1) == pytest.approx(
        noise, rel=4 * math.sqrt(2 / 19_999)
    )
    assert np.array_equal(data.clean_test, f(data.h_test))
    assert np.var(data.v, ddof=1) == pytest.approx(1.0, rel=4 * math.sqrt(2 / 49))  # v ~ N(0, I)


def test_glm_data_of_the_sign_readout_puts_the_noise_inside_the_sign() -> None:
    noise = 0.1
    _, _, data = _glm("sign", noise)
    assert set(np.unique(data.y_train)) == {-1.0, 1.0}
    assert np.array_equal(data.clean_test, np.where(data.h_test >= 0, 1.0, -1.0))
    # Y = sign(h + √Δ Z) flips sign(h) with probability Φ(−|h|/√Δ), given h
    flips = data.y_train != np.where(data.h_train >= 0, 1.0, -1.0)
    p = special.ndtr(-np.abs(data.h_train) / math.sqrt(noise))
    assert abs(flips.mean() - p.mean()) < 4 * math.sqrt(np.sum(p * (1 - p))) / len(p)


def test_glm_data_without_test_inputs() -> None:
    """The GAMP tests draw training sets only."""
    rng = np.random.default_rng(3)
    data = glm_data(inputs(rng, 30, 10), inputs(rng, 0, 10), ETA0, GAMMA0, "tanh", 0.1, rng)
    assert data.y_train.shape == (30,) and data.y_test.shape == (0,) and data.clean_test.shape == (0,)
