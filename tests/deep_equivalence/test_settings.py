"""Each step's slice of the study config (deeplin.deep_equivalence.settings) holds exactly what its numbers
depend on: a change inside it reruns the step (Snakemake's params trigger), a change outside it does not; and
every slice is valid settings for its step (config.validate_slice)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from deeplin.config import load_config, resource_keys, settings_json, validate_slice
from deeplin.deep_equivalence import settings

D = "deep_equivalence"
CONFIG = load_config(Path(__file__).resolve().parents[2] / "config.yaml")
MODEL = "tanh-L2"  # the shipped config's simulated model
OTHER = "tanh-L1"

SLICES: dict[str, Callable[[dict], dict]] = {
    "theory": lambda config: settings.theory_settings(config, MODEL),
    "data": lambda config: settings.data_settings(config, MODEL),
    "posterior": settings.posterior_settings,
    "aggregate": settings.analysis_settings,
    "plot": settings.plot_settings,
}


def changed(path: tuple, value) -> dict:
    """The validated shipped config with the value at ``path`` replaced."""
    config = copy.deepcopy(CONFIG)
    target = config
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return config


# (setting changed, its new value, the steps whose slice must change; every other step's must not)
CHANGES = [
    ((D, "models", MODEL, "activation"), "erf", {"theory", "data"}),
    ((D, "models", MODEL, "noise"), 0.2, {"theory", "data"}),
    ((D, "models", MODEL, "width_ratios"), [1.0, 0.5], {"data"}),  # does not enter the asymptotic theory
    ((D, "models", OTHER, "noise"), 0.2, set()),  # another model's steps, not this one's
    ((D, "theory", "alpha_num"), 7, {"theory"}),
    ((D, "theory", "scan_points"), 64, {"theory"}),
    ((D, "simulation", "widths"), [8, 16], set()),  # the point is in the path, not in the settings
    ((D, "simulation", "alphas"), [1.0], set()),
    ((D, "simulation", "seeds"), 3, set()),
    ((D, "simulation", "models"), [MODEL, OTHER], set()),
    ((D, "simulation", "test_size"), 500, {"data"}),
    ((D, "sampler", "chains"), 4, {"posterior"}),
    ((D, "sampler", "dtype"), "float64", {"posterior"}),
    ((D, "sampler", "max_samples"), 1000, {"posterior"}),
    ((D, "sampler", "block_samples"), 50, {"posterior"}),
    ((D, "analysis", "min_ess"), 100, {"posterior", "aggregate"}),
    ((D, "sampler", "checkpoint_seconds"), 60, set()),  # x-resource: changes no number
    ((D, "sampler", "points_per_job"), 10, set()),  # x-resource: grouped points sample as they do alone
    ((D, "sampler", "gpus"), 1, set()),
    ((D, "sampler", "gpu_model"), "a100", set()),
    ((D, "analysis", "max_rhat"), 1.1, {"posterior", "aggregate"}),  # the verdict's thresholds
    ((D, "analysis", "min_accept_rate"), 0.5, {"posterior", "aggregate"}),
    ((D, "analysis", "confidence"), 0.9, {"aggregate"}),  # tables only: the posterior job decides no interval
    ((D, "analysis", "exclude_flagged"), False, {"aggregate"}),
    (("plots", "dpi"), 300, {"plot"}),
    (("plots", "palette"), "deep", {"plot"}),
    (("study",), "other", set()),  # results go elsewhere; no step's numbers change
]


@pytest.mark.parametrize("path, value, steps", CHANGES, ids=[".".join(p) for p, _, _ in CHANGES])
def test_a_setting_changes_exactly_the_slices_that_depend_on_it(path: tuple, value, steps: set) -> None:
    config = changed(path, value)
    moved = {step for step, slice_of in SLICES.items() if slice_of(config) != slice_of(CONFIG)}
    assert moved == steps
    for step in steps:  # and the JSON a rule passes changes with it (params compare those bytes)
        assert settings_json(SLICES[step](config)) != settings_json(SLICES[step](CONFIG))


def _at(data: dict, path: tuple) -> dict:
    for part in path:
        data = data[part]
    return data


def _sections(data: dict) -> list[tuple]:
    return [(D, name) for name in data.get(D, {})] + [(name,) for name in data if name != D]


def _defaults(path: tuple) -> dict:
    """The schema's defaults of the section at ``path`` (what validate_slice fills into an empty one)."""
    data: dict = {}
    for part in reversed(path):
        data = {part: data}
    return _at(validate_slice(data), path)


@pytest.mark.parametrize("step", SLICES)
def test_every_slice_is_valid_settings_for_its_step(step: str) -> None:
    """The step receives the slice's values unchanged; what validation adds are the schema's defaults of keys
    the slice leaves out (in the posterior slice: the resource keys, which change no number)."""
    part = SLICES[step](CONFIG)
    validated = validate_slice(json.loads(settings_json(part)))  # as the step receives it
    sections = _sections(part)
    assert sorted(_sections(validated)) == sorted(sections)  # no section added
    for path in sections:
        given, received = _at(part, path), _at(validated, path)
        assert {k: received[k] for k in given} == given
        added = set(received) - set(given)
        if added:
            defaults = _defaults(path)
            assert {k: received[k] for k in added} == {k: defaults[k] for k in added}
    if step == "posterior":
        resources = resource_keys(D, "sampler")
        assert resources and not resources & set(part[D]["sampler"])


def test_slices_hold_only_their_sections() -> None:
    theory = settings.theory_settings(CONFIG, MODEL)[D]
    assert set(theory) == {"models", "theory"} and list(theory["models"]) == [MODEL]
    assert set(theory["models"][MODEL]) == set(settings.THEORY_MODEL_KEYS)
    data = settings.data_settings(CONFIG, MODEL)[D]
    assert set(data) == {"models", "simulation"} and data["simulation"] == {"test_size": 1000}
    assert data["models"][MODEL] == CONFIG[D]["models"][MODEL]  # the whole model, width ratios included
    posterior = settings.posterior_settings(CONFIG)[D]
    assert set(posterior) == {"sampler", "analysis"}
    assert set(posterior["analysis"]) == {
        "max_rhat",
        "min_rhat_fraction",
        "min_ess",
        "max_divergences",
        "min_accept_rate",
    }
    assert set(settings.analysis_settings(CONFIG)) == {D} and set(settings.plot_settings(CONFIG)) == {"plots"}


def test_settings_json_is_canonical() -> None:
    """Equal settings give equal bytes whatever their key order: a rule reruns only when a value changes."""
    part = settings.posterior_settings(CONFIG)
    shuffled = json.loads(json.dumps(part, sort_keys=False))
    shuffled[D] = dict(reversed(list(shuffled[D].items())))
    assert settings_json(shuffled) == settings_json(part)
    assert " " not in settings_json(part) and json.loads(settings_json(part)) == part
