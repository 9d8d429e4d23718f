"""The generators x = G(c) of the inputs, c ~ N(0, I_D), and their population moments Ω = E xxᵀ, Φ = E xcᵀ.

- ``sign``: one layer x = sign(F c), F ∈ R^{N×D} with iid N(0, 1) entries and unit-norm rows. Its moments are
  exact: Ω = (2/π) arcsin(FFᵀ) (elementwise; the arcsine law of two correlated signs) and Φ = √(2/π) F
  (Stein's lemma, E Z sign Z = √(2/π)); Goldt et al. 2020 (arXiv 2006.14709), §2 and appendix A.
- ``deep_tanh``: ``layers`` random layers h_l = tanh(F_l h_{l-1}), h_0 = c, every F_l with unit-norm rows
  (the first D → N, the others N → N). Its Ω and Φ have no closed form and are estimated by Monte Carlo with
  their standard errors: the case that the rigorous Gaussian-equivalence theorem does not cover.

Both are odd in c, so E x = 0 exactly. ``linearised_moments`` gives the Gaussian-equivalent moments of the
layer-wise linearisation x ≈ κ1 F h + κ* z (Goldt et al. 2020, eq. (5); applied layer by layer, with each
unit's κ's taken at its pre-activation variance).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..seeding import derived_seed

log = logging.getLogger("deeplin.generative_data.generators")

GENERATORS = ("sign", "deep_tanh")


@dataclass(frozen=True)
class Generator:
    """A fixed generator: its kind and its weight matrices (first D → N, then N → N)."""

    kind: str
    weights: tuple[np.ndarray, ...]

    @property
    def width(self) -> int:
        return self.weights[-1].shape[0]

    @property
    def latent(self) -> int:
        return self.weights[0].shape[1]

    def __call__(self, c):
        """x = G(c) for latents c of shape (..., D): numpy arrays or torch tensors (with torch weights)."""
        return transform(self.kind, self.weights, c)


def transform(kind: str, weights, c):
    """Apply the layers to c (numpy or torch: the weights must be of the same kind)."""
    h = c
    for F in weights:
        a = h @ F.T
        if isinstance(a, np.ndarray):
            h = np.sign(a) if kind == "sign" else np.tanh(a)
        else:
            h = a.sign() if kind == "sign" else a.tanh()
    return h


def unit_rows(rng: np.random.Generator, rows: int, columns: int) -> np.ndarray:
    """iid N(0, 1) entries, each row scaled to unit Euclidean norm."""
    F = rng.standard_normal((rows, columns))
    return F / np.linalg.norm(F, axis=1, keepdims=True)


def make_generator(kind: str, width: int, latent: int, layers: int, seed: int) -> Generator:
    """The generator of ``kind`` at input width N and latent dimension D, drawn from the derived seed."""
    rng = np.random.default_rng(derived_seed("generative_data", kind, f"N={width}", f"D={latent}", seed, "F"))
    if kind == "sign":
        return Generator(kind, (unit_rows(rng, width, latent),))
    if kind == "deep_tanh":
        shapes = [(width, latent)] + [(width, width)] * (layers - 1)
        return Generator(kind, tuple(unit_rows(rng, *shape) for shape in shapes))
    raise ValueError(f"unknown generator {kind!r} (one of {', '.join(GENERATORS)})")


def sign_moments(F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact Ω = (2/π) arcsin(FFᵀ) and Φ = √(2/π) F of x = sign(Fc) with unit rows (Goldt et al. 2020, app. A)."""
    return (2 / np.pi) * np.arcsin(np.clip(F @ F.T, -1.0, 1.0)), np.sqrt(2 / np.pi) * F


@dataclass(frozen=True)
class Moments:
    """Ω (N, N), Φ (N, D), and the standard errors of their Monte Carlo estimates (zero when exact)."""

    omega: np.ndarray
    phi: np.ndarray
    omega_se: np.ndarray
    phi_se: np.ndarray
    samples: int


def monte_carlo_moments(
    generator: Generator, samples: int, seed: int, chunk: int = 10000, variance_samples: int = 20000
) -> Moments:
    """Ω = E xxᵀ and Φ = E xcᵀ by averaging over ``samples`` latents (E x = 0 by oddness, so no centring),
    with entrywise standard errors √((E x_i²x_j² − Ω_ij²)/n) and √((E x_i²c_j² − Φ_ij²)/n), whose fourth
    moments are estimated from the first ``variance_samples`` latents only (they set the error, not the value)."""
    rng = np.random.default_rng(seed)
    N, D = generator.width, generator.latent
    xx, xc = np.zeros((N, N)), np.zeros((N, D))
    x2x2, x2c2 = np.zeros((N, N)), np.zeros((N, D))
    done, fourth = 0, 0
    while done < samples:
        n = min(chunk, samples - done)
        c = rng.standard_normal((n, D))
        x = generator(c)
        xx += x.T @ x
        xc += x.T @ c
        if fourth < variance_samples:
            x2 = x * x
            x2x2 += x2.T @ x2
            x2c2 += x2.T @ (c * c)
            fourth += n
        done += n
    omega, phi = xx / samples, xc / samples
    omega = 0.5 * (omega + omega.T)
    omega_se = np.sqrt(np.maximum(x2x2 / fourth - omega**2, 0.0) / samples)
    phi_se = np.sqrt(np.maximum(x2c2 / fourth - phi**2, 0.0) / samples)
    return Moments(omega, phi, omega_se, phi_se, samples)


def exact_or_estimated_moments(generator: Generator, samples: int, seed: int) -> Moments:
    """The sign generator's exact moments, or the deep generator's Monte Carlo estimate."""
    if generator.kind == "sign":
        omega, phi = sign_moments(generator.weights[0])
        return Moments(omega, phi, np.zeros_like(omega), np.zeros_like(phi), 0)
    return monte_carlo_moments(generator, samples, seed)


def _hermite(order: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of E f(Z), Z ~ N(0, 1) (probabilists' Gauss–Hermite)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return nodes, weights / weights.sum()


def linearised_moments(generator: Generator) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-equivalent Ω_lin and Φ_lin of the layer-wise linearisation (Goldt et al. 2020, eq. (5)).

    A layer h = σ(a), a = F h_prev, is replaced by κ1 a + κ* z per unit, with s = Var a under the previous
    linearised layer, κ1 = E[√s Z σ(√s Z)]/s (Stein) and κ*² = E σ(√s Z)² − s κ1² (σ odd: κ0 = 0). Then
    Ω_l = K1 F Ω_{l-1} Fᵀ K1 + diag(κ*²) and Φ_l = K1 F Φ_{l-1}, from Ω_0 = Φ_0 = I_D. For one sign layer
    this is (2/π)FFᵀ + (1 − 2/π)I and Φ = √(2/π)F."""
    D = generator.latent
    omega, phi = np.eye(D), np.eye(D)
    nodes, weights = _hermite()
    for F in generator.weights:
        s = np.einsum("ij,jk,ik->i", F, omega, F)
        if generator.kind == "sign":
            kappa1, second = np.sqrt(2 / (np.pi * s)), np.ones_like(s)
        else:
            a = np.sqrt(s)[:, None] * nodes[None, :]
            kappa1 = (a * np.tanh(a)) @ weights / s
            second = np.tanh(a) ** 2 @ weights
        star = np.maximum(second - s * kappa1**2, 0.0)
        omega = kappa1[:, None] * (F @ omega @ F.T) * kappa1[None, :] + np.diag(star)
        phi = kappa1[:, None] * (F @ phi)
    return 0.5 * (omega + omega.T), phi


def conditional_root(omega: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """S^{1/2} with S = Ω − ΦΦᵀ ⪰ 0 (eigenvalues clipped at 0), so that x_G = Φc + S^{1/2}z has the
    generator's first two moments (Goldt et al. 2020, eq. (4))."""
    values, vectors = np.linalg.eigh(omega - phi @ phi.T)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
