"""deeplin.config: every schema rule and cross-field rule rejects with a message naming the dotted key."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deeplin.config import ConfigError, load_config, validate_config

CONFIG_PATH = Path(__file__).resolve().parents[1] / "config.yaml"
BASE = yaml.safe_load(CONFIG_PATH.read_text())
MODEL = BASE["models"]["tanh-L1"]  # a valid depth-1 model, reused for name tests
M = "models.tanh-L1"


def mutated(path: tuple, value) -> dict:
    """Deep copy of the shipped config with the item at ``path`` set to ``value``."""
    cfg = copy.deepcopy(BASE)
    target = cfg
    for part in path[:-1]:
        target = target.setdefault(part, {})  # sections left to their defaults (analysis, plots)
    target[path[-1]] = copy.deepcopy(value)
    return cfg


def problems(cfg: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    assert exc.value.problems, "ConfigError without problems"
    for p in exc.value.problems:  # every problem is also in the exception text
        assert p in str(exc.value)
    return exc.value.problems


def assert_named(cfg: dict, *needles: str) -> None:
    """One single problem message contains every needle (the dotted key first, then the value)."""
    found = problems(cfg)
    assert any(all(n in p for n in needles) for p in found), f"{needles} not in one of {found}"


# (path, value, needles): needles[0] is the dotted key the message must name.
INVALID = [
    # unknown keys at every level
    (("colour",), "blue", ["colour", "unknown key"]),
    (("models", "tanh-L1", "colour"), "blue", [f"{M}.colour", "unknown key"]),
    (("theory", "alpha_steps"), 3, ["theory.alpha_steps", "unknown key"]),
    (("simulation", "width"), [16], ["simulation.width", "unknown key"]),
    (("sampler", "leapfrog_stepz"), 16, ["sampler.leapfrog_stepz", "unknown key"]),
    # models
    (("models",), {}, ["models", "empty"]),
    (("models", "a"), MODEL, ["models", "'a'", "too short"]),
    (("models", "a/b"), MODEL, ["models", "a/b"]),
    (("models", "erf-L2-tanhout"), 5, ["models.erf-L2-tanhout", "5", "object"]),
    (("models", "tanh-L1", "activation"), "softplus", [f"{M}.activation", "softplus"]),
    (("models", "tanh-L1", "activation"), "relu", [f"{M}.activation", "relu", "not odd", "odd activations"]),
    (("models", "tanh-L1", "depth"), 0, [f"{M}.depth", "0"]),
    (("models", "tanh-L1", "depth"), 1.5, [f"{M}.depth", "1.5"]),
    (("models", "tanh-L1", "depth"), "2", [f"{M}.depth", "2", "integer"]),
    (("models", "tanh-L1", "readout"), "relu", [f"{M}.readout", "relu"]),
    (("models", "tanh-L1", "noise"), -0.1, [f"{M}.noise", "-0.1"]),
    (("models", "tanh-L1", "noise"), "high", [f"{M}.noise", "high"]),
    (("models", "tanh-L1", "width_ratios"), [1.0, 1.0], [f"{M}.width_ratios", "depth"]),
    (("models", "tanh-L2", "width_ratios"), [1.0], ["models.tanh-L2.width_ratios", "depth"]),
    (("models", "tanh-L1", "width_ratios"), [], [f"{M}.width_ratios"]),
    (("models", "tanh-L1", "width_ratios"), [0], [f"{M}.width_ratios", "0"]),
    # theory
    (("theory", "alpha_min"), 0, ["theory.alpha_min", "0"]),
    (("theory", "alpha_max"), 0.01, ["theory.alpha_max", "0.01", "theory.alpha_min"]),
    (("theory",), {"alpha_max": 0.01}, ["theory.alpha_max", "0.01"]),  # against the default alpha_min
    (("theory", "alpha_num"), 0, ["theory.alpha_num", "0"]),
    (("theory", "spacing"), "cubic", ["theory.spacing", "cubic"]),
    (("theory", "scan_points"), 2, ["theory.scan_points", "2"]),
    # simulation
    (("simulation", "models"), ["tanh-L1", "nope"], ["simulation.models[1]", "nope"]),
    (("simulation", "models"), ["tanh-L1", "tanh-L1"], ["simulation.models", "tanh-L1", "unique"]),
    (("simulation", "widths"), [1], ["simulation.widths", "1"]),
    (("simulation", "widths"), [16.5], ["simulation.widths", "16.5"]),
    (("simulation", "widths"), [], ["simulation.widths"]),
    (("simulation", "alphas"), [0], ["simulation.alphas", "0"]),
    (("simulation", "alphas"), [], ["simulation.alphas"]),
    (("simulation", "seeds"), 0, ["simulation.seeds", "0"]),
    (("simulation", "test_size"), 0, ["simulation.test_size", "0"]),
    # sampler
    (("sampler", "chains"), 1, ["sampler.chains", "1"]),
    (("sampler", "chains"), 7, ["sampler.chains", "7", "even"]),
    (("sampler", "warmup"), 0, ["sampler.warmup", "0"]),
    (("sampler", "target_accept"), 1.0, ["sampler.target_accept", "1.0"]),
    (("sampler", "dtype"), "float16", ["sampler.dtype", "float16"]),
    (("sampler", "device"), "tpu", ["sampler.device", "tpu"]),
    # analysis (flagging rule and intervals) and plots
    (("analysis", "max_rhat"), 0.9, ["analysis.max_rhat", "0.9"]),
    (("analysis", "min_rhat_fraction"), 1.5, ["analysis.min_rhat_fraction", "1.5"]),
    (("analysis", "max_divergences"), -1, ["analysis.max_divergences", "-1"]),
    (("analysis", "min_accept_rate"), 2, ["analysis.min_accept_rate", "2"]),
    (("analysis", "exclude_flagged"), "yes", ["analysis.exclude_flagged", "yes", "boolean"]),
    (("analysis", "confidence"), 1.0, ["analysis.confidence", "1.0"]),
    (("analysis", "rhat"), 1.01, ["analysis.rhat", "unknown key"]),
    (("plots", "dpi"), 10, ["plots.dpi", "10"]),
    (("plots", "context"), "huge", ["plots.context", "huge"]),
    (("plots", "palette"), "rainbow", ["plots.palette", "rainbow"]),
    (("plots", "format"), "svg", ["plots.format", "unknown key"]),
]


@pytest.mark.parametrize(
    "path, value, needles", INVALID, ids=[f"{'.'.join(p)}={v!r}"[:60] for p, v, _ in INVALID]
)
def test_invalid_value_is_rejected_naming_key(path, value, needles):
    assert_named(mutated(path, value), *needles)


@pytest.mark.parametrize("name", ["tanh-L1", "tanh-L2-sign", "erf-L2-tanhout"])  # linear, sign, tanh
def test_zero_noise_on_simulated_model_is_rejected(name):
    cfg = mutated(("models", name, "noise"), 0)
    cfg["simulation"]["models"] = [name]
    assert_named(cfg, f"models.{name}.noise", "noise > 0")
    if cfg["models"][name]["readout"] == "sign":
        assert_named(cfg, f"models.{name}.noise", "sign")


# ---- robustness: wrong container types, non-finite numbers, key naming ----

CRASHES = [
    (("models", "tanh-L1"), 5, "models.tanh-L1"),  # a simulated model that is not a mapping
    (("models",), [MODEL], "models"),
    (("theory",), 5, "theory"),
    (("simulation",), 5, "simulation"),
    (("sampler",), 5, "sampler"),
    (("simulation", "models"), [["tanh-L1"]], "simulation.models"),
]


@pytest.mark.parametrize(
    "path, value, key", CRASHES, ids=[f"{'.'.join(p)}={v!r}"[:40] for p, v, _ in CRASHES]
)
def test_wrong_container_type_is_a_config_error(path, value, key):
    assert_named(mutated(path, value), key)


NANS = [("models", "tanh-L1", "noise"), ("sampler", "target_accept"), ("theory", "alpha_min")]


@pytest.mark.parametrize("path", NANS, ids=[".".join(p) for p in NANS])
def test_nan_is_rejected(path):
    assert_named(mutated(path, math.nan), ".".join(path))


def test_bad_model_name_message_names_the_key():
    found = problems(mutated(("models", "a/b"), MODEL))
    assert any("models.a/b" in p or "key 'a/b'" in p for p in found), found
    assert not any(p.startswith('models = "a/b"') for p in found), found


def test_list_items_are_named_with_brackets_like_cross_field_rules():
    assert_named(mutated(("simulation", "widths"), [16, 1]), "simulation.widths[1]")


def test_string_simulation_models_is_one_problem():
    found = problems(mutated(("simulation", "models"), "tanh-L1"))
    assert len(found) == 1 and "simulation.models" in found[0], found


# ---- valid configurations ----


def test_shipped_config_is_valid():
    cfg = validate_config(copy.deepcopy(BASE))
    assert list(cfg["models"]) == list(BASE["models"])
    assert cfg["simulation"]["models"] == BASE["simulation"]["models"]


def test_defaults_are_filled_from_schema():
    cfg = copy.deepcopy(BASE)
    del cfg["theory"], cfg["sampler"], cfg["simulation"]
    del cfg["models"]["tanh-L1"]["width_ratios"], cfg["models"]["tanh-L2"]["width_ratios"]
    out = validate_config(cfg)
    theory = {"alpha_min": 0.05, "alpha_max": 8.0, "alpha_num": 80, "spacing": "log", "scan_points": 48}
    assert out["theory"] == theory
    assert out["sampler"]["dtype"] == "float64" and out["sampler"]["chains"] == 8
    assert out["sampler"]["device"] == "auto" and out["sampler"]["target_accept"] == 0.8
    assert out["simulation"]["models"] == [] and out["simulation"]["seeds"] == 2
    assert out["models"]["tanh-L1"]["width_ratios"] == [1.0]
    assert out["models"]["tanh-L2"]["width_ratios"] == [1.0, 1.0]


def test_partial_section_keeps_given_values():
    out = validate_config(mutated(("theory",), {"alpha_num": 7}))
    assert out["theory"]["alpha_num"] == 7 and out["theory"]["alpha_max"] == 8.0


@pytest.mark.parametrize("valid", [True, False])
def test_validation_does_not_mutate_input(valid):
    cfg = copy.deepcopy(BASE)
    del cfg["theory"], cfg["models"]["tanh-L1"]["width_ratios"]
    if not valid:
        cfg["sampler"]["chains"] = 7
    before = copy.deepcopy(cfg)
    if valid:
        validate_config(cfg)
    else:
        problems(cfg)
    assert cfg == before


def test_all_problems_reported_at_once():
    cfg = mutated(("sampler", "leapfrog_stepz"), 16)
    cfg["models"]["tanh-L1"]["noise"] = -0.1
    cfg["sampler"]["chains"] = 7
    found = problems(cfg)
    text = "\n".join(found)
    assert len(found) >= 3
    for key in ("sampler.leapfrog_stepz", f"{M}.noise", "sampler.chains"):
        assert key in text


@pytest.mark.parametrize("name", ["tanh-L2-sign", "erf-L2-tanhout"])
def test_zero_noise_on_unsimulated_model_is_accepted(name):
    assert validate_config(mutated(("models", name, "noise"), 0))["models"][name]["noise"] == 0


# ---- command line ----


def run_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deeplin", "check-config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_check_config_accepts_shipped_config():
    result = run_check(CONFIG_PATH)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_cli_check_config_rejects_bad_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutated(("sampler", "leapfrog_stepz"), 16)))
    result = run_check(bad)
    assert result.returncode == 2
    assert "sampler.leapfrog_stepz" in result.stderr


@pytest.mark.parametrize("study", sorted((CONFIG_PATH.parent / "workflow" / "studies").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_studies_are_valid(study):
    config = load_config(study)
    assert config["models"]
