"""What each step of the deep-linear result reads from the study config: one slice per step (the rules pass
it as one JSON value, so a change inside a step's slice reruns that step and nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RESULT_ID = "deep_linear"
# The simulated networks depend on these (the cell's a and N are in its path).
SIMULATION_KEYS = ("input_dim", "outputs", "input_overlap", "networks", "seed", "dtype", "device")
# The comparison with theory depends on these (and on the simulated networks).
COMPARISON_KEYS = ("input_overlap", "reference_draws", "sde_step", "seed")


def _pick(config: Mapping[str, Any], keys: tuple[str, ...]) -> dict:
    section = config[RESULT_ID]
    return {RESULT_ID: {key: section[key] for key in keys}}


def simulation_settings(config: Mapping[str, Any]) -> dict:
    """The networks of one cell: dimensions, overlap, count, seed, precision and device."""
    return _pick(config, SIMULATION_KEYS)


def comparison_settings(config: Mapping[str, Any]) -> dict:
    """The comparison of one cell with the finite, limit and Gaussian-process laws."""
    return _pick(config, COMPARISON_KEYS)


def plot_settings(config: Mapping[str, Any]) -> dict:
    """The shared figure style and what the correlation figure's limit law needs."""
    return {"plots": dict(config["plots"]), **_pick(config, ("input_overlap", "sde_step", "seed"))}
