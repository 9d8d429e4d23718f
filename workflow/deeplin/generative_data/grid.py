"""The jobs of a study's generative-data section, as the rules name them. Standard library only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def label(value: float) -> str:
    """How λ or α appears in a path (and in its wildcard): repr of the float, e.g. 0.001, 1.0."""
    return repr(float(value))


def sgd_cells(section: Mapping[str, Any]) -> list[dict]:
    """Every (generator, N) of the SGD and local-field jobs."""
    return [{"generator": g, "width": n} for g in section["generators"] for n in section["sgd"]["widths"]]


def generator_cells(section: Mapping[str, Any]) -> list[dict]:
    """Every (generator, N) whose moments some job needs: the SGD widths and the ridge width."""
    widths = sorted({*section["sgd"]["widths"], section["ridge"]["width"]})
    return [{"generator": g, "width": n} for g in section["generators"] for n in widths]


def ridge_points(section: Mapping[str, Any]) -> list[dict]:
    """Every ridge point (generator, N, λ, α)."""
    ridge = section["ridge"]
    return [
        {"generator": g, "width": ridge["width"], "lam": label(lam), "alpha": label(alpha)}
        for g in section["generators"]
        for lam in ridge["lambdas"]
        for alpha in ridge["alphas"]
    ]


def at(pattern: str, cells: list[dict]) -> list[str]:
    """A path ``pattern`` formatted at every cell."""
    return [str(pattern).format(**cell) for cell in cells]
