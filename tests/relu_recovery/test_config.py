"""The recovery section's schema and cross-field rule: defaults, refusals naming the key and value, the
study files, and the CLI's one-line refusal of bad settings."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from deeplin.cli import main
from deeplin.config import ConfigError, load_config, validate_config
from deeplin.relu_recovery import settings

REPO = Path(__file__).resolve().parents[2]
BASE = yaml.safe_load((REPO / "config.yaml").read_text(encoding="utf-8"))
R = "relu_recovery"


def _with(**changes) -> dict:
    config = copy.deepcopy(BASE)
    config[R].update(changes)
    return config


def test_defaults_fill_the_section() -> None:
    config = validate_config({"deep_equivalence": BASE["deep_equivalence"]})
    section = config[R]
    assert section["dims"] == [] and section["solver"]["name"] == "CLARABEL"
    assert section["solver"]["scs_eps"] == 1e-9 and section["recovery_atol"] == 1e-4
    assert set(section) >= set(settings.SOLVE_KEYS)


@pytest.mark.parametrize(
    "changes, needle",
    [
        ({"ratios": [0.5]}, "relu_recovery.ratios[0] = 0.5"),
        ({"models": ["tanh"]}, 'relu_recovery.models[0] = "tanh"'),
        ({"directions": []}, "relu_recovery.directions"),
        ({"dims": [10, 10]}, "non-unique"),
        ({"trials": 0}, "relu_recovery.trials = 0"),
        ({"noise_levels": [-0.1]}, "relu_recovery.noise_levels[0] = -0.1"),
        ({"solver": {"name": "ECOS"}}, 'relu_recovery.solver.name = "ECOS"'),
        ({"solver": {"scs_eps": 0.1}}, "relu_recovery.solver.scs_eps = 0.1"),
        (
            {"solver": {"name": "SCS", "fallback": "SCS"}},
            "relu_recovery.solver.fallback: 'SCS' is the primary",
        ),
        ({"pattern_count": 3}, "pattern_count: unknown key"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_values_are_refused_naming_the_key(changes: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as exc:
        validate_config(_with(**changes))
    assert any(needle in problem for problem in exc.value.problems), exc.value.problems


def test_the_default_study_and_the_cluster_study_are_valid() -> None:
    default = load_config(REPO / "config.yaml")[R]
    assert default["dims"] == [10, 20] and default["exact_max_dim"] == 10
    study = load_config(REPO / "workflow" / "studies" / "relu-recovery.yaml")[R]
    assert max(study["dims"]) >= 50 and study["trials"] >= 20


def test_a_step_refuses_bad_settings_in_one_line(capsys) -> None:
    bad = json.dumps({R: {"trials": -1}})
    with pytest.raises(SystemExit) as exc:
        main([R, "solve", "--settings", bad, "--dim", "4", "--ratio", "2", "--out", "x.json"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "relu_recovery.trials = -1" in err[0], err
    with pytest.raises(SystemExit) as exc:
        main([R, "solve", "--settings", "{}", "--dim", "4", "--ratio", "0.5", "--out", "x.json"])
    assert exc.value.code == 2 and "--ratio" in capsys.readouterr().err
