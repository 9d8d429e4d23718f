"""Gaussian averages of the two-layer network with g(z) = erf(z/√2), vectorised over index tuples.

z is a centred Gaussian vector with covariance C; the closed forms are those of Saad & Solla (1995, Phys. Rev.
E 52, 4225; eqs. for I2, I3, I4 in their appendix) written for erf(z/√2), as used by Goldt et al. 2020
(arXiv 2006.14709, appendix B). Every function takes index arrays that broadcast against each other and
returns an array of their broadcast shape.
"""

from __future__ import annotations

import numpy as np

TWO_OVER_PI = 2.0 / np.pi


def i2(C: np.ndarray, a, b) -> np.ndarray:
    """I2(a, b) = E g(z_a) g(z_b) = (2/π) asin(C_ab / √((1 + C_aa)(1 + C_bb)))."""
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    d = np.diagonal(C)
    return TWO_OVER_PI * np.arcsin(C[a, b] / np.sqrt((1 + d[a]) * (1 + d[b])))


def i3(C: np.ndarray, a, b, c) -> np.ndarray:
    """I3(a, b, c) = E g′(z_a) z_b g(z_c) = (2/π)[C_bc(1 + C_aa) − C_ab C_ac] / [(1 + C_aa)√Λ3],
    Λ3 = (1 + C_aa)(1 + C_cc) − C_ac² (Saad & Solla 1995, appendix; erf(·/√2) form)."""
    a, b, c = np.broadcast_arrays(np.asarray(a), np.asarray(b), np.asarray(c))
    d = np.diagonal(C)
    lam3 = (1 + d[a]) * (1 + d[c]) - C[a, c] ** 2
    return TWO_OVER_PI * (C[b, c] * (1 + d[a]) - C[a, b] * C[a, c]) / ((1 + d[a]) * np.sqrt(lam3))


def i4(C: np.ndarray, a, b, c, d) -> np.ndarray:
    """I4(a, b, c, d) = E g′(z_a) g′(z_b) g(z_c) g(z_d) = (4/π²) Λ4^{-1/2} asin(Λ0/√(Λ1Λ2))
    (Saad & Solla 1995, appendix; erf(·/√2) form; Λ's as in Goldt et al. 2020, appendix B)."""
    a, b, c, d = np.broadcast_arrays(*(np.asarray(i) for i in (a, b, c, d)))
    e = np.diagonal(C)
    lam4 = (1 + e[a]) * (1 + e[b]) - C[a, b] ** 2
    lam0 = (
        lam4 * C[c, d]
        - C[b, c] * C[b, d] * (1 + e[a])
        - C[a, c] * C[a, d] * (1 + e[b])
        + C[a, b] * C[a, c] * C[b, d]
        + C[a, b] * C[a, d] * C[b, c]
    )

    def lam_(x):
        return (
            lam4 * (1 + e[x])
            - C[b, x] ** 2 * (1 + e[a])
            - C[a, x] ** 2 * (1 + e[b])
            + 2 * C[a, b] * C[a, x] * C[b, x]
        )

    return (4 / np.pi**2) / np.sqrt(lam4) * np.arcsin(lam0 / np.sqrt(lam_(c) * lam_(d)))


def covariance(Q: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """C = [[Q, R], [Rᵀ, T]]: the covariance of (λ_1…λ_K, ν_1…ν_M)."""
    return np.block([[Q, R], [R.T, T]])


def generalisation_error(Q: np.ndarray, R: np.ndarray, T: np.ndarray, v=None, A=None) -> float:
    """eg = ½ E(ŷ − y)² with ŷ = Σ v_k g(λ_k), y = Σ A_m g(ν_m) (Goldt et al. 2020, eq. (8)):
    ½ sᵀ I2 s with s = (v, −A) over all fields."""
    K, M = R.shape
    s = np.concatenate([np.ones(K) if v is None else v, -(np.ones(M) if A is None else np.asarray(A))])
    idx = np.arange(K + M)
    return float(0.5 * s @ i2(covariance(Q, R, T), idx[:, None], idx[None, :]) @ s)


def generalisation_errors(Q: np.ndarray, R: np.ndarray, T: np.ndarray, v=None, A=None) -> np.ndarray:
    """eg for a batch of (Q, R) of shapes (..., K, K), (..., K, M) with a common T (same formula)."""
    Q, R = np.asarray(Q), np.asarray(R)
    flatQ, flatR = Q.reshape(-1, *Q.shape[-2:]), R.reshape(-1, *R.shape[-2:])
    out = np.array([generalisation_error(q, r, T, v, A) for q, r in zip(flatQ, flatR, strict=True)])
    return out.reshape(Q.shape[:-2])


def i3_students(C: np.ndarray, K: int) -> tuple[np.ndarray, np.ndarray]:
    """I3(k, k, b) and I3(k, b, b) for every student k < K and every field b, as (K, K+M) arrays: the same
    closed form as ``i3`` on slices of C instead of index arrays (the ODE calls this at every evaluation)."""
    d = np.diagonal(C)
    dk, ck = 1 + d[:K, None], C[:K]  # (K, 1), (K, L)
    lam3 = dk * (1 + d[None, :]) - ck**2
    same = TWO_OVER_PI * (ck * dk - d[:K, None] * ck) / (dk * np.sqrt(lam3))
    other = TWO_OVER_PI * (d[None, :] * dk - ck * ck) / (dk * np.sqrt(lam3))
    return same, other


def i4_students(C: np.ndarray, K: int) -> np.ndarray:
    """I4(k, l, c, d) for students k, l < K and all fields c, d, as a (K, K, K+M, K+M) array (``i4``'s closed
    form on broadcast slices of C)."""
    e = 1 + np.diagonal(C)
    ea, eb = e[:K, None, None, None], e[None, :K, None, None]
    cab = C[:K, :K][:, :, None, None]
    cac, cad = C[:K, None, :, None], C[:K, None, None, :]
    cbc, cbd = C[None, :K, :, None], C[None, :K, None, :]
    ecc, ecd = e[None, None, :, None], e[None, None, None, :]
    lam4 = ea * eb - cab**2
    lam0 = lam4 * C[None, None] - cbc * cbd * ea - cac * cad * eb + cab * cac * cbd + cab * cad * cbc
    lam1 = lam4 * ecc - cbc**2 * ea - cac**2 * eb + 2 * cab * cac * cbc
    lam2 = lam4 * ecd - cbd**2 * ea - cad**2 * eb + 2 * cab * cad * cbd
    return (4 / np.pi**2) / np.sqrt(lam4) * np.arcsin(lam0 / np.sqrt(lam1 * lam2))
