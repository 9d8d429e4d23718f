"""Bad input stops Snakemake before any job is scheduled, with a message naming the full dotted key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from snakemake_runs import THEORY_TINY, snakemake, tiny_study, write_config

pytestmark = pytest.mark.workflow

# Two models named tanh-L1: a plain YAML loader (Snakemake's) keeps the second without a word.
DUPLICATE_MODEL = """\
deep_equivalence:
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


def test_bad_config_fails_before_any_job(repo: Path, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(THEORY_TINY))
    bad["deep_equivalence"]["models"]["tanh-L1"]["nosie"] = 0.1
    bad["deep_equivalence"]["theory"]["alpha_num"] = 0
    config = write_config(tmp_path / "study.yaml", bad)
    result = snakemake(repo, tmp_path, "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result,
        tmp_path,
        "deep_equivalence.models.tanh-L1.nosie: unknown key",
        "deep_equivalence.theory.alpha_num = 0",
    )


def test_misspelt_sections_fail_before_any_job(repo: Path, tmp_path: Path) -> None:
    """A misspelt result section is an unknown key (not an empty result), and the study needs its section."""
    study = {"deep_equivalance": THEORY_TINY["deep_equivalence"], "plot": {"dpi": 100}}
    config = write_config(tmp_path / "study.yaml", study)
    result = snakemake(repo, tmp_path, "-n", "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result,
        tmp_path,
        "deep_equivalance: unknown key (allowed here: deep_equivalence, deep_linear, generative_data, plots, relu_recovery, study)",
        "plot: unknown key",
        "deep_equivalence: required key missing",
    )


def test_duplicate_model_name_fails_before_any_job(repo: Path, tmp_path: Path) -> None:
    config = tmp_path / "study.yaml"
    config.write_text(DUPLICATE_MODEL)
    result = snakemake(repo, tmp_path, "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result,
        tmp_path,
        "deep_equivalence.models.tanh-L1: duplicate key at",
        "study.yaml:5:5 (first at line 3, column 5)",
    )


def test_duplicate_key_in_default_config_yaml_fails_dry_run(repo: Path, tmp_path: Path) -> None:
    """Without --configfile the Snakefile reads config.yaml of the working directory: checked the same way."""
    (tmp_path / "config.yaml").write_text(DUPLICATE_MODEL + "  theory: {alpha_num: 4}\n")
    result = snakemake(repo, tmp_path, "-n", check=False)
    assert_failed_before_any_job(
        result,
        tmp_path,
        "deep_equivalence.models.tanh-L1: duplicate key at",
        "config.yaml:5:5 (first at line 3, column 5)",
        "deep_equivalence.theory: duplicate key at",
        "config.yaml:7:3 (first at line 6, column 3)",
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_fails_dry_run(repo: Path, tmp_path: Path) -> None:
    study = tiny_study()
    study["deep_equivalence"]["sampler"]["device"] = "cuda"
    config = write_config(tmp_path / "study.yaml", study)
    result = snakemake(repo, tmp_path, "-n", "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result,
        tmp_path,
        "deep_equivalence.sampler.device = 'cuda': no CUDA device is visible here",
        "device: auto",
        "deep_equivalence.sampler.gpus",
    )


def test_schema_errors_fail_before_any_job(repo: Path, tmp_path: Path) -> None:
    """An integral float where an integer is meant (accepted before; d8.0 matches no rule) and a typo'd key."""
    study = tiny_study()
    study["deep_equivalence"]["simulation"]["widths"] = [8.0]
    study["deep_equivalence"]["sampler"]["chain"] = 8
    config = write_config(tmp_path / "study.yaml", study)
    result = snakemake(repo, tmp_path, "--configfile", str(config), check=False)
    assert_failed_before_any_job(
        result,
        tmp_path,
        "deep_equivalence.simulation.widths[0] = 8.0: 8.0 is not of type 'integer'",
        "deep_equivalence.sampler.chain: unknown key",
    )


def test_numeric_config_override_from_the_command_line_is_accepted(repo: Path, tmp_path: Path) -> None:
    """`--config 'deep_equivalence={"sampler": {"chains": 6}}'` reaches the Snakefile with "6", a string:
    converted, merged into the study file's section, and used."""
    config = write_config(tmp_path / "study.yaml", tiny_study())
    override = 'deep_equivalence={"sampler": {"chains": 6, "target_accept": 0.9}, "theory": {"alpha_num": 2}}'
    result = snakemake(repo, tmp_path, "-n", "-p", "--configfile", str(config), "--config", override)
    shell = result.stdout + result.stderr
    # the posterior's settings (sampler and verdict thresholds) and the theory's, as the rules pass them
    assert '"chains":6,' in shell and '"chains":4,' not in shell and '"target_accept":0.9,' in shell
    assert '"alpha_num":2,' in shell and '"alpha_num":3,' not in shell
    assert '"models":{"tanh-L2":' in shell and '"models":{"erf-L1":' in shell  # the file's models are kept
    assert not (tmp_path / "results").exists()
