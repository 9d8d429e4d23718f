"""The Gaussian-equivalence check of the local fields at initialisation (Goldt et al. 2020, §2, Theorem 1):
for a fixed delocalised student w, λ = w·x/√N on generator data is Gaussian with variance Q = wᵀΩw/N and
covariance R = wᵀΦBᵀ/√(ND) with the teacher's fields ν = Bc/√D. A sparse w (a few nonzero entries) is the
negative control: its λ is a sum of a few non-Gaussian inputs and the test must reject it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats


def sparse_student(rng: np.random.Generator, width: int, nonzeros: int) -> np.ndarray:
    """A student vector with ``nonzeros`` iid N(0, 1) entries at random places, zero elsewhere."""
    w = np.zeros(width)
    places = rng.permutation(width)[:nonzeros]
    w[places] = rng.standard_normal(nonzeros)
    return w


def field_statistics(
    students: Sequence[tuple[str, np.ndarray]],
    x: np.ndarray,
    c: np.ndarray,
    B: np.ndarray,
    omega: np.ndarray,
    omega_linear: np.ndarray,
    phi: np.ndarray,
) -> tuple[list[dict], dict[str, np.ndarray]]:
    """One row per student (label, w): second moment against Q (exact and linearised Ω), the largest
    z-score of E λν against R, the KS distances of λ/√Q and of the conditional residual
    (λ − R T⁻¹ν)/√(Q − R T⁻¹Rᵀ) from N(0, 1), and the excess kurtosis; plus the standardised fields."""
    n, N = x.shape
    D = c.shape[1]
    nu = c @ B.T / np.sqrt(D)
    T = B @ B.T / D
    rows, fields = [], {}
    for label, w in students:
        lam = x @ w / np.sqrt(N)
        Q, Q_lin = w @ omega @ w / N, w @ omega_linear @ w / N
        R = (w @ phi @ B.T) / np.sqrt(N * D)
        cross = lam @ nu / n
        # SE of the sample mean of λν_m: √(E λ²ν_m²/n) ≈ √(Q T_mm / n) for Gaussian fields (+ R², kept)
        cross_se = np.sqrt((Q * np.diag(T) + R**2) / n)
        coef = np.linalg.solve(T, R)
        residual = (lam - nu @ coef) / np.sqrt(Q - R @ coef)
        standard = lam / np.sqrt(Q)
        rows.append(
            {
                "student": label,
                "nonzeros": int(np.count_nonzero(w)),
                "samples": n,
                "second_moment": float(lam @ lam / n),
                "second_moment_se": float(np.sqrt(2 * Q**2 / n)),
                "Q_exact": float(Q),
                "Q_linearised": float(Q_lin),
                "cross_moment_max_z": float(np.max(np.abs(cross - R) / cross_se)),
                "ks_field": float(stats.kstest(standard, "norm").statistic),
                "ks_residual": float(stats.kstest(residual, "norm").statistic),
                "ks_critical": float(1.36 / np.sqrt(n)),
                "excess_kurtosis": float(stats.kurtosis(standard)),
                "kurtosis_se": float(np.sqrt(24.0 / n)),
            }
        )
        fields[label] = standard
    return rows, fields
