"""Exact finite-size moments, the L/N → a limit and exact samplers of deep linear networks with depth ∝ width
(Bassetti, Ladelli, Rotondo, arXiv 2411.15267; docs/deep_linear.md, 'Finite-size moments' and 'The limit L/N → a').

Model: K_0 = XᵀX/N0 with unit inputs of overlap ρ0, K_l = G_{l−1}ᵀ (ZᵀZ/N) G_{l−1} with K_{l−1} = G_{l−1}ᵀG_{l−1},
Z ∈ R^{N×P} iid N(0, 1): K_L is a product of L Wishart_P(N, I/N) factors, and the outputs are N(0, K_L) given
K_L. Pure numerics (numpy/scipy): no I/O, no torch.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import hermite_e
from scipy import special

GAUSS_HERMITE_NODES = 80  # mixture CDF error ≤ 4.2e-9 up to a = 1.5 (≤ 1e-11 up to a = 0.75; tests)
_HERMITE_U, _HERMITE_W = hermite_e.hermegauss(GAUSS_HERMITE_NODES)
_HERMITE_W = _HERMITE_W / math.sqrt(2.0 * math.pi)  # weights of E g(u), u ~ N(0, 1)

# Isserlis' theorem on the Wishart step, P = 2, unit inputs: (B, C)_l = (I + M/N)(B, C)_{l−1} with
# B = E K11 K22, C = E K12² (docs/deep_linear.md, 'Finite-size moments')
_MOMENT_MATRIX = np.array([[0.0, 2.0], [1.0, 1.0]])


def depth_for(a: float, width: int) -> int:
    """Depth L = floor(a·N + 0.5) (round half up), at least 1, for the depth-to-width ratio a = L/N of the
    proportional limit (Bassetti–Ladelli–Rotondo, arXiv 2411.15267; docs/deep_linear.md, 'Model')."""
    if a < 0 or width < 1:
        raise ValueError(f"depth_for needs a ≥ 0 and width ≥ 1, got a = {a}, width = {width}")
    return max(1, math.floor(a * width + 0.5))


def _power_deviation(deviation: np.ndarray, exponent: int) -> np.ndarray:
    """R with I + R = (I + E)^exponent by binary powering, kept as the deviation from I so that entries
    1 + O(1/N) are never rounded to 1: (I + R)(I + S) = I + (R + S + RS)."""
    result = np.zeros_like(deviation)
    base = deviation.copy()
    while exponent:
        if exponent & 1:
            result = result + base + result @ base
        base = 2.0 * base + base @ base
        exponent >>= 1
    return result


def _unit_square_growth(width: int, depth: int) -> float:
    """(1 + 2/N)^L − 1 = Var K for unit inputs: E K_l² = (1 + 2/N) E K_{l−1}² (Isserlis; P = 1 it is the
    product of χ²_N moments E(χ²_N/N)² = 1 + 2/N)."""
    return math.expm1(depth * math.log1p(2.0 / width))


def finite_moments(width: int, depth: int, rho0: float) -> dict[str, float]:
    """Exact moments of K_L at finite (N, L) for two unit inputs of overlap ρ0.

    Isserlis on the Wishart step (conditional on K_{l−1}): E[K_ij K_kl]_l = E[K_ij K_kl]_{l−1}
    + (E[K_ik K_jl] + E[K_il K_jk])_{l−1}/N, so (B, C)_L = (I + M/N)^L (1, ρ0²), M = [[0, 2], [1, 1]]
    (computed here by powering the recursion, not from its closed form (1 + 2ρ0²)(1 + 2/N)^L for B + 2C, which
    the tests compare). P = 1: K = ∏ χ²_N/N, so E log K = L[ψ(N/2) + log(2/N)], Var log K = L ψ′(N/2), and the
    kurtosis of one output f = √K Z is 3E K² = 3(1 + 2/N)^L (Bassetti–Ladelli–Rotondo, arXiv 2411.15267;
    docs/deep_linear.md, 'Finite-size moments'). unit_square_cov = Var K = Cov(f_1², f_2²) of two output units at
    one input.
    """
    if width < 1 or depth < 0:
        raise ValueError(f"finite_moments needs width ≥ 1 and depth ≥ 0, got {width}, {depth}")
    deviation = _power_deviation(_MOMENT_MATRIX / width, int(depth))
    start = np.array([1.0, rho0 * rho0])
    b, c = start + deviation @ start
    growth = _unit_square_growth(width, depth)
    half = width / 2.0
    return {
        "log_k_mean": float(depth * (special.digamma(half) + math.log(2.0 / width))),
        "log_k_var": float(depth * special.polygamma(1, half)),
        "kurtosis": 3.0 * (1.0 + growth),
        "cross_fourth_moment": float(b + 2.0 * c),
        "b": float(b),
        "c": float(c),
        "unit_square_cov": growth,
    }


def limit_moments(a: float, rho0: float) -> dict[str, float]:
    """The moments of finite_moments at L/N → a: (B, C) = exp(aM)(1, ρ0²) with the eigenvalues 2 and −1 of M,
    B = α e^{2a} + 2β e^{−a}, C = α e^{2a} − β e^{−a}, α = (1 + 2ρ0²)/3, β = (1 − ρ0²)/3; log K ~ N(−a, 2a);
    kurtosis 3e^{2a}; Var K = e^{2a} − 1 (the solution of dK = K^{1/2} dW K^{1/2}; Bassetti–Ladelli–Rotondo,
    arXiv 2411.15267; docs/deep_linear.md, 'The limit L/N → a')."""
    if a < 0:
        raise ValueError(f"limit_moments needs a ≥ 0, got {a}")
    alpha, beta = (1.0 + 2.0 * rho0 * rho0) / 3.0, (1.0 - rho0 * rho0) / 3.0
    grow, decay = math.exp(2.0 * a), math.exp(-a)
    b = alpha * grow + 2.0 * beta * decay
    c = alpha * grow - beta * decay
    return {
        "log_k_mean": -float(a),
        "log_k_var": 2.0 * float(a),
        "kurtosis": 3.0 * grow,
        "cross_fourth_moment": b + 2.0 * c,
        "b": b,
        "c": c,
        "unit_square_cov": math.expm1(2.0 * a),
    }


def gp_moments(rho0: float) -> dict[str, float]:
    """The same moments for the Gaussian process (a = 0, K = K_0 deterministic): the NNGP limit at fixed depth
    that Bassetti–Ladelli–Rotondo (arXiv 2411.15267) contrast with the proportional one; the correlation
    r = ρ0 exactly (docs/deep_linear.md, 'The limit L/N → a')."""
    return {
        "log_k_mean": 0.0,
        "log_k_var": 0.0,
        "kurtosis": 3.0,
        "cross_fourth_moment": 1.0 + 2.0 * rho0 * rho0,
        "b": 1.0,
        "c": rho0 * rho0,
        "unit_square_cov": 0.0,
        "corr_mean": float(rho0),
        "corr_sd": 0.0,
    }


def _hermite_scales(a: float) -> np.ndarray:
    """e^{−log K/2} = e^{(a − √(2a) u)/2} at the Gauss–Hermite nodes u of log K ~ N(−a, 2a)."""
    if a < 0:
        raise ValueError(f"the mixture law needs a ≥ 0, got {a}")
    return np.exp(0.5 * (a - math.sqrt(2.0 * a) * _HERMITE_U))


def mixture_cdf(t: np.ndarray, a: float) -> np.ndarray:
    """CDF of one output in the limit L/N → a: f = √K Z with log K ~ N(−a, 2a), so F(t) = E_u Φ(t e^{(a − √(2a)u)/2}),
    u ~ N(0, 1), by Gauss–Hermite with 80 nodes (a log-normal scale mixture of Gaussians; Bassetti–Ladelli–Rotondo,
    arXiv 2411.15267; docs/deep_linear.md, 'The limit L/N → a'). a = 0 gives Φ."""
    t = np.asarray(t, dtype=float)
    scales = _hermite_scales(a)
    return special.ndtr(t[..., None] * scales) @ _HERMITE_W


def mixture_density(t: np.ndarray, a: float) -> np.ndarray:
    """Density of mixture_cdf: E_u[φ(t/√K)/√K] by the same 80-node Gauss–Hermite rule."""
    t = np.asarray(t, dtype=float)
    scales = _hermite_scales(a)
    z = t[..., None] * scales
    return (np.exp(-0.5 * z * z) * scales) @ _HERMITE_W / math.sqrt(2.0 * math.pi)


def finite_log_k_draws(width: int, depth: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """n exact draws of log K_L = Σ_{l≤L} log(χ²_N/N) for one unit input (P = 1: the Wishart_1 factors are
    independent χ²_N/N; docs/deep_linear.md, 'Finite-size moments'). One χ²_N vector of length n per layer."""
    if width < 1 or depth < 0:
        raise ValueError(f"finite_log_k_draws needs width ≥ 1 and depth ≥ 0, got {width}, {depth}")
    total = np.zeros(int(n))
    for _ in range(int(depth)):
        total += np.log(rng.chisquare(width, size=int(n)) / width)
    return total


def finite_output_cdf(t: np.ndarray, log_k_draws: np.ndarray) -> np.ndarray:
    """The finite single-output CDF P(f ≤ t) = E Φ(t e^{−log K/2}) averaged over the given draws of log K (the
    Gaussian mixture of Bassetti–Ladelli–Rotondo, arXiv 2411.15267, at finite N, L), e.g. for a one-sample KS test
    against simulated outputs. Evaluated in chunks of t so that memory stays ~32 MB."""
    t = np.asarray(t, dtype=float)
    scales = np.exp(-0.5 * np.asarray(log_k_draws, dtype=float).ravel())
    if scales.size == 0:
        raise ValueError("finite_output_cdf needs at least one draw of log K")
    flat = t.ravel()
    out = np.empty(flat.size)
    chunk = max(1, 4_000_000 // scales.size)
    for start in range(0, flat.size, chunk):
        block = flat[start : start + chunk]
        out[start : start + chunk] = special.ndtr(block[:, None] * scales).mean(axis=1)
    return out.reshape(t.shape)


def bartlett_kernels(width: int, depth: int, rho0: float, n: int, rng: np.random.Generator) -> np.ndarray:
    """n exact draws of K_L (shape (n, 2, 2)) at finite (N, L) for two unit inputs of overlap ρ0.

    Reduced Bartlett sampler: ZᵀZ ~ Wishart_2(N, I) = AAᵀ with A lower triangular, A_11 = √χ²_N, A_22 = √χ²_{N−1},
    A_21 ~ N(0, 1), all independent (Bartlett decomposition). With K_{l−1} = GᵀG, K_l = Gᵀ(AAᵀ/N)G = G′ᵀG′ with
    G′ = AᵀG/√N, and the rotation invariance of Z makes any square root G of K_{l−1} give the same law; G stays
    upper triangular, G_0 = chol(K_0)ᵀ = [[1, ρ0], [0, √(1 − ρ0²)]]. O(L) per draw, vectorised over the draws;
    per layer the draws are A_11, A_21, A_22 (n each). Needs N ≥ P = 2 (Bassetti–Ladelli–Rotondo,
    arXiv 2411.15267, the product of Wishart factors; docs/deep_linear.md, 'Simulations and statistics').
    """
    if width < 2 or depth < 0:
        raise ValueError(f"the Bartlett sampler needs width ≥ 2 (P = 2) and depth ≥ 0, got {width}, {depth}")
    if not -1.0 <= rho0 <= 1.0:
        raise ValueError(f"rho0 must lie in [−1, 1], got {rho0}")
    n = int(n)
    g11 = np.ones(n)
    g12 = np.full(n, float(rho0))
    g22 = np.full(n, math.sqrt(1.0 - rho0 * rho0))
    scale = 1.0 / math.sqrt(width)
    for _ in range(int(depth)):
        a11 = np.sqrt(rng.chisquare(width, size=n))
        a21 = rng.standard_normal(n)
        a22 = np.sqrt(rng.chisquare(width - 1, size=n))
        g11, g12, g22 = a11 * g11 * scale, (a11 * g12 + a21 * g22) * scale, a22 * g22 * scale
    kernels = np.empty((n, 2, 2))
    kernels[:, 0, 0] = g11 * g11
    kernels[:, 0, 1] = kernels[:, 1, 0] = g11 * g12
    kernels[:, 1, 1] = g12 * g12 + g22 * g22
    return kernels


def _euler_steps(a: float, dt: float) -> np.ndarray:
    """Steps of dt summing to a, the last one shortened (a rounding remainder is folded into the last step)."""
    full = int(math.floor(a / dt))
    steps = np.full(full, float(dt))
    remainder = a - full * dt
    if remainder > 1e-9 * dt or full == 0:
        steps = np.append(steps, remainder)
    else:
        steps[-1] += remainder
    return steps


def limit_correlation_draws(a: float, rho0: float, n: int, dt: float, rng: np.random.Generator) -> np.ndarray:
    """n draws of the correlation r(a) = K12/√(K11K22) of the limit dK = K^{1/2} dW K^{1/2}.

    Itô's formula gives dr = −½ r(1 − r²) dt + (1 − r²) dW; in s = artanh r the noise is additive,
    ds = ½ tanh(s) dt + dW, s(0) = artanh ρ0, integrated by Euler–Maruyama with steps dt (the last one shortened to
    land exactly on a; dt = 2e-3 biases E r by < 1e-4), one standard normal vector of length n per step
    (Bassetti–Ladelli–Rotondo, arXiv 2411.15267; docs/deep_linear.md, 'The limit L/N → a'). |ρ0| = 1 and a = 0
    are fixed points: r = ρ0.
    """
    if a < 0 or dt <= 0:
        raise ValueError(f"limit_correlation_draws needs a ≥ 0 and dt > 0, got a = {a}, dt = {dt}")
    if not -1.0 <= rho0 <= 1.0:
        raise ValueError(f"rho0 must lie in [−1, 1], got {rho0}")
    n = int(n)
    if a == 0 or abs(rho0) == 1.0:
        return np.full(n, float(rho0))
    s = np.full(n, math.atanh(rho0))
    for step in _euler_steps(a, dt):
        s += 0.5 * np.tanh(s) * step + math.sqrt(step) * rng.standard_normal(n)
    return np.tanh(s)


def correlation(kernels: np.ndarray) -> np.ndarray:
    """The correlation r = K12/√(K11K22) of each (2, 2) kernel in an (n, 2, 2) array (the dependence between
    the two inputs' outputs that the proportional limit keeps random; docs/deep_linear.md, 'Model')."""
    kernels = np.asarray(kernels, dtype=float)
    return kernels[..., 0, 1] / np.sqrt(kernels[..., 0, 0] * kernels[..., 1, 1])
