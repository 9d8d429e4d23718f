"""One random instance of the recovery problem: Gaussian data, a planted unit neuron and its labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODELS = ("linear_skip", "relu_plain")
DIRECTIONS = ("random", "smallest_singular")


@dataclass(frozen=True)
class Instance:
    """Data X (n, d), planted unit neuron w, noiseless labels f(X) and a unit-variance noise draw ε (n,)."""

    x: np.ndarray
    w: np.ndarray
    clean: np.ndarray
    noise: np.ndarray

    def labels(self, level: float) -> np.ndarray:
        """y = f(X) + σ ε/√n: with X_ij ~ N(0, 1/n) and |w| = 1, |f(X)| is O(1), so σ is the noise-to-signal
        ratio of the label vector (|σ ε/√n| ≈ σ)."""
        return self.clean + level * self.noise / np.sqrt(len(self.clean))


def gaussian_data(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """X with iid N(0, 1/n) entries (the scale changes no optimum, only the solver's conditioning)."""
    return rng.standard_normal((n, d)) / np.sqrt(n)


def planted_direction(x: np.ndarray, direction: str, rng: np.random.Generator) -> np.ndarray:
    """The planted unit neuron: uniform on the sphere ('random') or the right singular vector of X of the
    smallest singular value ('smallest_singular', the direction that makes |Xw| smallest; sign fixed so
    that its largest entry in absolute value is positive)."""
    d = x.shape[1]
    if direction == "random":
        w = rng.standard_normal(d)
        return w / np.linalg.norm(w)
    if direction == "smallest_singular":
        w = np.linalg.svd(x, full_matrices=False)[2][-1]
        return w * np.sign(w[np.argmax(np.abs(w))])
    raise ValueError(f"unknown planted direction {direction!r} (one of {', '.join(DIRECTIONS)})")


def planted_labels(x: np.ndarray, w: np.ndarray, model: str) -> np.ndarray:
    """f(X) of the planted model: Xw (a linear neuron, learnt through the skip connection) or (Xw)_+ (one
    ReLU neuron of a network without skip)."""
    if model == "linear_skip":
        return x @ w
    if model == "relu_plain":
        return np.maximum(x @ w, 0.0)
    raise ValueError(f"unknown planted model {model!r} (one of {', '.join(MODELS)})")


def planted_pattern(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The activation pattern 1[Xw >= 0] of the planted ReLU neuron."""
    return (x @ w >= 0).astype(np.int8)


def draw_instance(
    n: int, d: int, model: str, direction: str, data_rng: np.random.Generator, noise_rng: np.random.Generator
) -> Instance:
    """One instance: X and (for 'random') w from ``data_rng``, the noise direction from ``noise_rng``."""
    x = gaussian_data(n, d, data_rng)
    w = planted_direction(x, direction, data_rng)
    return Instance(x, w, planted_labels(x, w, model), noise_rng.standard_normal(n))
