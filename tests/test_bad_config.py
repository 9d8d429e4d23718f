"""Bad input stops Snakemake before any job is scheduled, with a message naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from test_workflow import snakemake, write_config

pytestmark = pytest.mark.workflow

SIMULATED = {
    "models": {"tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}},
    "theory": {"alpha_min": 0.5, "alpha_max": 2.0, "alpha_num": 3},
    "simulation": {"models": ["tanh-L1"], "widths": [6], "alphas": [1.0], "seeds": 1, "test_size": 50},
    "sampler": {"chains": 4, "warmup": 20, "samples": 20, "leapfrog_steps": 4},
}
# Two models named tanh-L1: a plain YAML loader (Snakemake's) keeps the second without a word.
DUPLICATE_MODEL = """\
models:
  tanh-L1: {activation: tanh, depth: 1, readout: linear, noise: 0.1}
  erf-L1: {activation: erf, depth: 1, readout: linear, noise: 0.1}
  tanh-L1: {activation: tanh, depth: 1, readout: tanh, noise: 0.1}
theory: {alpha_min: 0.5, alpha_max: 2.0, alpha_num: 3}
"""


def assert_failed_before_any_job(result, workdir: Path, *needles: str) -> None:
    """Nonzero exit, every needle in Snakemake's output, and nothing written under results/."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    for needle in needles:
        assert needle in output, f"{needle!r} not in:\n{output[-3000:]}"
    assert not (workdir / "results").exists()


def test_duplicate_model_name_fails_before_any_job(repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "study.yaml"
    config.write_text(DUPLICATE_MODEL)
    result = snakemake(repo, tmp_path, "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result, tmp_path, "models.tanh-L1: duplicate key at", "study.yaml:4:3 (first at line 2, column 3)"
    )


def test_duplicate_key_in_default_config_yaml_fails_dry_run(repo: Path, tmp_path: Path) -> None:
    """Without --configfile the Snakefile reads config.yaml of the working directory: checked the same way."""
    (tmp_path / "config.yaml").write_text(DUPLICATE_MODEL + "theory: {alpha_num: 4}\n")
    result = snakemake(repo, tmp_path, "-n", check=False)
    assert_failed_before_any_job(
        result, tmp_path, "models.tanh-L1: duplicate key at", "config.yaml:4:3 (first at line 2, column 3)",
        "theory: duplicate key at", "config.yaml:6:1 (first at line 5, column 1)",
    )  # fmt: skip


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_fails_dry_run(repo: Path, tmp_path: Path) -> None:
    study = {**SIMULATED, "sampler": {**SIMULATED["sampler"], "device": "cuda"}}
    config = write_config(tmp_path / "study.yaml", study)
    result = snakemake(repo, tmp_path, "-n", "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result, tmp_path, "sampler.device = 'cuda': no CUDA device is visible here", "device: auto", "sampler.gpus"
    )


def test_schema_errors_fail_before_any_job(repo: Path, tmp_path: Path) -> None:
    """An integral float where an integer is meant (accepted before; d8.0 matches no rule) and a typo'd key."""
    study = {**SIMULATED, "simulation": {**SIMULATED["simulation"], "widths": [8.0]}}
    study["sampler"] = {**SIMULATED["sampler"], "chain": 8}
    config = write_config(tmp_path / "study.yaml", study)
    result = snakemake(repo, tmp_path, "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result, tmp_path, "simulation.widths[0] = 8.0: 8.0 is not of type 'integer'", "sampler.chain: unknown key"
    )


def test_numeric_config_override_from_the_command_line_is_accepted(repo: Path, tmp_path: Path) -> None:
    """`--config 'sampler={"chains": 6}'` reaches the Snakefile as the string "6": converted, and used."""
    config = write_config(tmp_path / "study.yaml", SIMULATED)
    overrides = ['sampler={"chains": 6, "target_accept": 0.9}', "theory={alpha_num: 2}"]
    result = snakemake(repo, tmp_path, "-n", "-p", "--configfile", str(config), "--config", *overrides)
    shell = result.stdout + result.stderr
    assert "--chains 6 " in shell and "--chains 4 " not in shell
    assert "--target-accept 0.9 " in shell
    assert not (tmp_path / "results").exists()
