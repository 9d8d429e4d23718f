"""Closed forms of the recovery problem: Wendel's probability that n random points lie in an open half space
(the all-ones activation pattern exists), Cover's count of the hyperplane-arrangement patterns, and the
neural-isometry certificate of the planted neuron."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

# NIC below 1 − this certifies recovery. With the all-ones pattern in the set NIC equals 1 exactly, and it
# comes out as 1 ± a few 1e-16 in floating point; a margin far above rounding and far below any real gap
# keeps such ties uncertified.
CERTIFICATE_MARGIN = 1e-9


def cover_count(n: int, d: int) -> int:
    """Number of distinct patterns 1[Xh >= 0] of n points in general position in R^d through the origin:
    C(n, d) = 2 Σ_{k<d} binom(n−1, k) (Cover 1965, IEEE Trans. Electron. Comput. EC-14, Theorem 1)."""
    return 2 * sum(math.comb(n - 1, k) for k in range(min(d, n)))


def wendel_probability_exact(n: int, d: int) -> Fraction:
    """P(some h has Xh > 0) for n iid symmetric points in general position in R^d, as an exact fraction:
    2^{−(n−1)} Σ_{k=0}^{d−1} binom(n−1, k) (Wendel 1962, Math. Scand. 10, p. 109), = cover_count / 2^n."""
    if n < 1 or d < 1:
        raise ValueError(f"Wendel's probability needs n >= 1 and d >= 1, got n={n}, d={d}")
    return Fraction(sum(math.comb(n - 1, k) for k in range(min(d, n))), 2 ** (n - 1))


def wendel_probability(n: int, d: int) -> float:
    """Wendel's probability as a float (exact integer arithmetic first, one rounding at the end)."""
    return float(wendel_probability_exact(n, d))


def isometry_certificate(x: np.ndarray, masks: np.ndarray, w: np.ndarray, planted: int | None) -> float:
    """The neural-isometry value of the planted neuron w for the relaxed (group-lasso) program; < 1 proves
    that the planted model is its unique optimum (Wang, Hua, Candès, Pilanci 2022, arXiv 2209.15265, the
    neural isometry condition; here with the minimal-norm dual certificate).

    The planted model's active block is A = X (skip connection, ``planted`` None) or A = D*X (a planted ReLU
    neuron, ``planted`` = index of its pattern D* in ``masks``). KKT: (w, 0) with |w| = 1 is optimal iff some
    dual z has Aᵀz = w and |XᵀD_j z| <= 1 for every other group j; z = A(AᵀA)⁻¹w is one such candidate, so
    the value is max_j |XᵀD_j A (AᵀA)⁻¹ w| over the other groups (inf when AᵀA is singular)."""
    masks = np.asarray(masks, dtype=float)  # (n, P) of 0/1
    active = x if planted is None else x * masks[:, [planted]]
    gram = active.T @ active
    if np.linalg.matrix_rank(gram) < x.shape[1]:
        return math.inf
    z = active @ np.linalg.solve(gram, w / np.linalg.norm(w))
    norms = np.linalg.norm(x.T @ (masks * z[:, None]), axis=0)
    if planted is not None:
        norms = np.delete(norms, planted)
    return float(norms.max()) if norms.size else 0.0


def certified(value: float) -> bool:
    """Whether a neural-isometry value proves recovery (strictly below 1, by CERTIFICATE_MARGIN)."""
    return bool(value < 1.0 - CERTIFICATE_MARGIN)
