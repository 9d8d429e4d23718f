"""What each step of the generative-data result reads from the study config: one slice per step (the rules
pass it as one JSON value, so a change inside a step's slice reruns that step and nothing else)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RESULT_ID = "generative_data"
GENERATOR_KEYS = ("latent_ratio", "deep_layers", "moment_samples", "seed")
FIELDS_KEYS = ("latent_ratio", "fields", "seed")
SGD_KEYS = ("latent_ratio", "sgd", "seed")
ODE_KEYS = ("latent_ratio", "ode", "seed")
# the SGD keys the ODE depends on: the student, the teacher, the step size and the recorded times
ODE_SGD_KEYS = ("students", "teachers", "learning_rate", "time_max", "time_points")
RIDGE_KEYS = ("latent_ratio", "seed")
# the ridge keys a point depends on (not the lists of λ and α: a new one adds only its points)
RIDGE_POINT_KEYS = ("training_sets", "peak_training_sets", "noise")


def _pick(config: Mapping[str, Any], keys: tuple[str, ...]) -> dict:
    section = config[RESULT_ID]
    return {key: section[key] for key in keys}


def generator_settings(config: Mapping[str, Any]) -> dict:
    """One generator at one width: its depth, its Monte Carlo moments and the seed."""
    return {RESULT_ID: _pick(config, GENERATOR_KEYS)}


def fields_settings(config: Mapping[str, Any]) -> dict:
    """The local-field check, with the students and teachers it draws."""
    sgd = config[RESULT_ID]["sgd"]
    picked = _pick(config, FIELDS_KEYS)
    picked["sgd"] = {key: sgd[key] for key in ("students", "teachers")}
    return {RESULT_ID: picked}


def sgd_settings(config: Mapping[str, Any]) -> dict:
    """The SGD simulation of one generator at one width."""
    return {RESULT_ID: _pick(config, SGD_KEYS)}


def ode_settings(config: Mapping[str, Any]) -> dict:
    """The two ODE integrations of one generator at one width (and the SGD keys they share)."""
    sgd = config[RESULT_ID]["sgd"]
    picked = _pick(config, ODE_KEYS)
    picked["sgd"] = {key: sgd[key] for key in ODE_SGD_KEYS}
    return {RESULT_ID: picked}


def ridge_settings(config: Mapping[str, Any]) -> dict:
    """One ridge point (generator, λ, α): the number of training sets, the label noise, the seed."""
    ridge = config[RESULT_ID]["ridge"]
    picked = _pick(config, RIDGE_KEYS)
    picked["ridge"] = {key: ridge[key] for key in RIDGE_POINT_KEYS}
    return {RESULT_ID: picked}


def plot_settings(config: Mapping[str, Any]) -> dict:
    """The shared figure style and what the ridge figure's dense theory curve needs."""
    ridge = config[RESULT_ID]["ridge"]
    picked = _pick(config, RIDGE_KEYS)
    picked["ridge"] = {"noise": ridge["noise"]}
    return {"plots": dict(config["plots"]), RESULT_ID: picked}
