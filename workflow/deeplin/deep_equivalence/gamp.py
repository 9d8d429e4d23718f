"""Bayes-optimal GAMP and its state evolution for the finite-size GLM twin (docs/deep_equivalence.md,
'GLM twin').

Model: rows x_μ of X ∈ R^{n×d} iid N(0, I/d), v ~ N(0, I_d), z = Xv, and
Y = f(η0 z + √γ0 ξ) + √Δ N (Gaussian likelihood, f ∈ {linear, tanh}) or Y = sign(η0 z + √γ0 ξ + √Δ N)
(probit), ξ, N iid N(0,1) per sample. The effective output channel is P(y | z) = ∫ Dξ P(y | η0 z + √γ0 ξ),
so that Z_out(y; ω, V) = ∫ dh N(h; η0 ω, η0² V + γ0) P(y | h). Such data come from
deeplin.deep_equivalence.teacher.glm_data, the one generator of GLM-twin data.

GAMP is Rangan's generalised approximate message passing (Rangan, ISIT 2011, "Generalized approximate
message passing for estimation with random linear mixing") in its Bayes-optimal, scalar-variance form
(Zdeborová & Krzakala, Adv. Phys. 2016, §VI.C; Barbier, Krzakala, Macris, Miolane, Zdeborová, PNAS 2019,
Appendix "GAMP"). Its state evolution q_{t+1} = q̂/(1+q̂), q̂ = α Q(q_t), reuses the replica channels of
:mod:`deeplin.deep_equivalence.glm_channels`; its stable fixed point is the replica-symmetric q of
:mod:`deeplin.deep_equivalence.glm_solver`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..activations import get_readout
from .glm_channels import Channel, make_channel

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

ArrayFn = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------------------------------
# Output channels: g_out(ω, V, y) = ∂_ω log Z_out(y; ω, V) and ∂_ω g_out, plus the predictors.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """Bayes-optimal predictions for new inputs from ω = x·v̂ and V = Var_post(x·v).

    Gaussian-likelihood readouts: ``mean`` = E[f(h) | ω, V] (the clean-output predictor of `error`) and
    ``variance`` = Var[f(h) | ω, V]. Sign: ``label`` = sign ω, ``probability`` = P(Y = +1 | ω, V) for the
    noisy label, ``mean`` = 2p − 1, ``variance`` = 1 − mean².
    """

    mean: np.ndarray
    variance: np.ndarray
    label: np.ndarray | None = None
    probability: np.ndarray | None = None

    def expected_error(self) -> float:
        """Teacher-free estimate of the test error (Nishimori identity; docs/deep_equivalence.md).

        Gaussian readouts: mean posterior variance of f(h) (= the clean `error`); sign: mean min(p, 1−p),
        the Bayes classifier's expected mistake rate on the *noisy* label.
        """
        if self.probability is None:
            return float(np.mean(self.variance))
        return float(np.mean(np.minimum(self.probability, 1.0 - self.probability)))


@dataclass(frozen=True)
class LinearOutput:
    """f(x) = x: Z_out = N(y; η0 ω, η0² V + D), D = γ0 + Δ, in closed form."""

    eta0: float
    gamma0: float
    delta: float

    def denoise(self, y: np.ndarray, omega: np.ndarray, V: float) -> tuple[np.ndarray, np.ndarray]:
        """(g_out, ∂_ω g_out) per sample."""
        # Zdeborová–Krzakala 2016 eq. (94) with the gain η0: g = η0 (y − η0 ω)/(η0² V + D),
        # ∂_ω g = −η0² / (η0² V + D).
        total = self.eta0**2 * V + self.gamma0 + self.delta
        g = self.eta0 * (y - self.eta0 * omega) / total
        return g, np.full_like(g, -(self.eta0**2) / total)

    def predict(self, omega: np.ndarray, V: np.ndarray) -> Prediction:
        """E[η0 z + √γ0 ξ | ω, V] = η0 ω; variance η0² V + γ0."""
        omega = np.asarray(omega, dtype=float)
        variance = self.eta0**2 * np.broadcast_to(V, omega.shape) + self.gamma0
        return Prediction(mean=self.eta0 * omega, variance=variance)


@dataclass(frozen=True)
class ProbitOutput:
    """Sign readout with the noise inside: Z_out = Φ(y η0 ω / √S), S = η0² V + γ0 + Δ."""

    eta0: float
    gamma0: float
    delta: float

    def denoise(self, y: np.ndarray, omega: np.ndarray, V: float) -> tuple[np.ndarray, np.ndarray]:
        """(g_out, ∂_ω g_out) per sample, with N/Φ computed from log-CDFs so that tails stay finite."""
        total = self.eta0**2 * V + self.gamma0 + self.delta
        if total <= 0:
            raise ValueError("probit channel needs eta0² V + gamma0 + delta > 0")
        scale = self.eta0 / math.sqrt(total)
        u = y * scale * omega
        # Inverse Mills ratio r = N(u)/Φ(u) (Zdeborová–Krzakala 2016 eq. (97); Rangan 2011 Table I, probit):
        # g = y c r, ∂_ω g = −c² r (u + r), c = η0/√S.
        r = np.exp(-0.5 * u * u - _LOG_SQRT_2PI - special.log_ndtr(u))
        return y * scale * r, -(scale**2) * r * (u + r)

    def predict(self, omega: np.ndarray, V: np.ndarray) -> Prediction:
        """label sign ω; P(Y = +1) = Φ(η0 ω / √(η0² V + γ0 + Δ))."""
        omega = np.asarray(omega, dtype=float)
        p = special.ndtr(self.eta0 * omega / np.sqrt(self.eta0**2 * V + self.gamma0 + self.delta))
        mean = 2.0 * p - 1.0
        return Prediction(
            mean=mean, variance=1.0 - mean**2, label=np.where(omega >= 0, 1.0, -1.0), probability=p
        )


@dataclass(frozen=True)
class QuadratureOutput:
    """Y = f(h) + √Δ N for a general readout f: Z_out and its moments by a vectorised 1-D quadrature in h.

    With h = η0 ω + s t, s² = η0² V + γ0, the posterior of t is ∝ N(t) exp(−(y − f(h))²/2Δ). Its moments
    are trapezoid sums on a uniform t-grid on [−T, T], spectrally accurate for this smooth integrand,
    with spacing ``min(1, √Δ/(s·max|f′|)) / resolution`` so that the likelihood (width √Δ/|f′| in h)
    is resolved when Δ is small; a 20-node Gauss–Hermite rule would miss it. Log-weights are
    normalised per sample, and samples whose posterior still has mass at ±T are redone on a wider grid.
    """

    fn: ArrayFn
    eta0: float
    gamma0: float
    delta: float
    resolution: float = 3.0
    half_width: float = 12.0
    max_slope: float = 1.0
    chunk_elements: int = 2_000_000
    _edge_tolerance: float = field(default=1e-25, repr=False)

    def __post_init__(self) -> None:
        if self.delta <= 0:
            raise ValueError("the quadrature output channel needs delta > 0 (the likelihood is a delta)")

    def _moments(
        self, y: np.ndarray, centre: np.ndarray, s: float, half_width: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(E t, Var t, edge weight) of the posterior of t per sample, on [−half_width, half_width]."""
        width = min(1.0, math.sqrt(self.delta) / (s * self.max_slope))
        dt = width / self.resolution
        t = np.linspace(-half_width, half_width, math.ceil(2 * half_width / dt) + 1)
        mean = np.empty_like(y)
        var = np.empty_like(y)
        edge = np.empty_like(y)
        rows = max(1, self.chunk_elements // t.size)
        for start in range(0, y.size, rows):
            sl = slice(start, start + rows)
            h = centre[sl, None] + s * t[None, :]
            # log of N(t) P(y | f(h)) up to a per-sample constant (the replica Z_out, in the variable t).
            log_w = -0.5 * t[None, :] ** 2 - (y[sl, None] - self.fn(h)) ** 2 / (2.0 * self.delta)
            log_w -= log_w.max(axis=1, keepdims=True)
            w = np.exp(log_w)
            norm = w.sum(axis=1)
            m1 = (w @ t) / norm
            m2 = (w @ (t * t)) / norm
            mean[sl] = m1
            var[sl] = np.maximum(m2 - m1 * m1, 0.0)
            edge[sl] = np.maximum(w[:, 0], w[:, -1]) / norm
        return mean, var, edge

    def _posterior(self, y: np.ndarray, omega: np.ndarray, V: float) -> tuple[np.ndarray, np.ndarray, float]:
        s = math.sqrt(self.eta0**2 * V + self.gamma0)
        if s == 0:
            raise ValueError("eta0² V + gamma0 = 0: the prior on h is a delta")
        y = np.asarray(y, dtype=float)
        centre = self.eta0 * np.asarray(omega, dtype=float)
        mean, var, edge = self._moments(y, centre, s, self.half_width)
        half_width = self.half_width
        bad = edge > self._edge_tolerance
        while np.any(bad):
            half_width *= 2.0
            if half_width > 16 * self.half_width:
                raise FloatingPointError(
                    f"{int(bad.sum())} samples have posterior mass beyond t = ±{half_width / 2}"
                )
            m, v, e = self._moments(y[bad], centre[bad], s, half_width)
            mean[bad], var[bad] = m, v
            still = np.zeros_like(bad)
            still[np.flatnonzero(bad)[e > self._edge_tolerance]] = True
            bad = still
        return mean, var, s

    def denoise(self, y: np.ndarray, omega: np.ndarray, V: float) -> tuple[np.ndarray, np.ndarray]:
        """(g_out, ∂_ω g_out) per sample."""
        mean_t, var_t, s = self._posterior(y, omega, V)
        # g_out = ∂_ω log Z_out = η0 (E[h] − η0 ω)/s² = η0 E[t]/s, and
        # ∂_ω g_out = η0² (Var[h] − s²)/s⁴ = η0² (Var[t] − 1)/s²  (Zdeborová–Krzakala 2016 eqs. (93)–(95),
        # Barbier et al. 2019 App. with Z_out written as a Gaussian integral over h).
        return self.eta0 * mean_t / s, self.eta0**2 * (var_t - 1.0) / s**2

    def predict(self, omega: np.ndarray, V: np.ndarray) -> Prediction:
        """E and Var of f(η0 ω + √(η0² V + γ0) t), t ~ N(0,1), by the trapezoid rule (as in the RS error)."""
        omega = np.asarray(omega, dtype=float)
        s = np.sqrt(self.eta0**2 * np.broadcast_to(V, omega.shape) + self.gamma0)
        # tanh-type f is analytic in a strip |Im h| < π/2, i.e. |Im t| < π/(2s); the trapezoid rule converges
        # like exp(−2π a/dt) there, so dt ≤ a/6 gives < 1e-16 (same rule as glm_channels._xi_nodes).
        dt = min(0.25, 0.5 * math.pi / max(float(np.max(s, initial=0.0)), 1e-300) / 6.0)
        t = np.arange(-12.0, 12.0 + dt / 2, dt)
        weights = np.exp(-0.5 * t**2) * (_INV_SQRT_2PI * dt)
        mean = np.empty_like(omega)
        second = np.empty_like(omega)
        rows = max(1, self.chunk_elements // t.size)
        flat_o, flat_s = omega.reshape(-1), s.reshape(-1)
        for start in range(0, flat_o.size, rows):
            sl = slice(start, start + rows)
            values = self.fn(self.eta0 * flat_o[sl, None] + flat_s[sl, None] * t[None, :])
            mean.reshape(-1)[sl] = values @ weights
            second.reshape(-1)[sl] = (values * values) @ weights
        return Prediction(mean=mean, variance=np.maximum(second - mean**2, 0.0))


OutputChannel = LinearOutput | ProbitOutput | QuadratureOutput


def make_output(
    readout: str, eta0: float, gamma0: float, delta: float, *, quadrature: bool = False, **numerics
) -> OutputChannel:
    """GAMP's output channel for a readout name; ``quadrature=True`` forces the numerical one (tests)."""
    if delta < 0:
        raise ValueError(f"noise must be >= 0, got {delta}")
    spec = get_readout(readout)
    if spec.likelihood == "probit":
        return ProbitOutput(eta0, gamma0, delta)
    if spec.name == "linear" and not quadrature:
        return LinearOutput(eta0, gamma0, delta)
    return QuadratureOutput(spec.fn, eta0, gamma0, delta, **numerics)


# --------------------------------------------------------------------------------------------------
# GAMP
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GAMPResult:
    """Output of :func:`gamp`. Trajectories hold one entry per iterate t = 0 … iterations (t = 0: prior)."""

    v_hat: np.ndarray  # posterior mean of v
    variance: float  # mean posterior variance of the entries of v (c̄)
    q_hat_emp: float  # v̂·v̂/d (= v̂·v/d on average by Nishimori)
    overlap: float | None  # v̂·v/d when the teacher was passed, else None
    iterations: int
    converged: bool
    last_change: float  # RMS change of v̂ in the last iteration
    trajectory: np.ndarray  # v̂·v̂/d per iterate
    overlap_trajectory: np.ndarray | None  # v̂·v/d per iterate (teacher given)
    variance_trajectory: np.ndarray  # c̄ per iterate; 1 − c̄ is GAMP's own estimate of q
    conjugate_trajectory: np.ndarray  # A_t = α·mean(−∂g_out), GAMP's q̂ (entry t used for iterate t+1)
    output: OutputChannel
    # The last output step's cavity mean ω_μ and variance V of z_μ = vᵀx_μ: the training points' posterior
    # is ∝ N(z; ω_μ, V) P_out(y_μ | z) (Zdeborová–Krzakala 2016 §VI.C), used by the in-sample mmse.
    omega: np.ndarray | None = None
    output_variance: float | None = None

    def predict(self, X_test: np.ndarray) -> Prediction:
        """Bayes-optimal predictions on new inputs (see :func:`predict`)."""
        return predict(self.output, X_test, self.v_hat, self.variance)


def gamp(
    X: np.ndarray,
    y: np.ndarray,
    readout: str | OutputChannel,
    eta0: float | None = None,
    gamma0: float | None = None,
    delta: float | None = None,
    *,
    damping: float = 1.0,
    tol: float = 1e-9,
    max_iterations: int = 500,
    v_true: np.ndarray | None = None,
    raise_on_failure: bool = False,
) -> GAMPResult:
    """Bayes-optimal scalar-variance GAMP for the GLM twin with the N(0, I) prior.

    ``readout`` is a name (then eta0, gamma0, delta are required) or an output channel object.
    ``damping`` β ∈ (0, 1] mixes each new (v̂, c̄) with the previous one (β = 1: plain GAMP, whose
    iterates follow state evolution); it does not change fixed points. Stops when the RMS change of v̂
    is below ``tol``; never silently: ``converged`` and ``last_change`` say how it ended, and
    ``raise_on_failure`` turns an unconverged end into an exception. ``v_true`` only feeds diagnostics.
    """
    if isinstance(readout, str):
        if eta0 is None or gamma0 is None or delta is None:
            raise ValueError("eta0, gamma0 and delta are required with a readout name")
        output = make_output(readout, eta0, gamma0, delta)
    else:
        output = readout
    if not 0.0 < damping <= 1.0:
        raise ValueError(f"damping must lie in (0, 1], got {damping}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, d = X.shape
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},), got {y.shape}")
    frob = float(np.sum(X * X))
    row_norm = frob / n  # ≈ 1: mean ‖x_μ‖²
    col_norm = frob / d  # ≈ α: mean ‖X_{·i}‖²

    # Initialisation at the prior: v̂ = 0, c = 1, g_out^{−1} = 0 (Rangan 2011, Alg. 1; SE q_0 = 0).
    a = np.zeros(d)
    c = 1.0
    g = np.zeros(n)
    trajectory = [0.0]
    overlaps = [0.0] if v_true is not None else None
    variances = [c]
    conjugates: list[float] = []
    change = math.inf
    converged = False
    iterations = 0
    omega: np.ndarray | None = None
    V = row_norm * c
    for iterations in range(1, max_iterations + 1):
        # Output step (Zdeborová–Krzakala 2016 Alg. 1 / Barbier et al. 2019 App.), uniform variances:
        # V = Σ_i X_μi² c_i ≈ row_norm·c̄;  ω = X v̂ − V g_out^{t−1}  (Onsager correction).
        V = row_norm * c
        omega = X @ a - V * g
        g, dg = output.denoise(y, omega, V)
        # Input step: A = −Σ_μ X_μi² ∂_ω g_μ ≈ col_norm·mean(−∂g);  B = Xᵀ g + A v̂.
        A = col_norm * float(np.mean(-dg))
        if not A > -1.0:
            raise FloatingPointError(f"GAMP conjugate variance A = {A} <= -1 at iteration {iterations}")
        B = X.T @ g + A * a
        # Gaussian prior N(0,1) with pseudo-observation B = A v + √A noise: posterior mean B/(1+A), variance
        # 1/(1+A) (input denoiser f_a, f_c of Zdeborová–Krzakala 2016 §VI.C for a Gaussian prior).
        a_new = B / (1.0 + A)
        c_new = 1.0 / (1.0 + A)
        if damping < 1.0:
            a_new = damping * a_new + (1.0 - damping) * a
            c_new = damping * c_new + (1.0 - damping) * c
        change = float(np.sqrt(np.mean((a_new - a) ** 2)))
        a, c = a_new, c_new
        conjugates.append(A)
        trajectory.append(float(a @ a) / d)
        variances.append(c)
        if overlaps is not None:
            overlaps.append(float(a @ v_true) / d)
        if not np.isfinite(change):
            raise FloatingPointError(f"GAMP diverged at iteration {iterations}")
        if change < tol:
            converged = True
            break
    if not converged and raise_on_failure:
        raise RuntimeError(f"GAMP did not converge in {max_iterations} iterations (last change {change:.3g})")
    return GAMPResult(
        v_hat=a,
        variance=float(c),
        q_hat_emp=float(a @ a) / d,
        overlap=None if v_true is None else float(a @ v_true) / d,
        iterations=iterations,
        converged=converged,
        last_change=change,
        trajectory=np.array(trajectory),
        overlap_trajectory=None if overlaps is None else np.array(overlaps),
        variance_trajectory=np.array(variances),
        conjugate_trajectory=np.array(conjugates),
        output=output,
        omega=omega,
        output_variance=float(V),
    )


def predict(output: OutputChannel, X_test: np.ndarray, v_hat: np.ndarray, variance: float) -> Prediction:
    """Bayes-optimal prediction for new inputs: ω = x·v̂, V = ‖x‖²·c̄ (≈ c̄, since ‖x‖² ≈ 1).

    V approximates xᵀ Σ_post x by ‖x‖² tr(Σ_post)/d, which concentrates for x independent of the data.
    """
    X_test = np.asarray(X_test, dtype=float)
    omega = X_test @ v_hat
    V = np.sum(X_test * X_test, axis=1) * variance
    return output.predict(omega, V)


# --------------------------------------------------------------------------------------------------
# State evolution
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateEvolution:
    """q_t (t = 0 …) and q̂_t = α Q(q_t) of state evolution; ``converged`` when |q_{t+1} − q_t| < tol."""

    q: np.ndarray
    q_hat: np.ndarray
    converged: bool


def state_evolution(
    channel: Channel, alpha: float, *, q_init: float = 0.0, tol: float = 1e-12, max_iterations: int = 1000
) -> StateEvolution:
    """Iterate q_{t+1} = q̂_t/(1+q̂_t), q̂_t = α·channel.fisher(q_t) from q_init (0: GAMP's prior start).

    Bayes-optimal SE with Gaussian prior (Barbier et al. 2019, eqs. for GAMP's SE; Rangan 2011 Thm. 2);
    its fixed point is the replica-symmetric q of :func:`deeplin.deep_equivalence.glm_solver.solve`.
    """
    q = [float(q_init)]
    q_hat: list[float] = []
    converged = False
    for _ in range(max_iterations):
        q_hat.append(alpha * channel.fisher(q[-1]))
        q.append(q_hat[-1] / (1.0 + q_hat[-1]))
        if abs(q[-1] - q[-2]) < tol:
            converged = True
            break
    return StateEvolution(q=np.array(q), q_hat=np.array(q_hat), converged=converged)


def state_evolution_for(
    readout: str, eta0: float, gamma0: float, delta: float, alpha: float, **kwargs
) -> StateEvolution:
    """:func:`state_evolution` with ``make_channel(readout, eta0, gamma0, delta)``."""
    return state_evolution(make_channel(readout, eta0, gamma0, delta), alpha, **kwargs)
