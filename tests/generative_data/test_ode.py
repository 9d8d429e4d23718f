"""The spectral ODEs: the flat spectrum against the classic Saad–Solla equations and their check values, the
deterministic mini generator's check values (DOP853 and Euler), and the right-hand side against a Monte Carlo
average of the SGD update at a fixed state on Gaussian data (where the closure is exact)."""

from __future__ import annotations

import numpy as np
import pytest
from deeplin.generative_data.generators import conditional_root, sign_moments
from deeplin.generative_data.integrals import covariance, generalisation_error, i3, i4
from deeplin.generative_data.ode import (
    Modes,
    coefficients,
    initial_state,
    integrate,
    modes_from_moments,
    overlaps,
    rhs,
)
from scipy.integrate import solve_ivp
from scipy.special import erf

ETA = 0.5
Q0 = np.array([[1.0, 0.1], [0.1, 0.8]])
R0 = np.array([[0.1, 0.0], [0.05, 0.05]])
SAAD_SOLLA_TIMES = [0.0, 1.0, 10.0, 50.0, 200.0]
SAAD_SOLLA_ERRORS = [0.6147662907, 0.3806232719, 0.0246451764, 0.0161371374, 0.0005601969]


def flat_modes(width: int = 40) -> tuple[Modes, np.ndarray, np.ndarray]:
    """ρ ≡ 1, δ = 1, Φ = I, and W, B (rows) whose Gram matrix over N is [[Q0, R0], [R0ᵀ, I]]."""
    gram = np.block([[Q0, R0], [R0.T, np.eye(2)]])
    basis, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((width, 4)))
    rows = np.linalg.cholesky(gram) @ basis.T * np.sqrt(width)
    W, B = rows[:2], rows[2:]
    modes, U = modes_from_moments(np.eye(width), np.eye(width), B)
    q0, r0 = initial_state(W, U, modes)
    return modes, q0, r0


def saad_solla(times, rtol: float = 1e-11) -> np.ndarray:
    """The classic two-layer ODEs in Q and R (Saad & Solla 1995, eqs. (8)–(9); v = A = 1, T = I), coded here
    from the integrals only, as an independent reference."""
    K = M = 2
    T = np.eye(M)

    def f(_t, y):
        Q, R = y[:4].reshape(2, 2), y[4:].reshape(2, 2)
        C = covariance(Q, R, T)
        dR, dQ = np.zeros((K, M)), np.zeros((K, K))
        for k in range(K):
            for n in range(M):
                dR[k, n] = ETA * (
                    sum(i3(C, k, K + n, K + m) for m in range(M)) - sum(i3(C, k, K + n, j) for j in range(K))
                )
            for j in range(K):
                drift = sum(i3(C, k, j, K + m) for m in range(M)) - sum(i3(C, k, j, a) for a in range(K))
                dQ[k, j] += ETA * drift
                dQ[j, k] += ETA * drift
                s = [1, 1, -1, -1]
                dQ[k, j] += ETA**2 * sum(s[c] * s[d] * i4(C, k, j, c, d) for c in range(4) for d in range(4))
        return np.concatenate([dQ.ravel(), dR.ravel()])

    y = solve_ivp(
        f,
        (0, max(times)),
        np.concatenate([Q0.ravel(), R0.ravel()]),
        "DOP853",
        t_eval=times,
        rtol=rtol,
        atol=1e-13,
    ).y
    return np.array([generalisation_error(c[:4].reshape(2, 2), c[4:].reshape(2, 2), T) for c in y.T])


def test_flat_spectrum_reproduces_saad_solla() -> None:
    modes, q0, r0 = flat_modes()
    Q, R = overlaps(q0, r0, modes)
    assert np.allclose(Q, Q0) and np.allclose(R, R0) and np.allclose(modes.T, np.eye(2))
    path = integrate(modes, q0, r0, SAAD_SOLLA_TIMES, ETA, rtol=1e-10, atol=1e-12)
    # both sides are converged to ~1e-10; the check values carry 10 digits
    assert path.error == pytest.approx(SAAD_SOLLA_ERRORS, abs=1e-8)


@pytest.mark.slow
def test_the_independent_saad_solla_code_agrees_with_the_check_values() -> None:
    assert saad_solla(SAAD_SOLLA_TIMES[:3]) == pytest.approx(SAAD_SOLLA_ERRORS[:3], abs=1e-8)


def test_euler_matches_the_stated_step_error() -> None:
    """Euler at dt = 1e-2 is off by ~4e-4 at t = 1, and dt = 1e-3 by ~4e-5 (first order in dt)."""
    modes, q0, r0 = flat_modes()
    coarse = integrate(modes, q0, r0, [1.0], ETA, method="euler", euler_step=1e-2).error[0]
    fine = integrate(modes, q0, r0, [1.0], ETA, method="euler", euler_step=1e-3).error[0]
    assert abs(coarse - SAAD_SOLLA_ERRORS[1]) == pytest.approx(4e-4, rel=0.3)
    assert abs(fine - SAAD_SOLLA_ERRORS[1]) == pytest.approx(4e-5, rel=0.3)


def mini_generator():
    """The deterministic N = 8, D = 4 generator, teacher and student of the check values."""
    i, j = np.arange(8)[:, None], np.arange(4)[None, :]
    F = np.cos(1.3 * (i + 1) * (j + 1))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    B = np.sin(0.9 * (np.arange(2)[:, None] + 1) * (np.arange(4)[None, :] + 1) + 0.2)
    W0 = np.cos(0.5 * (np.arange(2)[:, None] + 1) * (np.arange(8)[None, :] + 1) + 0.1)
    return F, B, W0


def test_mini_generator_check_values() -> None:
    F, B, W0 = mini_generator()
    omega, phi = sign_moments(F)
    assert np.linalg.eigvalsh(omega - phi @ phi.T).min() == pytest.approx(0.20815, abs=1e-5)
    modes, U = modes_from_moments(omega, phi, B)
    q0, r0 = initial_state(W0, U, modes)
    Q, _ = overlaps(q0, r0, modes)
    assert Q == pytest.approx(np.array([[0.2082242, -0.1484248], [-0.1484248, 0.7359877]]), abs=1e-7)
    times = [0.0, 1.0, 5.0, 20.0, 100.0]
    exact = [0.2136217814, 0.1617092916, 0.0904275083, 0.0755713969, 0.0736313779]
    assert integrate(modes, q0, r0, times, ETA, rtol=1e-11, atol=1e-13).error == pytest.approx(
        exact, abs=1e-9
    )
    euler = integrate(modes, q0, r0, times[1:], ETA, method="euler", euler_step=0.01).error
    assert euler == pytest.approx([0.16159851, 0.09036779, 0.07556951, 0.07363126], abs=1e-8)
    # power: the same ODE with δ forgotten (δ = 1) is visibly different
    wrong = Modes(modes.rho, modes.beta, 1.0, modes.T)
    assert abs(integrate(wrong, q0, r0, [5.0], ETA).error[0] - exact[2]) > 1e-3


def test_rhs_matches_a_monte_carlo_average_of_the_sgd_update() -> None:
    """On Gaussian data x = Φc + S^{1/2}z the fields are exactly Gaussian, so the expected SGD step,
    −η√N E[v_k g′(λ_k) e x] per unit time, must equal the ODE's drift Σ_τ u_τ dω_kτ/dt (here via dr/dt = (dω/dt)β
    and dq/dt's drift part), and E[g′_k g′_l e²] must equal J."""
    rng = np.random.default_rng(7)
    N, D, K, M = 12, 6, 2, 2
    F = rng.standard_normal((N, D))
    F /= np.linalg.norm(F, axis=1, keepdims=True)
    omega, phi = sign_moments(F)
    root = conditional_root(omega, phi)
    B, W = rng.standard_normal((M, D)), 0.8 * rng.standard_normal((K, N))
    modes, U = modes_from_moments(omega, phi, B)
    q, r = initial_state(W, U, modes)
    dq, dr = rhs(q, r, modes, np.ones(K), np.ones(M), ETA)
    Q, R = overlaps(q, r, modes)
    _, _, J = coefficients(Q, R, modes.T, np.ones(K), np.ones(M), ETA)
    n, sums, squares, jsum = 0, np.zeros((K, N)), np.zeros((K, N)), np.zeros((K, K))
    for _ in range(10):
        c = rng.standard_normal((100_000, D))
        x = c @ phi.T + rng.standard_normal((100_000, N)) @ root
        lam, nu = x @ W.T / np.sqrt(N), c @ B.T / np.sqrt(D)
        e = erf(lam / np.sqrt(2)).sum(1) - erf(nu / np.sqrt(2)).sum(1)
        gp = np.sqrt(2 / np.pi) * np.exp(-0.5 * lam**2)
        step = -ETA * np.sqrt(N) * (gp * e[:, None])[:, :, None] * x[:, None, :]
        sums += step.sum(0)
        squares += (step**2).sum(0)
        jsum += np.einsum("sk,sl,s->kl", gp, gp, e**2)
        n += c.shape[0]
    drift, se = sums / n, np.sqrt((squares / n - (sums / n) ** 2) / n)
    omega_drift = drift @ U  # dω_kτ/dt
    omega_se = np.sqrt(se**2 @ U**2)  # independent-component bound on the SE of each projection
    expected_dr = omega_drift[:, None, :] * modes.beta[None, :, :]
    dr_se = omega_se[:, None, :] * np.abs(modes.beta[None, :, :])
    # 10⁶ samples: every component within 5 SE (a wrong coefficient is off by O(1) SE multiples)
    assert np.all(np.abs(dr - expected_dr) <= 5 * dr_se + 1e-12)
    w = W @ U
    drift_q = omega_drift[:, None, :] * w[None, :, :] + w[:, None, :] * omega_drift[None, :, :]
    noise = ETA**2 * modes.rho * J[:, :, None]
    assert np.all(
        np.abs(dq - noise - drift_q)
        <= 5 * (omega_se[:, None, :] * np.abs(w[None]) + np.abs(w[:, None]) * omega_se[None, :, :]) + 1e-12
    )
    assert jsum / n == pytest.approx(J, rel=0.01)  # a few thousandths of relative MC error
    # power: the drift is far from zero in units of its SE, so the test can see a wrong sign or scale
    assert np.max(np.abs(expected_dr) / dr_se) > 15
