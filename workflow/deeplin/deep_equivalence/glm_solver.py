"""Replica-symmetric fixed point of the equivalent GLM: q, q̂, errors, free entropy, mutual information.

Gaussian prior ⇒ q = q̂/(1+q̂), q̂ = α Q(q) (docs/deep_equivalence.md, 'Replica-symmetric GLM theory'). The solver
scans F_α(q) = αQ/(1+αQ) − q on a grid in [0, 1) shared by every α of a curve, brackets every sign
change, refines each root with Brent's method to |Δq| ≤ 1e-13, and picks among stable roots the one of
largest free entropy f_RS(q, q̂) = ½(q̂ − log(1+q̂)) − q q̂/2 + α ψ_out(q) (Barbier et al., PNAS 2019,
Gaussian prior).
It never returns an unconverged value: a failed refinement raises.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize

from .glm_channels import Channel

Q_TOLERANCE = 1e-13
_Q_TOP = 1.0 - 1e-12


@dataclass(frozen=True)
class FixedPoint:
    """The selected replica-symmetric fixed point at one α, with what it implies."""

    alpha: float
    q: float
    q_hat: float
    error: float
    error_noisy: float
    free_entropy: float
    mutual_information: float | None
    n_roots: int
    roots: tuple[float, ...]

    def to_dict(self) -> dict:
        """JSON-friendly representation."""
        return asdict(self)


class FixedPointError(RuntimeError):
    """The fixed-point iteration could not be brought to the requested accuracy."""


def free_entropy(channel: Channel, alpha: float, q: float) -> float:
    """f_RS at the stationary q̂ = αQ(q): prior part ½(q̂ − log(1+q̂)) − q q̂/2 + α ψ_out(q)."""
    q_hat = alpha * channel.fisher(q)
    return 0.5 * (q_hat - math.log1p(q_hat)) - 0.5 * q * q_hat + alpha * channel.psi_out(q)


def mutual_information(channel: Channel, alpha: float, q: float) -> float | None:
    """I(v, ξ; Y)/n = H(Y)/n − H(Y | v, ξ)/n = −f_RS/α − H(Y|v,ξ)/n (None when infinite, Δ = 0)."""
    closed = getattr(channel, "mutual_information", None)
    if closed is not None:
        return closed(alpha)
    conditional = channel.conditional_entropy()
    if conditional is None:
        return None
    return -free_entropy(channel, alpha, q) / alpha - conditional


def scan_grid(points: int, top: float = _Q_TOP) -> np.ndarray:
    """q-grid on [0, top] denser near both ends, where overlaps saturate: q_i = top·sin²(π i / 2N)."""
    return top * np.sin(0.5 * np.pi * np.arange(points + 1) / points) ** 2


def scan_top(channel: Channel, alpha_max: float) -> float:
    """An upper end for the root scan with F < 0 there for every α ≤ alpha_max.

    With Q ≤ B, F_α(q) < 0 once q/(1−q) > αB, so every root lies below A/(1+A), A = α_max·B; the scan
    stops at 2A/(1+2A), which keeps s² = η0²(1−q) + γ0 away from 0 when γ0 = 0.
    """
    a = alpha_max * channel.fisher_bound()
    return _Q_TOP if not math.isfinite(a) else min(_Q_TOP, 2.0 * a / (1.0 + 2.0 * a))


def find_roots(channel: Channel, alpha: float, grid: np.ndarray, fisher_on_grid: np.ndarray) -> list[float]:
    """All roots of F_α(q) = αQ/(1+αQ) − q bracketed by sign changes on the grid, each refined."""

    def residual(q: float) -> float:
        q_hat = alpha * channel.fisher(q)
        return q_hat / (1.0 + q_hat) - q

    values = alpha * fisher_on_grid / (1.0 + alpha * fisher_on_grid) - grid
    if values[-1] > 0:
        raise FixedPointError(
            f"F(q) > 0 at the top of the scan (q={grid[-1]:.15g}, alpha={alpha}): a root may lie above "
            "it, which contradicts the channel's Fisher bound"
        )
    roots: list[float] = []
    for i in range(len(grid) - 1):
        lo, hi = grid[i], grid[i + 1]
        if values[i] == 0.0:
            roots.append(float(lo))
            continue
        if values[i] * values[i + 1] > 0:
            continue
        root, info = optimize.brentq(
            residual, lo, hi, xtol=Q_TOLERANCE, rtol=4 * np.finfo(float).eps, full_output=True
        )
        if not info.converged:
            raise FixedPointError(f"Brent refinement did not converge at alpha={alpha}: {info.flag}")
        roots.append(float(root))
    if values[-1] == 0.0:
        roots.append(float(grid[-1]))
    if not roots:
        raise FixedPointError(
            f"no fixed point bracketed in [0, 1) at alpha={alpha}: F(0)={values[0]:.3g}, "
            f"F(1)={values[-1]:.3g}"
        )
    return roots


def _is_stable(channel: Channel, alpha: float, q: float) -> bool:
    """A root is stable when the iteration map crosses the diagonal from above (F decreasing)."""
    step = 1e-6
    lo, hi = max(q - step, 0.0), min(q + step, _Q_TOP)
    return _map(channel, alpha, hi) - hi <= _map(channel, alpha, lo) - lo


def _map(channel: Channel, alpha: float, q: float) -> float:
    q_hat = alpha * channel.fisher(q)
    return q_hat / (1.0 + q_hat)


def solve_curve(channel: Channel, alphas: Sequence[float], scan_points: int = 48) -> list[FixedPoint]:
    """The Bayes-optimal fixed point at every α (Barbier et al., PNAS 2019), scanning for all roots first."""
    alphas = [float(a) for a in alphas]
    if any(not (a > 0 and math.isfinite(a)) for a in alphas):
        raise ValueError(f"alphas must be positive and finite, got {alphas}")
    exact = [channel.exact_q(a) for a in alphas]
    grid = fisher_on_grid = None
    if any(q is None for q in exact):
        grid = scan_grid(scan_points, scan_top(channel, max(alphas)))
        fisher_on_grid = np.array([channel.fisher(q) for q in grid])
    results = []
    for alpha, q_exact in zip(alphas, exact, strict=True):
        if q_exact is not None:
            roots = [q_exact]  # unique: the quadratic's roots have product −D/η0² ≤ 0
        else:
            roots = find_roots(channel, alpha, grid, fisher_on_grid)
        results.append(_select(channel, alpha, roots))
    return results


def solve(channel: Channel, alpha: float, scan_points: int = 48) -> FixedPoint:
    """Fixed point at a single α."""
    return solve_curve(channel, [alpha], scan_points)[0]


def _select(channel: Channel, alpha: float, roots: list[float]) -> FixedPoint:
    """Among stable roots keep the one of largest free entropy; report how many roots were found."""
    if len(roots) == 1:
        q = roots[0]
    else:
        stable = [q for q in roots if _is_stable(channel, alpha, q)] or roots
        q = max(stable, key=lambda r: free_entropy(channel, alpha, r))
    # At a fixed point q = q̂/(1+q̂) exactly, so q̂ = q/(1−q) holds for every channel, Δ = 0 included.
    q_hat = q / (1.0 - q) if q < 1.0 else math.inf
    error, error_noisy = channel.errors(q)
    # The free entropy is finite only when Y | v, ξ has a density (Δ > 0) or is discrete (sign).
    finite = channel.conditional_entropy() is not None
    return FixedPoint(
        alpha=alpha,
        q=q,
        q_hat=q_hat,
        error=error,
        error_noisy=error_noisy,
        free_entropy=free_entropy(channel, alpha, q) if finite else math.nan,
        mutual_information=mutual_information(channel, alpha, q),
        n_roots=len(roots),
        roots=tuple(roots),
    )
