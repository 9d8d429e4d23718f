"""The GLM twin's mutual information by GAMP I-MMSE (deeplin.deep_equivalence.mi_gamp): the 1-D in-sample
posterior against adaptive quadrature, GAMP against the exact conjugate posterior (linear readout), and the
tanh twin against its state evolution and the replica free entropy (docs/deep_equivalence.md, 'Mutual
information at finite size')."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.deep_equivalence.data import load_point, make_data
from deeplin.deep_equivalence.layers import layer_coefficients
from deeplin.deep_equivalence.mi_gamp import (
    gamp_in_sample_mmse,
    in_sample_moments,
    state_evolution_in_sample_mmse,
    twin_curve,
    twin_training_draw,
)
from deeplin.deep_equivalence.mi_grid import model_ladder
from deeplin.deep_equivalence.mutual_information import coarse_ladder, twin_covariance_eigenvalues, twin_mmse
from deeplin.deep_equivalence.teacher import glm_data
from deeplin.deep_equivalence.theory import theory_curve
from scipy import integrate

COEF = layer_coefficients("tanh", 1)
ETA0, GAMMA0 = COEF.eta0, COEF.gamma0
TANH = {"activation": "tanh", "depth": 1, "readout": "tanh", "noise": 0.1}
LINEAR = {**TANH, "readout": "linear"}
SE_TANH_MMSE = 0.04381104  # state-evolution in-sample mmse, tanh readout, α = 2, Δ = 0.1 (tanh, L = 1)
SE_LINEAR_MMSE = 0.0520704  # the same for the linear readout
RS_TANH_MI = 0.426000  # replica-symmetric I/n of the tanh twin there


def _twin(d0: int, readout: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs x ~ N(0, I/d0) (n = 2 d0) and a GLM teacher h* with its standard normal label noise Z."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2 * d0, d0)) / math.sqrt(d0)
    glm = glm_data(x, x[:1], ETA0, GAMMA0, readout, 0.1, rng)
    u = glm.h_train if readout == "linear" else np.tanh(glm.h_train)
    return x, glm.h_train, (glm.y_train - u) / math.sqrt(0.1)


def test_in_sample_moments_match_adaptive_quadrature():
    # E and Var of f(h) under N(h; c, σ²)·N(y; f(h), 1/s) against scipy's adaptive quad, tanh and identity,
    # including outlying labels (the grid widens) and a sharp likelihood (s = 1e4).
    cases = [(0.3, -0.2, 0.4, 10.0), (1.8, 0.5, 0.3, 10.0), (-0.7, 0.1, 0.2, 1e4), (0.2, 0.0, 0.5, 0.05)]
    for fn in (np.tanh, lambda h: h):
        for y, c, sd, s in [*cases, (8.0, 0.0, 0.3, 10.0)]:
            mean, var = in_sample_moments(fn, np.array([y]), np.array([c]), sd, s)

            def moment(k, fn=fn, y=y, c=c, sd=sd, s=s):
                def dens(h):
                    return fn(h) ** k * math.exp(-0.5 * ((h - c) / sd) ** 2 - 0.5 * s * (y - fn(h)) ** 2)

                return integrate.quad(dens, c - 40 * sd, c + 40 * sd, points=[c, y], limit=400, epsabs=0)[0]

            z0, z1, z2 = moment(0), moment(1), moment(2)
            assert mean[0] == pytest.approx(z1 / z0, rel=1e-9, abs=1e-12)
            assert var[0] == pytest.approx(z2 / z0 - (z1 / z0) ** 2, rel=1e-7, abs=1e-12)


def test_state_evolution_in_sample_mmse_check_values_and_i_mmse_integral():
    # The infinite-size twin: m(1/Δ) at the replica q; for the linear readout also the closed form
    # E Δ/(E + Δ), E = η0²(1 − q) + γ0 (a Gaussian posterior of h with prior variance E). Integrated on the
    # 8-rung ladder it must give the replica free entropy's I/n (an independent route: −f_RS/α − H(Y|v,ξ)/n),
    # to the ladder's accuracy (≤ 1e-6 here; the free entropy's grids are ~1e-10).
    q, m = state_evolution_in_sample_mmse("tanh", ETA0, GAMMA0, 2.0, 10.0)
    assert q == pytest.approx(0.70081012, abs=1e-8) and m == pytest.approx(SE_TANH_MMSE, abs=1e-8)
    q, m = state_evolution_in_sample_mmse("linear", ETA0, GAMMA0, 2.0, 10.0)
    e = ETA0**2 * (1 - q) + GAMMA0
    assert m == pytest.approx(e * 0.1 / (e + 0.1), rel=1e-10) and m == pytest.approx(SE_LINEAR_MMSE, abs=1e-7)
    for model in (TANH, LINEAR):
        ladder = model_ladder(model, 8)
        curve = [
            state_evolution_in_sample_mmse(model["readout"], ETA0, GAMMA0, 2.0, s)[1] for s in ladder.snr
        ]
        _, rows = theory_curve("tanh", 1, model["readout"], 0.1, [2.0])
        assert ladder.integrate(np.array(curve)) == pytest.approx(rows[0]["mutual_information"], abs=1e-6)
    assert rows[0]["mutual_information"] == pytest.approx(0.5500218, abs=1e-7)


def test_linear_gamp_in_sample_mmse_equals_the_exact_conjugate_value():
    # GAMP's 1-D in-sample posteriors against m(s) = tr[C(I + sC)⁻¹]/n on the same X at every rung. With the
    # linear readout GAMP's per-point variance does not depend on y, so the difference is GAMP's scalar-variance
    # approximation of the trace alone. Measured over 6 inputs per size, at the worst rung (s ≈ 1): sd 4.2e-4,
    # 2.4e-4, 9.4e-5 at d0 = 100, 200, 400 (≈ 0.045/d0: exact only as d0 → ∞), means within their SE of 0
    # (at s = 10: sd 3.0e-5 at d0 = 200, 5.7e-6 at d0 = 800). 1e-3 is 4 sd at d0 = 200. Power: GAMP told the
    # noise 1/s = 10 instead of 0.1 at the top rung is off by far more.
    ladder = model_ladder(LINEAR, 8)
    for seed in range(3):
        x, h, z = _twin(200, "linear", seed)
        exact = twin_mmse(twin_covariance_eigenvalues(x, ETA0, GAMMA0), ladder.snr)
        gamp = np.array([r.mmse for r in twin_curve(x, h, z, "linear", ETA0, GAMMA0, ladder.snr)])
        np.testing.assert_allclose(gamp, exact, rtol=0, atol=1e-3)
    exact_top = twin_mmse(twin_covariance_eigenvalues(x, ETA0, GAMMA0), 10.0)[0]
    wrong = gamp_in_sample_mmse(x, h + z / math.sqrt(10.0), "linear", ETA0, GAMMA0, 0.1)  # noise 10, not 0.1
    assert abs(wrong.mmse - exact_top) > 1e-2


def test_tanh_gamp_twin_matches_state_evolution_and_replica_mi():
    # Tanh twin at α = 2, Δ = 0.1, d0 = 200 (n = 400), 6 independent inputs/teachers/noises. Measured over 10
    # draws at d0 = 200: m(1/Δ) sd 8.8e-4, I/n sd 7.3e-3 (the single label draw dominates; quadrature error
    # ≤ 2.4e-5), means 0.043855 and 0.42650, i.e. within 0.2 SE of the state evolution's 0.04381104 and the
    # replica 0.426000. Here: within 4 SE. Power: the likelihood noise read as 2/s (a wrong noise scale) moves
    # the ladder's I/n by ≫ 4 SE.
    ladder = model_ladder(TANH, 8)
    coarse = coarse_ladder(ladder)
    top, mi, mi_wrong, quad = [], [], [], []
    for seed in range(6):
        x, h, z = _twin(200, "tanh", 50 + seed)
        rungs = twin_curve(x, h, z, "tanh", ETA0, GAMMA0, [*ladder.snr, 10.0])
        curve = np.array([r.mmse for r in rungs[:-1]])
        top.append(rungs[-1].mmse)
        mi.append(ladder.integrate(curve))
        coarse_curve = np.array([r.mmse for r in twin_curve(x, h, z, "tanh", ETA0, GAMMA0, coarse.snr)])
        quad.append(abs(mi[-1] - coarse.integrate(coarse_curve)))
        if seed < 3:
            u = np.tanh(h)
            wrong = [
                gamp_in_sample_mmse(x, u + z / math.sqrt(s), "tanh", ETA0, GAMMA0, s / 2).mmse
                for s in ladder.snr
            ]
            mi_wrong.append(ladder.integrate(np.array(wrong)))
    for values, target in ((top, SE_TANH_MMSE), (mi, RS_TANH_MI)):
        se = np.std(values, ddof=1) / math.sqrt(len(values))
        assert abs(np.mean(values) - target) < 4 * se + 1e-4
    assert max(quad) < 1e-4
    se_mi = np.std(mi, ddof=1) / math.sqrt(len(mi))
    assert abs(np.mean(mi_wrong) - RS_TANH_MI) > 4 * se_mi


def test_twin_training_draw_reproduces_the_stored_glm_labels(tmp_path):
    make_data("tanh-L1-tanhout", {**TANH, "width_ratios": [1.0]}, 10, 2.0, 0, 30, str(tmp_path / "data.npz"))
    data, meta = load_point(tmp_path / "data.npz")
    h, z = twin_training_draw(data, meta)
    np.testing.assert_allclose(np.tanh(h) + math.sqrt(0.1) * z, data.glm_y_train, rtol=0, atol=1e-12)
    assert 0.4 < z.std() < 2.0 and not np.allclose(h, 0)
    with pytest.raises(ValueError, match="could not be re-drawn"):
        twin_training_draw(data, {**meta, "seed": 1})
