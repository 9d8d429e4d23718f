"""What each step of the deep-equivalence result reads from the study config: one slice per step.

A rule passes its step's slice as one JSON value (its only params), and the step validates it against the
schema (deeplin.config.validate_slice). So the slice is exactly what the step's numbers depend on: a change
inside it reruns the step, a change outside it does not (Snakemake's params trigger). Settings marked
``x-resource`` in the schema change no number and are left out; the rules pass them as resources.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import resource_keys
from ..diagnostics import verdict_thresholds

RESULT_ID = "deep_equivalence"
# The asymptotic theory depends on these model keys only (width ratios do not enter it).
THEORY_MODEL_KEYS = ("activation", "depth", "readout", "noise")


def _section(config: Mapping[str, Any]) -> Mapping[str, Any]:
    return config[RESULT_ID]


def theory_settings(config: Mapping[str, Any], model: str) -> dict:
    """One model's theory: its activation, depth, readout and noise, and the α grid."""
    section = _section(config)
    spec = section["models"][model]
    models = {model: {key: spec[key] for key in THEORY_MODEL_KEYS}}
    return {RESULT_ID: {"models": models, "theory": dict(section["theory"])}}


def data_settings(config: Mapping[str, Any], model: str) -> dict:
    """One model's simulation data: the whole model and the test-set size (the point is in the path)."""
    section = _section(config)
    simulation = {"test_size": section["simulation"]["test_size"]}
    return {RESULT_ID: {"models": {model: dict(section["models"][model])}, "simulation": simulation}}


def without_resources(name: str, values: Mapping[str, Any]) -> dict:
    """The settings of section ``name`` that change numbers (its ``x-resource`` keys left out)."""
    resources = resource_keys(RESULT_ID, name)
    return {key: value for key, value in values.items() if key not in resources}


def posterior_settings(config: Mapping[str, Any]) -> dict:
    """The sampler settings that change numbers and the thresholds of the point's diagnostics verdict."""
    section = _section(config)
    sampler = without_resources("sampler", section["sampler"])
    return {RESULT_ID: {"sampler": sampler, "analysis": verdict_thresholds(section["analysis"])}}


def analysis_settings(config: Mapping[str, Any]) -> dict:
    """The aggregation's flagging rules and confidence level."""
    return {RESULT_ID: {"analysis": dict(_section(config)["analysis"])}}


def plot_settings(config: Mapping[str, Any]) -> dict:
    """The shared figure style."""
    return {"plots": dict(config["plots"])}


def mi_point_settings(config: Mapping[str, Any]) -> dict:
    """A mutual-information point: the ladder's number of rungs (the rest is in its data and rungs)."""
    return {RESULT_ID: {"mutual_information": {"rungs": _section(config)["mutual_information"]["rungs"]}}}
