"""Deep teachers, their equivalent-GLM twins, and the data sets of one simulation point.

Normalisation (docs/deep_equivalence.md, 'Deep teacher and Bayes-optimal student'): x ~ N(0, I/d0);
X⁽ˡ⁾ = φ(W⁽ˡ⁾ X⁽ˡ⁻¹⁾)/√d_l with W⁽ˡ⁾ iid N(0,1); output h = aᵀX⁽ᴸ⁾,
Y = f(h) + √Δ Z (or sign(h + √Δ Z)). Every random stream is derived from (model name, width, α, seed index,
purpose), so adding grid points never changes existing ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..activations import get_activation, get_readout
from ..seeding import derived_seed


def point_seed(model: str, width: int, alpha: float, seed: int, purpose: str) -> int:
    """A 63-bit seed for one random stream of one simulation point (stable across runs and grids)."""
    return derived_seed(model, f"d0={int(width)}", f"alpha={float(alpha)!r}", f"seed={int(seed)}", purpose)


def hidden_widths(width: int, ratios: Sequence[float]) -> list[int]:
    """d_l = round(ratio_l · d0), at least 1 (the model's width_ratios)."""
    return [max(1, round(r * width)) for r in ratios]


def sample_count(width: int, alpha: float) -> int:
    """n = round(α d0), at least 1."""
    return max(1, round(alpha * width))


def deep_forward(
    x: np.ndarray, weights: Sequence[np.ndarray], readout_weights: np.ndarray, activation: str
) -> np.ndarray:
    """Pre-readout output h = aᵀX⁽ᴸ⁾ for inputs x (rows), X⁽ˡ⁾ = φ(W⁽ˡ⁾ X⁽ˡ⁻¹⁾)/√d_l."""
    act = get_activation(activation)
    layer = x
    for w in weights:
        layer = act.fn(layer @ w.T) / math.sqrt(w.shape[0])  # φ(W X)/√d_l, d_l = width produced
    return layer @ readout_weights


def labels(h: np.ndarray, readout: str, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Noisy labels: f(h) + √Δ Z for Gaussian readouts, sign(h + √Δ Z) for the sign readout."""
    spec = get_readout(readout)
    z = rng.standard_normal(h.shape)
    if spec.likelihood == "probit":
        return np.where(h + math.sqrt(noise) * z >= 0, 1.0, -1.0)
    return spec.fn(h) + math.sqrt(noise) * z


def clean_output(h: np.ndarray, readout: str) -> np.ndarray:
    """The noiseless teacher output f(h) (sign(h) for the sign readout)."""
    spec = get_readout(readout)
    if spec.likelihood == "probit":
        return np.where(h >= 0, 1.0, -1.0)
    return spec.fn(h)


def inputs(rng: np.random.Generator, count: int, width: int) -> np.ndarray:
    """``count`` inputs x ~ N(0, I/d0), rounded once to float32 (the stored values are the values used)."""
    # Stored as float32 on disk: draw, round to float32 once, and compute everything from the rounded
    # values so that the stored data are exactly the data the labels were made from.
    return (rng.standard_normal((count, width)) / math.sqrt(width)).astype(np.float32).astype(np.float64)


@dataclass(frozen=True)
class PointData:
    """Everything later steps need for one (model, d0, α, seed) point."""

    x_train: np.ndarray  # (n, d0)
    y_train: np.ndarray  # (n,)
    x_test: np.ndarray  # (n_test, d0)
    y_test: np.ndarray  # (n_test,) noisy test labels
    clean_test: np.ndarray  # (n_test,) f(h) of the teacher
    h_test: np.ndarray  # (n_test,) teacher pre-readout outputs
    weights: tuple[np.ndarray, ...]  # teacher W_1 … W_L
    readout_weights: np.ndarray  # teacher a
    glm_v: np.ndarray  # (d0,) the equivalent GLM's teacher vector
    glm_y_train: np.ndarray  # GLM labels on the same training inputs
    glm_y_test: np.ndarray
    glm_clean_test: np.ndarray  # f(η0 vᵀx + √γ0 ξ) on the test inputs

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat name → array mapping for np.savez."""
        arrays = {k: v for k, v in self.__dict__.items() if k != "weights"}
        arrays.update({f"weight_{i + 1}": w for i, w in enumerate(self.weights)})
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> PointData:
        """Inverse of to_arrays (arrays as loaded by np.load)."""
        names = sorted((k for k in arrays if k.startswith("weight_")), key=lambda k: int(k.split("_")[1]))
        fields = {k: np.asarray(arrays[k], dtype=np.float64) for k in arrays if not k.startswith("weight_")}
        return cls(weights=tuple(np.asarray(arrays[k], dtype=np.float64) for k in names), **fields)


def make_point(
    model_name: str,
    model: dict,
    width: int,
    alpha: float,
    seed: int,
    test_size: int,
    eta0: float,
    gamma0: float,
) -> PointData:
    """Teacher weights, training/test data and the GLM twin's labels for one simulation point."""
    widths = [width, *hidden_widths(width, model["width_ratios"])]
    n = sample_count(width, alpha)

    def stream(purpose: str) -> np.random.Generator:
        return np.random.default_rng(point_seed(model_name, width, alpha, seed, purpose))

    teacher = stream("teacher")
    weights = tuple(teacher.standard_normal((widths[i + 1], widths[i])) for i in range(len(widths) - 1))
    readout_weights = teacher.standard_normal(widths[-1])
    x_train, x_test = inputs(stream("x_train"), n, width), inputs(stream("x_test"), test_size, width)
    h_train = deep_forward(x_train, weights, readout_weights, model["activation"])
    h_test = deep_forward(x_test, weights, readout_weights, model["activation"])
    label_rng = stream("labels")
    y_train = labels(h_train, model["readout"], model["noise"], label_rng)
    y_test = labels(h_test, model["readout"], model["noise"], label_rng)

    glm = glm_data(x_train, x_test, eta0, gamma0, model["readout"], model["noise"], stream("glm"))
    return PointData(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        clean_test=clean_output(h_test, model["readout"]),
        h_test=h_test,
        weights=weights,
        readout_weights=readout_weights,
        glm_v=glm.v,
        glm_y_train=glm.y_train,
        glm_y_test=glm.y_test,
        glm_clean_test=glm.clean_test,
    )


@dataclass(frozen=True)
class GLMData:
    """The equivalent GLM's teacher and labels on given inputs."""

    v: np.ndarray  # (d0,) teacher vector, v ~ N(0, I)
    h_train: np.ndarray  # η0 vᵀx + √γ0 ξ on the training inputs
    h_test: np.ndarray
    y_train: np.ndarray  # noisy labels
    y_test: np.ndarray
    clean_test: np.ndarray  # f(h) (sign(h) for the sign readout) on the test inputs


def glm_data(
    x_train: np.ndarray,
    x_test: np.ndarray,
    eta0: float,
    gamma0: float,
    readout: str,
    noise: float,
    rng: np.random.Generator,
) -> GLMData:
    """The equivalent GLM (Camilli et al. 2025) on the given inputs.

    h = η0 vᵀx + √γ0 ξ with its own v ~ N(0, I) and ξ ~ N(0, 1) per sample, labels as for the deep teacher.
    The one generator of GLM data: the pipeline's points and the GAMP tests use it alike.
    """
    v = rng.standard_normal(x_train.shape[1])
    h_train = eta0 * (x_train @ v) + math.sqrt(gamma0) * rng.standard_normal(x_train.shape[0])
    h_test = eta0 * (x_test @ v) + math.sqrt(gamma0) * rng.standard_normal(x_test.shape[0])
    return GLMData(
        v=v,
        h_train=h_train,
        h_test=h_test,
        y_train=labels(h_train, readout, noise, rng),
        y_test=labels(h_test, readout, noise, rng),
        clean_test=clean_output(h_test, readout),
    )
