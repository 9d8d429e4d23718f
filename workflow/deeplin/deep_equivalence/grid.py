"""The simulation grid of a study and what its jobs request: the rules build their targets from these.
Standard library only, so that the rules can import it while Snakemake parses them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def alpha_label(alpha: float) -> str:
    """How α appears in a path (and in the `alpha` wildcard): repr of the float, e.g. 2.0, 0.5, 1e-05."""
    return repr(float(alpha))


def grid_points(section: Mapping[str, Any]) -> list[dict]:
    """Every (model, width, alpha, seed) point of the section's simulation grid, in a stable order."""
    sim = section["simulation"]
    return [
        {"model": model, "width": width, "alpha": alpha_label(alpha), "seed": seed}
        for model in sim["models"]
        for width in sim["widths"]
        for alpha in sim["alphas"]
        for seed in range(sim["seeds"])
    ]


def at_points(pattern: str, points: list[dict]) -> list[str]:
    """A per-point path ``pattern`` ({model}, {width}, {alpha}, {seed}) at every point."""
    return [str(pattern).format(**point) for point in points]


def gpu_request(sampler: Mapping[str, Any]) -> dict:
    """The posterior jobs' GPU resources (sampler.gpus, sampler.gpu_model); the SLURM executor makes them --gpus."""
    if not sampler["gpus"]:
        return {}
    request: dict = {"gpu": sampler["gpus"]}
    if sampler["gpu_model"]:
        request["gpu_model"] = sampler["gpu_model"]
    return request
