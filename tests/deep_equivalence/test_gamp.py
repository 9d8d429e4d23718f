"""Bayes-optimal GAMP and its state evolution on the finite-size GLM twin (docs/deep_equivalence.md,
'GLM twin').

Finite-size tolerances. At a state-evolution iterate q_t (q̂ = q/(1−q)), GAMP's estimate decouples into
the scalar channel v̂ = (q̂ v + √q̂ w)/(1+q̂), w ⟂ v iid N(0,1) (Bayesian decoupling, Rangan 2011 Thm. 2).
For one draw at dimension d this gives
- overlap: v̂·v/d − q = q(‖v‖²/d − 1) + √q̂/(1+q̂) w·v/d. The first term is the teacher's norm, whose mean
  is known, so we test the control variate O = v̂·v/d − q(‖v‖²/d − 1), of std √(q(1−q)/d);
- Nishimori: v̂·v̂/d − v̂·v/d = [q̂(‖w‖² − ‖v‖²) + √q̂(q̂ − 1) v·w]/((1+q̂)² d): mean 0,
  std √(4q̂² + q̂(q̂−1)²)/((1+q̂)²√d);
- test error: Var = Var(loss)/n_test + 2(1−q)² err′(q)²/d (the realised ‖v − v̂‖²/d has std √2(1−q)/√d).
The scalar channel ignores the spread of XᵀX's spectrum; over 30 seeds at d = 1000 the observed std of O
was up to 1.5× the formula at α = 0.5 (0.7–0.9× at α = 2) and ≤ 1.07× for the other two, so the overlap
σ carries that factor (OVERLAP_INFLATION). Every check averages S seeds (σ/√S) and allows K = 4σ. Finite-d
biases are O(1/d), far below these. ``test_checks_have_power`` shows the same checks reject wrong theories.

The data come from the pipeline's own generator (teacher.inputs, teacher.glm_data), whose inputs are rounded
to float32 as stored: a relative change of at most 2⁻²⁴ per entry, far below the 1/√d scale of every σ above,
so the tolerances are those of the exact Gaussian model.
"""

from __future__ import annotations

import functools
import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
import pytest
from deeplin.deep_equivalence.gamp import (
    LinearOutput,
    ProbitOutput,
    gamp,
    make_output,
    predict,
    state_evolution,
    state_evolution_for,
)
from deeplin.deep_equivalence.glm_channels import make_channel
from deeplin.deep_equivalence.glm_solver import FixedPoint, solve_curve
from deeplin.deep_equivalence.layers import layer_coefficients
from deeplin.deep_equivalence.teacher import GLMData, glm_data, inputs
from scipy import integrate, special

TANH2 = layer_coefficients("tanh", 2)
ETA0, GAMMA0 = TANH2.eta0, TANH2.gamma0
CASES = [("linear", 0.1), ("tanh", 0.1), ("tanh", 0.01), ("sign", 0.1)]
ALPHAS = (0.5, 2.0)
K = 4.0  # tolerance in units of the finite-size σ
OVERLAP_INFLATION = 1.5  # measured worst ratio of observed to scalar-channel overlap std (module docstring)
TRAJECTORY_STEPS = 5
N_TEST = 5000
FAST = {"d": 1000, "seeds": 2}
SLOW = {"d": 2000, "seeds": 4}


# ------------------------------------------------------------------------------------------------
# Shared theory and simulations (cached: every check below reuses the same runs)
# ------------------------------------------------------------------------------------------------


def glm_sample(
    n: int, d: int, readout: str, delta: float, rng: np.random.Generator, n_test: int = 0
) -> tuple[np.ndarray, np.ndarray, GLMData]:
    """(x_train, x_test, GLM data) from the pipeline's own generator: n training and n_test test inputs
    x ~ N(0, I/d) (teacher.inputs), then teacher.glm_data's v ~ N(0, I) and labels on both."""
    x_train, x_test = inputs(rng, n, d), inputs(rng, n_test, d)
    return x_train, x_test, glm_data(x_train, x_test, ETA0, GAMMA0, readout, delta, rng)


@functools.cache
def channel(readout: str, delta: float):
    return make_channel(readout, ETA0, GAMMA0, delta)


@functools.cache
def fixed_points(readout: str, delta: float) -> dict[float, FixedPoint]:
    """glm_solver's replica-symmetric fixed points at every α of ALPHAS (one shared root scan)."""
    return dict(zip(ALPHAS, solve_curve(channel(readout, delta), ALPHAS), strict=True))


@functools.cache
def theory(readout: str, delta: float, alpha: float) -> tuple[FixedPoint, np.ndarray, float]:
    """Replica fixed point, state-evolution trajectory, and d(error)/dq at the fixed point."""
    ch = channel(readout, delta)
    fixed_point = fixed_points(readout, delta)[alpha]
    se = state_evolution(ch, alpha)
    assert se.converged
    which = 1 if readout == "sign" else 0  # sign: the Bayes classifier's mistake rate on noisy labels
    step = 1e-4
    slope = (ch.errors(fixed_point.q + step)[which] - ch.errors(fixed_point.q - step)[which]) / (2 * step)
    return fixed_point, se.q, slope


@dataclass(frozen=True)
class Run:
    """What one GAMP run on one seed measured."""

    overlap: float
    q_emp: float
    norm: float  # ‖v‖²/d
    overlap_trajectory: np.ndarray
    loss_mean: float
    loss_var: float
    expected_error: float  # teacher-free Nishimori estimate of the same error
    variance: float
    iterations: int
    converged: bool
    seconds: float


@functools.cache
def runs(readout: str, delta: float, alpha: float, d: int, seeds: int) -> tuple[Run, ...]:
    """Undamped GAMP on ``seeds`` independent draws, with a fresh test set of N_TEST samples each."""
    out = []
    for seed in range(seeds):
        rng = np.random.default_rng([sum(map(ord, readout)), int(1000 * delta), int(10 * alpha), d, seed])
        x_train, x_test, data = glm_sample(int(alpha * d), d, readout, delta, rng, n_test=N_TEST)
        start = time.perf_counter()
        result = gamp(x_train, data.y_train, readout, ETA0, GAMMA0, delta, v_true=data.v)
        seconds = time.perf_counter() - start
        prediction = result.predict(x_test)
        if readout == "sign":
            loss = (prediction.label != data.y_test).astype(float)
        else:
            loss = (prediction.mean - data.clean_test) ** 2
        out.append(
            Run(
                overlap=result.overlap,
                q_emp=result.q_hat_emp,
                norm=float(data.v @ data.v) / d,
                overlap_trajectory=result.overlap_trajectory,
                loss_mean=float(loss.mean()),
                loss_var=float(loss.var()),
                expected_error=prediction.expected_error(),
                variance=result.variance,
                iterations=result.iterations,
                converged=result.converged,
                seconds=seconds,
            )
        )
    return tuple(out)


def overlap_check(rs: tuple[Run, ...], q: float, d: int, t: int | None = None) -> tuple[float, float]:
    """(mean control-variate overlap − q, σ of that mean) at iterate t (None: converged)."""
    values = [(r.overlap if t is None else r.overlap_trajectory[t]) - q * (r.norm - 1.0) for r in rs]
    sigma = OVERLAP_INFLATION * math.sqrt(q * (1.0 - q) / d)
    return float(np.mean(values)) - q, sigma / math.sqrt(len(rs))


def error_check(
    rs: tuple[Run, ...], fp: FixedPoint, slope: float, readout: str, d: int
) -> tuple[float, float]:
    """(mean test error − theory, σ of that mean)."""
    target = fp.error_noisy if readout == "sign" else fp.error
    var = np.mean([r.loss_var for r in rs]) / N_TEST + 2.0 * ((1.0 - fp.q) * slope) ** 2 / d
    return float(np.mean([r.loss_mean for r in rs])) - target, math.sqrt(var / len(rs))


def nishimori_sigma(q: float, d: int, seeds: int) -> float:
    q_hat = q / (1.0 - q)
    return math.sqrt(4 * q_hat**2 + q_hat * (q_hat - 1) ** 2) / ((1 + q_hat) ** 2 * math.sqrt(d * seeds))


def _all_checks(readout: str, delta: float, alpha: float, d: int, seeds: int) -> None:
    fp, se_q, slope = theory(readout, delta, alpha)
    rs = runs(readout, delta, alpha, d, seeds)
    assert all(r.converged for r in rs), [r.iterations for r in rs]
    # (1) converged overlap vs the replica fixed point
    diff, sigma = overlap_check(rs, fp.q, d)
    assert abs(diff) < K * sigma, f"overlap − q = {diff:.4f}, σ = {sigma:.4f} (q = {fp.q:.4f})"
    # (2) the undamped trajectory tracks state evolution step by step
    for t in range(1, TRAJECTORY_STEPS + 1):
        diff, sigma = overlap_check(rs, se_q[t], d, t)
        assert abs(diff) < K * sigma, f"t={t}: overlap − q_t = {diff:.4f}, σ = {sigma:.4f}"
    # (3) Nishimori: v̂·v ≈ v̂·v̂
    diff = float(np.mean([r.q_emp - r.overlap for r in rs]))
    sigma = nishimori_sigma(fp.q, d, seeds)
    assert abs(diff) < K * sigma, f"v̂·v̂/d − v̂·v/d = {diff:.4f}, σ = {sigma:.4f}"
    # (4) test error of the Bayes-optimal prediction vs the replica error
    diff, sigma = error_check(rs, fp, slope, readout, d)
    assert abs(diff) < K * sigma, f"test error − theory = {diff:.4f}, σ = {sigma:.4f}"


# ------------------------------------------------------------------------------------------------
# GAMP vs theory on the GLM twin
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("readout,delta", CASES)
def test_gamp_matches_state_evolution_and_replica_theory(readout: str, delta: float, alpha: float) -> None:
    _all_checks(readout, delta, alpha, FAST["d"], FAST["seeds"])


@pytest.mark.slow
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("readout,delta", CASES)
def test_gamp_matches_theory_at_larger_size(readout: str, delta: float, alpha: float) -> None:
    _all_checks(readout, delta, alpha, SLOW["d"], SLOW["seeds"])


def test_checks_have_power() -> None:
    """The same statistics reject a wrong theory and a mismatched (non-Bayes-optimal) estimator."""
    d, seeds = FAST["d"], FAST["seeds"]
    # Δ = 0.01 data against the Δ = 0.1 fixed point (q 0.385 vs 0.245).
    wrong, _, _ = theory("tanh", 0.1, 0.5)
    diff, sigma = overlap_check(runs("tanh", 0.01, 0.5, d, seeds), wrong.q, d)
    assert abs(diff) > 2 * K * sigma
    # GAMP that assumes 10× the label noise is not Bayes-optimal: it over-shrinks, so v̂·v̂ < v̂·v.
    rng = np.random.default_rng(7)
    x, _, data = glm_sample(2 * d, d, "linear", 0.1, rng)
    result = gamp(x, data.y_train, "linear", ETA0, GAMMA0, 1.0, v_true=data.v)
    assert result.overlap - result.q_hat_emp > 2 * K * nishimori_sigma(result.overlap, d, 1)


def test_gamp_own_variance_and_error_estimate_track_theory() -> None:
    """1 − c̄ (GAMP's own overlap estimate) concentrates on q: it is α·mean(−∂g_out), an average over n
    samples, not a projection on the teacher (observed spread ≤ 0.16 √(q(1−q)/d) over 30 seeds). The
    teacher-free Nishimori estimate of the test error (docs/deep_equivalence.md) matches the measured error."""
    d, seeds = FAST["d"], FAST["seeds"]
    for readout, delta in CASES:
        if (readout, delta) == ("tanh", 0.01):
            continue  # same mechanism; skipped only to keep this file fast
        for alpha in ALPHAS:
            fp, _, slope = theory(readout, delta, alpha)
            for r in runs(readout, delta, alpha, d, seeds):
                assert 1 - r.variance == pytest.approx(fp.q, abs=math.sqrt(fp.q * (1 - fp.q) / d))
                sigma = math.sqrt(r.loss_var / N_TEST + 2.0 * ((1.0 - fp.q) * slope) ** 2 / d)
                assert r.expected_error == pytest.approx(r.loss_mean, abs=K * sigma)


# ------------------------------------------------------------------------------------------------
# Linear readout: GAMP's fixed point is the exact Gaussian posterior mean
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", ALPHAS)
def test_linear_gamp_is_the_exact_posterior_mean(alpha: float) -> None:
    # y = η0 X v + noise of variance D = γ0 + Δ, v ~ N(0, I) ⇒ posterior precision I + (η0²/D) XᵀX and
    # mean (η0/D)(I + (η0²/D) XᵀX)⁻¹ Xᵀ y, i.e. ridge with λ = D/η0² on (X, y/η0) (the conjugate twin).
    d, delta = 1000, 0.1
    rng = np.random.default_rng(11)
    x, _, data = glm_sample(int(alpha * d), d, "linear", delta, rng)
    noise = GAMMA0 + delta
    gram = x.T @ x
    precision = np.eye(d) + (ETA0**2 / noise) * gram
    exact_mean = np.linalg.solve(precision, (ETA0 / noise) * (x.T @ data.y_train))
    # the same as ridge (XᵀX + λI)⁻¹ Xᵀ(y/η0) with λ = D/η0²
    ridge = np.linalg.solve(gram + (noise / ETA0**2) * np.eye(d), x.T @ data.y_train / ETA0)
    assert np.max(np.abs(ridge - exact_mean)) < 1e-10
    result = gamp(x, data.y_train, "linear", ETA0, GAMMA0, delta, tol=1e-11)
    assert result.converged
    assert np.max(np.abs(result.v_hat - exact_mean)) < 1e-6
    # The scalar variance is the Marchenko–Pastur limit of tr(precision⁻¹)/d: equal up to O(1/d).
    exact_variance = float(np.mean(1.0 / np.linalg.eigvalsh(precision)))
    assert result.variance == pytest.approx(exact_variance, abs=1.0 / d)


def test_damping_keeps_the_fixed_point_and_caps_are_reported() -> None:
    rng = np.random.default_rng(5)
    d = 400
    for readout in ("linear", "sign", "tanh"):
        x, _, data = glm_sample(2 * d, d, readout, 0.1, rng)
        plain = gamp(x, data.y_train, readout, ETA0, GAMMA0, 0.1, tol=1e-10)
        damped = gamp(x, data.y_train, readout, ETA0, GAMMA0, 0.1, tol=1e-10, damping=0.5)
        assert plain.converged and damped.converged and damped.iterations > plain.iterations
        assert np.max(np.abs(plain.v_hat - damped.v_hat)) < 1e-7
    capped = gamp(x, data.y_train, "tanh", ETA0, GAMMA0, 0.1, max_iterations=3)
    assert not capped.converged and capped.iterations == 3 and capped.last_change > 1e-3
    assert len(capped.trajectory) == 4 and capped.trajectory[0] == 0.0
    with pytest.raises(RuntimeError, match="did not converge"):
        gamp(x, data.y_train, "tanh", ETA0, GAMMA0, 0.1, max_iterations=3, raise_on_failure=True)
    with pytest.raises(ValueError, match="damping"):
        gamp(x, data.y_train, "tanh", ETA0, GAMMA0, 0.1, damping=0.0)


# ------------------------------------------------------------------------------------------------
# Output denoisers and predictors against independent adaptive quadrature of their definitions
# ------------------------------------------------------------------------------------------------


def _likelihood(readout: str, delta: float):
    """P(y | h) of the GLM twin (Gaussian or, for sign, probit with the noise inside)."""
    if readout == "sign":
        return lambda y, h: special.ndtr(y * h / math.sqrt(delta))
    f = np.tanh if readout == "tanh" else (lambda h: h)
    return lambda y, h: math.exp(-((y - f(h)) ** 2) / (2 * delta)) / math.sqrt(2 * math.pi * delta)


def _log_z_out(readout: str, delta: float, y: float, omega: float, V: float) -> float:
    """log ∫ dh N(h; η0 ω, η0² V + γ0) P(y | h) by adaptive quadrature (the definition of Z_out)."""
    s = math.sqrt(ETA0**2 * V + GAMMA0)
    like = _likelihood(readout, delta)

    def integrand(t: float) -> float:
        return math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi) * like(y, ETA0 * omega + s * t)

    breaks = [-12.0, -3.0, 0.0, 3.0, 12.0]
    if readout == "tanh" and abs(y) < 1:  # the narrow likelihood peak sits at h = atanh(y)
        breaks.append(float(np.clip((math.atanh(y) - ETA0 * omega) / s, -12, 12)))
    breaks = sorted(set(breaks))
    total = sum(
        integrate.quad(integrand, a, b, epsabs=0, epsrel=1e-13, limit=400)[0]
        for a, b in itertools.pairwise(breaks)
    )
    return math.log(total)


@pytest.mark.parametrize("readout,delta", [("linear", 0.1), ("tanh", 0.1), ("tanh", 0.01), ("sign", 0.1)])
def test_denoiser_is_the_derivative_of_log_z_out(readout: str, delta: float) -> None:
    rng = np.random.default_rng(3)
    output = make_output(readout, ETA0, GAMMA0, delta)
    for V in (1.0, 0.2):
        y = glm_sample(6, 50, readout, delta, rng)[2].y_train
        omega = math.sqrt(1 - V) * rng.standard_normal(6)
        g, dg = output.denoise(y, omega, V)
        for mu in range(6):

            def log_z(w: float, mu: int = mu, y: np.ndarray = y, V: float = V) -> float:
                return _log_z_out(readout, delta, float(y[mu]), w, V)

            eps = 1e-3
            values = [log_z(omega[mu] + k * eps) for k in (-2, -1, 0, 1, 2)]
            # five-point stencils: truncation O(eps⁴), round-off ~1e-13/eps²
            first = (values[0] - 8 * values[1] + 8 * values[3] - values[4]) / (12 * eps)
            second = (-values[0] + 16 * values[1] - 30 * values[2] + 16 * values[3] - values[4]) / (
                12 * eps**2
            )
            assert g[mu] == pytest.approx(first, rel=1e-7, abs=1e-8)
            assert dg[mu] == pytest.approx(second, rel=1e-5, abs=1e-6)


def test_quadrature_channel_reproduces_closed_form_and_is_resolved() -> None:
    rng = np.random.default_rng(4)
    for delta in (0.1, 0.01, 0.001):
        for V in (1.0, 0.3, 0.02):
            omega = math.sqrt(1 - V) * rng.standard_normal(2000)
            lin = glm_sample(2000, 100, "linear", delta, rng)[2].y_train
            exact = LinearOutput(ETA0, GAMMA0, delta).denoise(lin, omega, V)
            numeric = make_output("linear", ETA0, GAMMA0, delta, quadrature=True).denoise(lin, omega, V)
            for a, b in zip(exact, numeric, strict=True):
                assert np.max(np.abs(a - b)) < 1e-11
            th = glm_sample(2000, 100, "tanh", delta, rng)[2].y_train
            coarse = make_output("tanh", ETA0, GAMMA0, delta).denoise(th, omega, V)
            fine = make_output("tanh", ETA0, GAMMA0, delta, resolution=8.0).denoise(th, omega, V)
            for a, b in zip(coarse, fine, strict=True):
                assert np.max(np.abs(a - b)) < 1e-11


def test_quadrature_channel_widens_its_grid_for_outlying_labels() -> None:
    # A label far outside tanh's range pushes the posterior of h into the prior's tail.
    output = make_output("tanh", ETA0, GAMMA0, 0.01, half_width=4.0)
    y, omega, V = np.array([3.0, 0.1]), np.array([-1.0, 0.0]), 0.5
    g, dg = output.denoise(y, omega, V)
    reference = make_output("tanh", ETA0, GAMMA0, 0.01, half_width=40.0).denoise(y, omega, V)
    np.testing.assert_allclose(g, reference[0], rtol=1e-10)
    np.testing.assert_allclose(dg, reference[1], rtol=1e-8)


def test_predictors_match_their_integrals() -> None:
    rng = np.random.default_rng(9)
    omega, V = rng.standard_normal(5) * 0.7, rng.uniform(0.05, 1.0, 5)
    s = np.sqrt(ETA0**2 * V + GAMMA0)
    tanh_pred = make_output("tanh", ETA0, GAMMA0, 0.1).predict(omega, V)
    for k in range(5):
        # E f(η0 ω + s t), t ~ N(0,1) (the RS predictor) by adaptive quadrature
        def moment(power: int, k: int = k) -> float:
            return integrate.quad(
                lambda t: (
                    np.tanh(ETA0 * omega[k] + s[k] * t) ** power
                    * math.exp(-t * t / 2)
                    / math.sqrt(2 * math.pi)
                ),
                -np.inf,
                np.inf,
                epsabs=1e-14,
                epsrel=1e-13,
            )[0]

        assert tanh_pred.mean[k] == pytest.approx(moment(1), abs=1e-12)
        assert tanh_pred.variance[k] == pytest.approx(moment(2) - moment(1) ** 2, abs=1e-12)
    lin = LinearOutput(ETA0, GAMMA0, 0.1).predict(omega, V)
    np.testing.assert_allclose(lin.mean, ETA0 * omega)
    sign = ProbitOutput(ETA0, GAMMA0, 0.1).predict(omega, V)
    for k in range(5):
        # P(Y = +1 | ω, V) = ∫ dh N(h; η0 ω, s²) Φ(h/√Δ)
        p = integrate.quad(
            lambda h, k=k: (
                special.ndtr(h / math.sqrt(0.1))
                * math.exp(-0.5 * ((h - ETA0 * omega[k]) / s[k]) ** 2)
                / (math.sqrt(2 * math.pi) * s[k])
            ),
            -np.inf,
            np.inf,
            epsabs=1e-14,
        )[0]
        assert sign.probability[k] == pytest.approx(p, abs=1e-10)
        assert sign.label[k] == np.sign(omega[k])
    # predict() uses V = ‖x‖² c̄
    X_test = rng.standard_normal((5, 20)) / math.sqrt(20)
    v_hat = rng.standard_normal(20)
    direct = predict(LinearOutput(ETA0, GAMMA0, 0.1), X_test, v_hat, 0.3)
    np.testing.assert_allclose(direct.variance, ETA0**2 * 0.3 * np.sum(X_test**2, axis=1) + GAMMA0)


# ------------------------------------------------------------------------------------------------
# State evolution
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("readout,delta", CASES)
def test_state_evolution_converges_to_the_replica_fixed_point(readout: str, delta: float) -> None:
    for alpha in ALPHAS:
        fp, se_q, _ = theory(readout, delta, alpha)
        assert se_q[0] == 0.0 and np.all(np.diff(se_q) > 0)  # monotone from the prior, as GAMP starts
        assert se_q[-1] == pytest.approx(fp.q, abs=1e-10)


def test_state_evolution_linear_closed_form_and_convenience() -> None:
    alpha, delta = 2.0, 0.1
    se = state_evolution_for("linear", ETA0, GAMMA0, delta, alpha)
    q_exact = make_channel("linear", ETA0, GAMMA0, delta).exact_q(alpha)
    assert se.converged and se.q[-1] == pytest.approx(q_exact, abs=1e-11)
    # one step by hand: q̂ = α η0²/(η0²(1−q) + D)
    q_hat = alpha * ETA0**2 / (ETA0**2 + GAMMA0 + delta)
    assert se.q[1] == pytest.approx(q_hat / (1 + q_hat), abs=1e-15)
    assert se.q_hat[0] == pytest.approx(q_hat, abs=1e-15)
    short = state_evolution_for("linear", ETA0, GAMMA0, delta, alpha, max_iterations=2)
    assert not short.converged and len(short.q) == 3
