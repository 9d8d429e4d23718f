"""The generative-data section of the config: defaults, refusals naming key and value, and the steps' CLI
refusing bad settings in one line (exit code 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from deeplin.config import ConfigError, validate_config
from deeplin.generative_data import settings
from snakemake_runs import THEORY_TINY

BASE = THEORY_TINY


def test_defaults_fill_the_section() -> None:
    config = validate_config({**BASE, "generative_data": {"generators": ["sign"]}})
    section = config["generative_data"]
    assert section["sgd"]["widths"] == [250] and section["ridge"]["lambdas"] == [0.001, 0.1]
    assert section["ode"]["method"] == "RK45" and section["fields"]["sparse_nonzeros"] == [1, 10, 100]
    assert set(settings.ridge_settings(config)["generative_data"]["ridge"]) == set(settings.RIDGE_POINT_KEYS)


@pytest.mark.parametrize(
    "section, message",
    [
        ({"generators": ["relu"]}, 'generative_data.generators[0] = "relu"'),
        ({"generators": ["sign", "sign"]}, "generative_data.generators"),
        ({"latent_ratio": 0}, "generative_data.latent_ratio = 0"),
        ({"deep_layers": 4}, "generative_data.deep_layers = 4"),
        ({"ridge": {"lambdas": [-1.0]}}, "generative_data.ridge.lambdas[0] = -1.0"),
        ({"ridge": {"alpha": [1.0]}}, "generative_data.ridge.alpha: unknown key"),
        ({"ode": {"method": "LSODA"}}, 'generative_data.ode.method = "LSODA"'),
        ({"fields": {"sparse_nonzeros": [0]}}, "generative_data.fields.sparse_nonzeros[0] = 0"),
        ({"sgd": {"streams": 1}}, "generative_data.sgd.streams = 1"),
    ],
)
def test_bad_values_are_refused_naming_the_key(section, message) -> None:
    with pytest.raises(ConfigError) as error:
        validate_config({**BASE, "generative_data": section})
    assert any(message in problem for problem in error.value.problems), error.value.problems


def test_a_step_refuses_bad_settings_in_one_line(tmp_path) -> None:
    out = tmp_path / "generator.npz"
    bad = json.dumps(
        {"generative_data": {"latent_ratio": -1, "deep_layers": 2, "moment_samples": 1000, "seed": 0}}
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deeplin",
            "generative_data",
            "generator",
            "--settings",
            bad,
            "--generator",
            "sign",
            "--width",
            "8",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.strip().count("\n") == 0 and "generative_data.latent_ratio = -1" in result.stderr
    missing = json.dumps({"generative_data": {"seed": 0}})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deeplin",
            "generative_data",
            "generator",
            "--settings",
            missing,
            "--generator",
            "sign",
            "--width",
            "8",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "needs generative_data.latent_ratio" in result.stderr
