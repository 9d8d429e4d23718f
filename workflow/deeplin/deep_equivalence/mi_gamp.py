"""The finite-size GLM twin's mutual information by GAMP and I-MMSE (docs/deep_equivalence.md, 'Mutual
information at finite size').

For a readout without a closed form (tanh) the twin's I/n = ½ ∫₀^{1/Δ} m(s) ds is taken on the same ladder as the
deep model's (deeplin.deep_equivalence.mutual_information). At each rung s the twin's data are
Y_s = f(h*) + Z/√s on the point's inputs, with the twin's own teacher h* = η0 Xv* + √γ0 ξ* and one noise draw Z
shared by all rungs. Bayes-optimal GAMP (deeplin.deep_equivalence.gamp) at likelihood noise 1/s gives, for every
training point, the cavity mean ω_μ and variance V of z_μ = vᵀx_μ; the point's posterior is then the 1-D measure

    P(h_μ | Y_s, X) ∝ N(h; η0 ω_μ, η0² V + γ0) · N(y_μ; f(h), 1/s)

(Rangan, ISIT 2011, the output step of GAMP; Zdeborová & Krzakala, Adv. Phys. 2016, §VI.C, eqs. (93)–(95)), and
mmse_μ(s) = Var[f(h_μ)] under it. Averaged over μ this is the in-sample m(s) of the I-MMSE identity (Guo,
Shamai, Verdú, IEEE Trans. Inf. Theory 51, 1261 (2005), Theorem 2). Its asymptotic value follows from state
evolution: ω ~ N(0, q) and V = 1 − q at the replica-symmetric q of noise 1/s (Barbier et al., PNAS 2019).
Pure numerics: no files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..activations import get_readout
from .gamp import gamp, make_output
from .glm_channels import make_channel
from .glm_solver import solve_curve
from .teacher import PointData, glm_data, point_seed

ArrayFn = Callable[[np.ndarray], np.ndarray]

# Retries of an unconverged plain GAMP run: damping 0.3 mixes each iterate with the previous one; it leaves the
# fixed points unchanged and tames oscillations (Rangan et al., IEEE Trans. Inf. Theory 65, 2019, damped GAMP).
RETRY_DAMPING = 0.3
RETRY_ITERATIONS = 2000


def in_sample_moments(
    fn: ArrayFn,
    y: np.ndarray,
    centre: np.ndarray,
    scale: float | np.ndarray,
    snr: float,
    *,
    resolution: float = 3.0,
    half_width: float = 12.0,
    max_slope: float = 1.0,
    chunk_elements: int = 2_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """(E f(h), Var f(h)) per sample under ∝ N(h; centre, scale²) · exp(−snr (y − f(h))²/2).

    With h = centre + scale·t the measure in t is N(t) times the likelihood; its moments are trapezoid sums on a
    uniform t-grid on [−half_width, half_width], spectrally accurate for these smooth integrands (a Gaussian of
    width ≥ 1/resolution grid steps, and f analytic in a strip). The spacing resolves the likelihood's width
    1/(√snr·scale·max|f′|) in t as well as the prior's. Samples whose measure still has mass at the ends (an
    outlying y) are redone on grids twice, four, … sixteen times as wide; beyond that it raises.
    """
    y = np.asarray(y, dtype=float).reshape(-1)
    centre = np.broadcast_to(np.asarray(centre, dtype=float), y.shape).reshape(-1)
    scale_arr = np.broadcast_to(np.asarray(scale, dtype=float), y.shape).reshape(-1)
    if not snr > 0 or np.any(scale_arr <= 0):
        raise ValueError("in_sample_moments needs snr > 0 and scale > 0")
    narrowest = min(1.0, 1.0 / (math.sqrt(snr) * float(scale_arr.max(initial=0.0)) * max_slope))
    mean = np.empty(y.shape)
    var = np.empty(y.shape)
    todo = np.arange(y.size)
    width = half_width
    while todo.size:
        if width > 16 * half_width:
            raise FloatingPointError(f"{todo.size} in-sample posteriors have mass beyond t = ±{width / 2}")
        t = np.linspace(-width, width, math.ceil(2 * width * resolution / narrowest) + 1)
        rows = max(1, chunk_elements // t.size)
        edge = np.zeros(todo.size, dtype=bool)
        for start in range(0, todo.size, rows):
            idx = todo[start : start + rows]
            f = fn(centre[idx, None] + scale_arr[idx, None] * t[None, :])
            log_w = -0.5 * t[None, :] ** 2 - 0.5 * snr * (y[idx, None] - f) ** 2
            log_w -= log_w.max(axis=1, keepdims=True)
            w = np.exp(log_w)
            norm = w.sum(axis=1)
            m1 = (w * f).sum(axis=1) / norm
            m2 = (w * f * f).sum(axis=1) / norm
            mean[idx] = m1
            var[idx] = np.maximum(m2 - m1 * m1, 0.0)
            edge[start : start + rows] = np.maximum(w[:, 0], w[:, -1]) > 1e-14 * norm
        todo = todo[edge]
        width *= 2.0
    return mean, var


@dataclass(frozen=True)
class TwinRung:
    """GAMP's in-sample mmse at one rung, and how GAMP ended."""

    snr: float
    mmse: float  # (1/n) Σ_μ Var[f(h_μ) | Y_s, X]
    iterations: int
    damping: float


def gamp_in_sample_mmse(
    x: np.ndarray, y: np.ndarray, readout: str, eta0: float, gamma0: float, snr: float, *, tol: float = 1e-9
) -> TwinRung:
    """GAMP at likelihood noise 1/snr on (x, y), then the mean over μ of Var f(h_μ) under the 1-D posterior.

    Plain GAMP first; if it has not converged, damped GAMP (RETRY_DAMPING) from the start; a run that still
    has not converged raises RuntimeError (an unconverged iterate is not a posterior).
    """
    output = make_output(readout, eta0, gamma0, 1.0 / snr)
    fit = gamp(x, y, output, tol=tol)
    damping = 1.0
    if not fit.converged:
        damping = RETRY_DAMPING
        fit = gamp(x, y, output, damping=damping, tol=tol, max_iterations=RETRY_ITERATIONS)
    if not fit.converged:
        raise RuntimeError(
            f"GAMP did not converge at s = {snr:.6g} (last change {fit.last_change:.3g}, damping {damping})"
        )
    scale = math.sqrt(eta0**2 * fit.output_variance + gamma0)
    _, var = in_sample_moments(get_readout(readout).fn, y, eta0 * fit.omega, scale, snr)
    return TwinRung(snr=float(snr), mmse=float(var.mean()), iterations=fit.iterations, damping=damping)


def twin_curve(
    x: np.ndarray,
    h: np.ndarray,
    z: np.ndarray,
    readout: str,
    eta0: float,
    gamma0: float,
    snrs: Sequence[float],
) -> list[TwinRung]:
    """GAMP's in-sample mmse at each s in ``snrs`` on the rung data Y_s = f(h) + Z/√s (same h, Z throughout)."""
    u = get_readout(readout).fn(np.asarray(h, dtype=float))
    return [gamp_in_sample_mmse(x, u + z / math.sqrt(s), readout, eta0, gamma0, float(s)) for s in snrs]


def twin_training_draw(data: PointData, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    """The point's GLM twin on its training inputs: (h*, Z) with labels f(h*) + √Δ Z.

    The twin's stream is re-drawn from the point's derived seed by the one GLM generator
    (deeplin.deep_equivalence.teacher.glm_data), and checked against the stored labels: the ladder then
    reuses exactly the teacher and noise of the twin step's data.
    """
    model = meta["model"]
    rng = np.random.default_rng(
        point_seed(meta["model_name"], meta["width"], meta["alpha"], meta["seed"], "glm")
    )
    glm = glm_data(
        data.x_train, data.x_test, meta["eta0"], meta["gamma0"], model["readout"], model["noise"], rng
    )
    if not np.allclose(glm.y_train, data.glm_y_train, rtol=0, atol=1e-12):
        raise ValueError("the GLM twin's labels could not be re-drawn from the point's seed (data changed?)")
    u = get_readout(model["readout"]).fn(glm.h_train)
    return glm.h_train, (data.glm_y_train - u) / math.sqrt(model["noise"])


def state_evolution_in_sample_mmse(
    readout: str, eta0: float, gamma0: float, alpha: float, snr: float, nodes: int = 30
) -> tuple[float, float]:
    """(q, m(s)) of the infinite-size twin at likelihood noise 1/s.

    q is the replica-symmetric overlap (deeplin.deep_equivalence.glm_solver); GAMP's state evolution has
    ω = √q ξ0 and V = 1 − q, so m(s) = E Var[f(h) | y, ω] with h ~ N(η0 ω, η0²(1 − q) + γ0) and
    y = f(h) + N/√s, ξ0, N ~ N(0, 1) (Barbier et al. 2019, GAMP state evolution). The outer expectations over
    (ξ0, t, N) are Gauss–Hermite products with ``nodes`` nodes each.
    """
    (point,) = solve_curve(make_channel(readout, eta0, gamma0, 1.0 / snr), [alpha])
    q = point.q
    g, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / w.sum()
    xi, t, noise = np.meshgrid(g, g, g, indexing="ij")
    weight = (w[:, None, None] * w[None, :, None] * w[None, None, :]).reshape(-1)
    scale = math.sqrt(eta0**2 * (1.0 - q) + gamma0)
    centre = eta0 * math.sqrt(q) * xi.reshape(-1)
    fn = get_readout(readout).fn
    y = fn(centre + scale * t.reshape(-1)) + noise.reshape(-1) / math.sqrt(snr)
    _, var = in_sample_moments(fn, y, centre, scale, snr)
    return float(q), float(weight @ var)
