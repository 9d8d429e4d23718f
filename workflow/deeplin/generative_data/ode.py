"""The closed ODEs of online SGD on generator data, over the eigen-modes of the input covariance Ω.

Goldt et al. 2020 (arXiv 2006.14709, §3 and appendix B, eqs. (14)–(16)): with Ω = Σ_τ ρ_τ u_τ u_τᵀ, the
per-mode overlaps q_kl(τ) = ω_kτ ω_lτ, r_km(τ) = ω_kτ β_mτ (ω_kτ = w_k·u_τ, β_mτ = u_τ·ΦB_mᵀ) evolve under
deterministic equations whose coefficients depend on time only through Q = Σ_τ ρ_τ q(τ)/N,
R = Σ_τ r(τ)/(N√δ) and T = BBᵀ/D. The right-hand side is vectorised over modes (arrays of shape (K, K, N))
and its Gaussian integrals over index tuples (one I3 and one I4 tensor per evaluation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .integrals import covariance, generalisation_error, i3_students, i4_students

METHODS = ("DOP853", "RK45", "euler")


@dataclass(frozen=True)
class Modes:
    """The spectrum the ODE runs on: eigenvalues ρ_τ (N,), teacher projections β (M, N), δ = D/N, T."""

    rho: np.ndarray
    beta: np.ndarray
    delta: float
    T: np.ndarray

    @property
    def width(self) -> int:
        return self.rho.shape[0]


def modes_from_moments(omega: np.ndarray, phi: np.ndarray, B: np.ndarray) -> tuple[Modes, np.ndarray]:
    """The modes of Ω (numpy.linalg.eigh) with β_mτ = u_τ·ΦB_mᵀ, and the eigenvector matrix U (N, N)."""
    N, D = phi.shape
    rho, U = np.linalg.eigh(omega)
    beta = (B @ phi.T) @ U
    return Modes(rho=rho, beta=beta, delta=D / N, T=B @ B.T / D), U


def initial_state(W0: np.ndarray, U: np.ndarray, modes: Modes) -> tuple[np.ndarray, np.ndarray]:
    """q(τ) = ω_k ω_l and r(τ) = ω_k β_m from the student's initial weights (ω = W0 U)."""
    w = W0 @ U
    return w[:, None, :] * w[None, :, :], w[:, None, :] * modes.beta[None, :, :]


def overlaps(q: np.ndarray, r: np.ndarray, modes: Modes) -> tuple[np.ndarray, np.ndarray]:
    """Q = Σ_τ ρ_τ q(τ)/N and R = Σ_τ r(τ)/(N√δ) (Goldt et al. 2020, eq. (13))."""
    N = modes.width
    return q @ modes.rho / N, r.sum(-1) / (N * np.sqrt(modes.delta))


def coefficients(
    Q: np.ndarray, R: np.ndarray, T: np.ndarray, v: np.ndarray, A: np.ndarray, eta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """G (K, K), H (K, M) and J (K, K) of the mode equations (Goldt et al. 2020, appendix B):
    E[g′(λ_k) e ξ_τ] regressed on the pairs of fields (λ_k, z_b) that each term depends on, and
    J_kl = v_k v_l E[g′(λ_k) g′(λ_l) e²] with e = ŷ − y."""
    K, M = R.shape
    C = covariance(Q, R, T)
    same, other = i3_students(C, K)  # I3(k, k, b), I3(k, b, b) over all fields b
    Qd, Td = np.diag(Q), np.diag(T)
    off = ~np.eye(K, dtype=bool)
    # students j ≠ k: Δ_kj = Q_kk Q_jj − Q_kj²
    delta_s = np.where(off, Qd[:, None] * Qd[None, :] - Q**2, 1.0)
    vv = v[:, None] * v[None, :]
    G = np.where(off, -eta * vv * (Qd[:, None] * other[:, :K] - Q * same[:, :K]) / delta_s, 0.0)
    diag = -eta * v**2 * np.diag(same[:, :K]) / Qd
    diag -= eta * np.where(off, vv * (Qd[None, :] * same[:, :K] - Q * other[:, :K]) / delta_s, 0.0).sum(1)
    # teachers n: Δ′_kn = Q_kk T_nn − R_kn²
    delta_t = Qd[:, None] * Td[None, :] - R**2
    vA = v[:, None] * A[None, :]
    diag += eta * (vA * (Td[None, :] * same[:, K:] - R * other[:, K:]) / delta_t).sum(1)
    G = G + np.diag(diag)
    H = eta * vA * (Qd[:, None] * other[:, K:] - R * same[:, K:]) / delta_t
    s = np.concatenate([v, -A])
    J = vv * (i4_students(C, K) @ s @ s)  # Σ_cd s_c s_d I4(k, l, c, d)
    return G, H, J


def rhs(
    q: np.ndarray, r: np.ndarray, modes: Modes, v: np.ndarray, A: np.ndarray, eta: float
) -> tuple[np.ndarray, np.ndarray]:
    """dq/dt (K, K, N) and dr/dt (K, M, N) (Goldt et al. 2020, eqs. (14)–(15)):
    dr_km(τ) = ρ_τ Σ_j G_kj r_jm(τ) + δ^{-1/2} Σ_n H_kn t̃_nm(τ),
    dq_kl(τ) = ρ_τ Σ_j [G_kj q_jl(τ) + G_lj q_kj(τ)] + δ^{-1/2} Σ_n [H_kn r_ln(τ) + H_ln r_kn(τ)] + η² ρ_τ J_kl."""
    Q, R = overlaps(q, r, modes)
    G, H, J = coefficients(Q, R, modes.T, v, A, eta)
    scale = 1.0 / np.sqrt(modes.delta)
    Gq = np.einsum("kj,jlt->klt", G, q)
    Hr = np.einsum("kn,lnt->klt", H, r)
    dq = modes.rho * (Gq + Gq.transpose(1, 0, 2)) + scale * (Hr + Hr.transpose(1, 0, 2))
    dq += eta**2 * modes.rho * J[:, :, None]
    dr = modes.rho * np.einsum("kj,jmt->kmt", G, r) + scale * (H @ modes.beta)[:, None, :] * modes.beta[None]
    return dq, dr


@dataclass(frozen=True)
class Trajectory:
    """The ODE's solution at the requested times: eg(t), Q(t) (n_t, K, K), R(t) (n_t, K, M), and its cost."""

    times: np.ndarray
    error: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    evaluations: int


def integrate(
    modes: Modes,
    q0: np.ndarray,
    r0: np.ndarray,
    times: Sequence[float],
    eta: float,
    v: np.ndarray | None = None,
    A: np.ndarray | None = None,
    method: str = "DOP853",
    rtol: float = 1e-7,
    atol: float = 1e-9,
    euler_step: float = 0.01,
) -> Trajectory:
    """Integrate the mode equations from (q0, r0) at t = 0 and report eg(Q(t), R(t), T) at ``times``.

    ``method`` is a scipy.integrate.solve_ivp method (DOP853, RK45) or "euler", the fixed-step explicit Euler
    scheme of the published integrator (times are then rounded to the step grid)."""
    from scipy.integrate import solve_ivp

    K, M = r0.shape[:2]
    v = np.ones(K) if v is None else np.asarray(v, float)
    A = np.ones(M) if A is None else np.asarray(A, float)
    times = np.asarray(times, float)
    nq = q0.size
    shape_q, shape_r = q0.shape, r0.shape
    count = 0

    def f(_t: float, y: np.ndarray) -> np.ndarray:
        nonlocal count
        count += 1
        dq, dr = rhs(y[:nq].reshape(shape_q), y[nq:].reshape(shape_r), modes, v, A, eta)
        return np.concatenate([dq.ravel(), dr.ravel()])

    y0 = np.concatenate([q0.ravel(), r0.ravel()])
    if method == "euler":
        marks = np.rint(times / euler_step).astype(int)
        states, y, step = [], y0.copy(), 0
        for mark in marks:
            while step < mark:
                y = y + euler_step * f(step * euler_step, y)
                step += 1
            states.append(y.copy())
        path = np.array(states).T
    elif method in METHODS:
        solution = solve_ivp(
            f, (0.0, float(times.max())), y0, method=method, t_eval=times, rtol=rtol, atol=atol
        )
        if not solution.success:
            raise RuntimeError(f"the ODE integration failed: {solution.message}")
        path = solution.y
    else:
        raise ValueError(f"unknown method {method!r} (one of {', '.join(METHODS)})")
    Qs, Rs, errors = [], [], []
    for column in path.T:
        Q, R = overlaps(column[:nq].reshape(shape_q), column[nq:].reshape(shape_r), modes)
        Qs.append(Q)
        Rs.append(R)
        errors.append(generalisation_error(Q, R, modes.T, v, A))
    return Trajectory(times, np.array(errors), np.array(Qs), np.array(Rs), count)
