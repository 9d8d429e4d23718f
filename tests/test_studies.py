"""Studies as a user runs them: without an activated venv, and side by side in their own results folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.workflow

SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
# The shell a cron job or a script gets: no venv on PATH, no VIRTUAL_ENV.
BARE_ENV = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PATH": "/usr/bin:/bin"}

MODEL = {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}
ONE_POINT = {
    "models": {"tanh-L1": MODEL},
    "theory": {"alpha_min": 0.5, "alpha_max": 2.0, "alpha_num": 3},
    "simulation": {"models": ["tanh-L1"], "widths": [4], "alphas": [1.0], "seeds": 1, "test_size": 20},
    "sampler": {"chains": 2, "warmup": 10, "samples": 10, "leapfrog_steps": 2, "max_divergent_fraction": 1.0},
}


def run(repo: Path, workdir: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [SNAKEMAKE, "-s", str(repo / "Snakefile"), "-d", str(workdir), "--cores", "2", *args]
    return subprocess.run(
        command, check=False, capture_output=True, text=True, env=env or BARE_ENV, cwd=workdir
    )


def study_file(path: Path, study: dict) -> str:
    path.write_text(yaml.safe_dump(study))
    return str(path)


def test_a_study_runs_with_path_stripped_of_the_venv(repo: Path, tmp_path: Path) -> None:
    """`env -u VIRTUAL_ENV PATH=/usr/bin:/bin .venv/bin/snakemake ...`: every rule finds `deeplin`."""
    assert not any(Path(d, "deeplin").exists() for d in BARE_ENV["PATH"].split(os.pathsep))
    config = study_file(tmp_path / "one.yaml", {"study": "bare", **ONE_POINT})
    result = run(repo, tmp_path, "--configfile", config)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "command not found" not in result.stderr
    study = tmp_path / "results" / "bare"
    for path in ("theory/tanh-L1/curve.csv", "sims/tanh-L1/d4/alpha1.0/seed0/metrics.json",
                 "tables/summary.csv", "figures/error_vs_alpha.png", "provenance.csv"):  # fmt: skip
        assert (study / path).stat().st_size > 0, path
    # one theory output, deleted and rebuilt the same way
    curve = study / "theory/tanh-L1/curve.csv"
    before = curve.read_bytes()
    curve.unlink()
    rebuilt = run(repo, tmp_path, str(curve.relative_to(tmp_path)), "--configfile", config)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert curve.read_bytes() == before


def test_studies_coexist_and_switching_recomputes_nothing(repo: Path, tmp_path: Path) -> None:
    """Two studies with the same model names but different settings keep their own results."""
    first = study_file(tmp_path / "first.yaml", {"study": "first", "models": {"tanh-L1": MODEL},
                                                  "theory": {"alpha_num": 3}})  # fmt: skip
    second = study_file(tmp_path / "second.yaml", {"study": "second", "models": {"tanh-L1": dict(MODEL, noise=0.5)},
                                                    "theory": {"alpha_num": 4}})  # fmt: skip
    for config in (first, second):
        result = run(repo, tmp_path, "--configfile", config)
        assert result.returncode == 0, result.stderr[-3000:]
    curves = {name: (tmp_path / f"results/{name}/theory/tanh-L1/curve.csv").read_text().splitlines()
              for name in ("first", "second")}  # fmt: skip
    assert len(curves["first"]) == 1 + 3 and len(curves["second"]) == 1 + 4
    for config in (first, second):  # back and forth: nothing to do
        dry = run(repo, tmp_path, "-n", "--configfile", config)
        assert dry.returncode == 0 and "Nothing to be done" in dry.stdout, dry.stdout[-2000:]


def test_the_validation_study_plans_no_job_of_the_default_study(repo: Path) -> None:
    """Every output the validation study would write lies under results/validation/."""
    dry = subprocess.run([SNAKEMAKE, "-n", "--cores", "1", "--configfile", "workflow/studies/validation.yaml"],
                         cwd=repo, check=False, capture_output=True, text=True, env=BARE_ENV)  # fmt: skip
    assert dry.returncode == 0, dry.stderr[-2000:]
    outputs = [line.split(":", 1)[1] for line in dry.stdout.splitlines() if line.strip().startswith("output:")]
    paths = [p.strip() for line in outputs for p in line.split(",")]
    assert paths and all(p.startswith("results/validation/") for p in paths), [
        p for p in paths if not p.startswith("results/validation/")
    ][:5]
