"""The theory stage: layer coefficients plus the equivalent GLM's Bayes-optimal curve (docs/deep_equivalence.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .glm_channels import make_channel
from .glm_solver import solve_curve
from .layers import LayerCoefficients, layer_coefficients

CURVE_COLUMNS = (
    "activation",
    "depth",
    "readout",
    "noise",
    "alpha",
    "eta0",
    "gamma0",
    "q",
    "q_hat",
    "error",
    "error_noisy",
    "mutual_information",
    "n_roots",
)


def alpha_grid(alpha_min: float, alpha_max: float, num: int, spacing: str = "log") -> np.ndarray:
    """The α grid of a theory curve (geometric by default: learning curves span decades)."""
    if num == 1:
        return np.array([float(alpha_min)])
    if spacing == "log":
        return np.geomspace(alpha_min, alpha_max, num)
    if spacing == "linear":
        return np.linspace(alpha_min, alpha_max, num)
    raise ValueError(f"spacing must be 'log' or 'linear', got {spacing!r}")


def theory_curve(
    activation: str,
    depth: int,
    readout: str,
    noise: float,
    alphas: Sequence[float],
    scan_points: int = 48,
) -> tuple[LayerCoefficients, list[dict]]:
    """Coefficients η0, γ0 of the deep model and one row (CURVE_COLUMNS) per α of the GLM theory."""
    coefficients = layer_coefficients(activation, depth)
    channel = make_channel(readout, coefficients.eta0, coefficients.gamma0, noise)
    rows = []
    for point in solve_curve(channel, alphas, scan_points=scan_points):
        mi = point.mutual_information
        rows.append(
            {
                "activation": activation,
                "depth": depth,
                "readout": readout,
                "noise": float(noise),
                "alpha": point.alpha,
                "eta0": coefficients.eta0,
                "gamma0": coefficients.gamma0,
                "q": point.q,
                "q_hat": point.q_hat,
                "error": point.error,
                "error_noisy": point.error_noisy,
                "mutual_information": None if mi is None or not math.isfinite(mi) else float(mi),
                "n_roots": point.n_roots,
            }
        )
    return coefficients, rows
