"""What each step of the recovery result reads from the study config: one slice per step (the rules pass it
as one JSON value, so a change inside a step's slice reruns that step and nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RESULT_ID = "relu_recovery"
# One cell's solves depend on these (the cell's d and n/d are in its path).
SOLVE_KEYS = (
    "models",
    "directions",
    "noise_levels",
    "trials",
    "pattern_factor",
    "min_patterns",
    "programs",
    "exact_max_dim",
    "solver",
    "recovery_atol",
    "seed",
)


def _pick(config: Mapping[str, Any], keys: tuple[str, ...]) -> dict:
    section = config[RESULT_ID]
    return {RESULT_ID: {key: section[key] for key in keys}}


def solve_settings(config: Mapping[str, Any]) -> dict:
    """One cell's instances, patterns and programs."""
    return _pick(config, SOLVE_KEYS)


def plot_settings(config: Mapping[str, Any]) -> dict:
    """The shared figure style."""
    return {"plots": dict(config["plots"])}
