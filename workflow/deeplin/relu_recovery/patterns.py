"""Hyperplane-arrangement patterns D_j = diag(1[X h_j >= 0]) of the data: sampled from Gaussian directions,
deduplicated, completed by the all-ones pattern when an LP finds it (and by a pattern the caller needs)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

# t* above this counts as a strictly positive margin: the all-ones pattern exists.
ALL_ONES_MARGIN = 1e-9


def all_ones_margin(x: np.ndarray) -> float:
    """max t s.t. X h >= t·1, −1 <= h <= 1, t <= 1 (HiGHS): > 0 iff some h puts every point strictly on its
    positive side, i.e. the all-ones pattern is realised (the points lie in an open half space)."""
    n, d = x.shape
    # variables (h, t); minimise −t; constraints −X h + t·1 <= 0
    cost = np.zeros(d + 1)
    cost[-1] = -1.0
    result = linprog(
        cost,
        A_ub=np.hstack([-x, np.ones((n, 1))]),
        b_ub=np.zeros(n),
        bounds=[(-1.0, 1.0)] * d + [(None, 1.0)],
        method="highs",
    )
    if result.status != 0:
        raise RuntimeError(f"the all-ones LP failed: {result.message}")
    return float(-result.fun)


def has_all_ones(x: np.ndarray) -> bool:
    """Whether the all-ones pattern exists (all_ones_margin > ALL_ONES_MARGIN)."""
    return all_ones_margin(x) > ALL_ONES_MARGIN


def unique_columns(masks: np.ndarray) -> np.ndarray:
    """The distinct columns of a 0/1 matrix, in order of first appearance (duplicates would make the group
    lasso non-unique for no reason)."""
    _, first = np.unique(masks.T, axis=0, return_index=True)
    return masks[:, np.sort(first)]


def sample_patterns(x: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Distinct patterns 1[X h >= 0] of ``count`` directions h ~ N(0, I_d), as an (n, P) 0/1 int8 matrix."""
    directions = rng.standard_normal((x.shape[1], count))
    return unique_columns((x @ directions >= 0).astype(np.int8))


def all_patterns(x: np.ndarray) -> np.ndarray:
    """Every pattern of a small instance in general position, by dense Gaussian sampling until Cover's count
    is reached (at most 4 million directions; for tests and tiny n, d only)."""
    from .theory import cover_count

    target = cover_count(*x.shape)
    rng = np.random.default_rng(0)
    found = np.zeros((x.shape[0], 0), dtype=np.int8)
    for _ in range(200):
        found = unique_columns(np.hstack([found, sample_patterns(x, 20000, rng)]))
        if found.shape[1] >= target:
            break
    return found


def with_pattern(masks: np.ndarray, pattern: np.ndarray) -> tuple[np.ndarray, int]:
    """``masks`` with ``pattern`` appended unless present; returns the matrix and the pattern's column."""
    pattern = np.asarray(pattern, dtype=np.int8)
    hits = np.flatnonzero((masks == pattern[:, None]).all(axis=0))
    if hits.size:
        return masks, int(hits[0])
    return np.hstack([masks, pattern[:, None]]), masks.shape[1]
