"""Packaging: the conda environments (for `--sdm conda`) mirror pyproject's dependency ranges, so both installs
agree, and pyproject's package list holds every subpackage."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml
from deeplin.config import RESULT_IDS

# pip name -> conda-forge name (CPU env, CUDA env)
CONDA_NAMES = {
    "snakemake": ("snakemake-minimal", "snakemake-minimal"),
    "matplotlib": ("matplotlib-base", "matplotlib-base"),
    "seaborn": ("seaborn-base", "seaborn-base"),
    "torch": ("pytorch", "pytorch-gpu"),
}


def _requirements(repo: Path) -> dict[str, str]:
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]
    parsed = (re.match(r"([A-Za-z0-9_.-]+)(.*)", spec).groups() for spec in project["dependencies"])
    return {name.lower(): spec.replace(" ", "") for name, spec in parsed}


@pytest.mark.parametrize("env, column", [("deeplin.yaml", 0), ("deeplin-cuda.yaml", 1)])
def test_conda_env_mirrors_pyproject(repo: Path, env: str, column: int) -> None:
    listed = yaml.safe_load((repo / "envs" / env).read_text())["dependencies"]
    conda = {}
    for item in listed:
        if isinstance(item, str):
            name, spec = re.match(r"([A-Za-z0-9_.-]+)(.*)", item).groups()
            conda[name] = spec.split("=*")[0]  # drop a build-string pin such as =*cpu*
    for name, spec in _requirements(repo).items():
        conda_name = CONDA_NAMES.get(name, (name, name))[column]
        assert conda_name in conda, f"{env} lacks {conda_name} (pyproject: {name}{spec})"
        assert conda[conda_name] == spec, f"{env}: {conda_name}{conda[conda_name]} vs pyproject {name}{spec}"


def test_every_subpackage_is_packaged(repo: Path) -> None:
    """pyproject's package list finds the shared modules, every result's subpackage and the sampler's: a
    folder of workflow/deeplin/ with an __init__.py that a wheel left out would fail only when installed."""
    setuptools = pytest.importorskip("setuptools")
    find = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    found = set(setuptools.find_packages(where=str(repo / find["where"][0]), include=find["include"]))
    root = repo / "workflow"
    on_disk = {".".join(p.parent.relative_to(root).parts) for p in (root / "deeplin").rglob("__init__.py")}
    assert found == on_disk and {f"deeplin.{rid}" for rid in RESULT_IDS} <= found, (found, on_disk)
