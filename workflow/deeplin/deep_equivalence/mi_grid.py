"""The mutual-information points of a study and their ladders: the rules build their targets from these.

A point is (model, d0, α, seed) as in the simulation grid; its rungs are the ladder's signal-to-noise
ratios s_k (deeplin.deep_equivalence.mutual_information), one posterior job each. A rung's path holds its s_k,
so adding a seed or changing the ladder adds only the jobs of the new rungs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..activations import get_readout
from .grid import alpha_label
from .groups import rung_group
from .layers import gaussian_expectation, layer_coefficients
from .mutual_information import Ladder, make_ladder


def prior_variance(model: Mapping) -> float:
    """E f(√σ_L Z)², the prior variance of a training output U = f(h) (h ≈ N(0, σ_L) at large width;
    Camilli et al. 2025, arXiv 2505.03577, the σ_L recursion)."""
    sigma_l = layer_coefficients(model["activation"], model["depth"]).sigma_L
    if model["readout"] == "linear":
        return sigma_l
    readout = get_readout(model["readout"])
    return gaussian_expectation(lambda h: float(readout.fn(h)) ** 2, sigma_l)[0]


def model_ladder(model: Mapping, rungs: int) -> Ladder:
    """The ladder of a model: s from 0 to 1/Δ, s0 scaled by the prior variance of its outputs."""
    return make_ladder(1.0 / model["noise"], prior_variance(model), rungs)


def snr_labels(model: Mapping, rungs: int) -> list[str]:
    """The rungs' s_k as they appear in paths (repr: the value read back is the value used)."""
    return [repr(float(s)) for s in model_ladder(model, rungs).snr]


def mi_points(section: Mapping[str, Any]) -> list[dict]:
    """Every (model, width, alpha, seed) point of the section's mutual_information grid, in a stable order."""
    mi = section.get("mutual_information", {})
    return [
        {"model": model, "width": width, "alpha": alpha_label(alpha), "seed": seed}
        for model in mi.get("models", [])
        for width in mi["widths"]
        for alpha in mi["alphas"]
        for seed in range(mi["seeds"])
    ]


def rung_points(section: Mapping[str, Any]) -> list[dict]:
    """Every (point, snr) rung of the mutual_information grid."""
    rungs = section.get("mutual_information", {}).get("rungs", 8)
    labels = {
        name: snr_labels(section["models"][name], rungs)
        for name in section.get("mutual_information", {}).get("models", [])
    }
    return [{**point, "snr": snr} for point in mi_points(section) for snr in labels[point["model"]]]


def rung_dirs(section: Mapping[str, Any], pattern: str, wildcards) -> list[str]:
    """The rung folders of one point (``pattern`` with {model}, {width}, {alpha}, {seed}, {snr}), in ladder
    order (the rules' inputs of a point's mutual information)."""
    point = dict(wildcards.items())
    labels = snr_labels(section["models"][point["model"]], section["mutual_information"]["rungs"])
    return [pattern.format(**point, snr=label) for label in labels]


def rung_group_labels(section: Mapping[str, Any], model: str, first: int | str, last: int | str) -> list[str]:
    """The rung labels of group rungs{first}-{last} of a point of ``model`` (sampler.points_per_job > 1)."""
    labels = snr_labels(section["models"][model], section["mutual_information"]["rungs"])
    return labels[int(first) : int(last) + 1]


def rung_group_dir(section: Mapping[str, Any], pattern: str, per_job: int, wildcards) -> str:
    """The folder (``pattern`` with the point's wildcards, {first} and {last}) of the group job that samples
    the rung of ``wildcards`` (model, width, alpha, seed, snr)."""
    point = dict(wildcards.items())
    labels = snr_labels(section["models"][point["model"]], section["mutual_information"]["rungs"])
    first, last = rung_group(labels, per_job, point.pop("snr"))
    return pattern.format(**point, first=first, last=last)
