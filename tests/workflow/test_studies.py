"""Studies as a user runs them: without an activated venv, and side by side in their own results folders."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from deeplin.config import RESULT_IDS
from snakemake_runs import BIN

pytestmark = pytest.mark.workflow

SNAKEMAKE = str(BIN / "snakemake")
# The shell a cron job or a script gets: no venv on PATH, no VIRTUAL_ENV.
BARE_ENV = {**{k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}, "PATH": "/usr/bin:/bin"}

MODEL = {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}
SAMPLER = {"chains": 2, "warmup": 10, "samples": 10, "leapfrog_steps": 2, "max_divergent_fraction": 1.0}
ONE_POINT = {
    "deep_equivalence": {
        "models": {"tanh-L1": MODEL},
        "theory": {"alpha_min": 0.5, "alpha_max": 2.0, "alpha_num": 3},
        "simulation": {"models": ["tanh-L1"], "widths": [4], "alphas": [1.0], "seeds": 1, "test_size": 20},
        "sampler": SAMPLER,
    }
}


def theory_study(name: str, noise: float, alpha_num: int) -> dict:
    """A theory-only study of one model named tanh-L1."""
    section = {"models": {"tanh-L1": dict(MODEL, noise=noise)}, "theory": {"alpha_num": alpha_num}}
    return {"study": name, "deep_equivalence": section}


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
    result = study / "deep_equivalence"
    for path in (
        result / "theory/tanh-L1/curve.csv",
        result / "sims/tanh-L1/d4/alpha1.0/seed0/metrics.json",
        result / "tables/summary.csv",
        result / "figures/error_vs_alpha.png",
        study / "provenance.csv",
        study / "figures/rulegraph.png",
    ):
        assert path.stat().st_size > 0, path
    # one theory output, deleted and rebuilt the same way
    curve = result / "theory/tanh-L1/curve.csv"
    before = curve.read_bytes()
    curve.unlink()
    rebuilt = run(repo, tmp_path, str(curve.relative_to(tmp_path)), "--configfile", config)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert curve.read_bytes() == before


def test_studies_coexist_and_switching_recomputes_nothing(repo: Path, tmp_path: Path) -> None:
    """Two studies with the same model names but different settings keep their own results."""
    first = study_file(tmp_path / "first.yaml", theory_study("first", 0.1, 3))
    second = study_file(tmp_path / "second.yaml", theory_study("second", 0.5, 4))
    for config in (first, second):
        result = run(repo, tmp_path, "--configfile", config)
        assert result.returncode == 0, result.stderr[-3000:]
    curves = {
        name: (tmp_path / f"results/{name}/deep_equivalence/theory/tanh-L1/curve.csv")
        .read_text()
        .splitlines()
        for name in ("first", "second")
    }
    assert len(curves["first"]) == 1 + 3 and len(curves["second"]) == 1 + 4
    for config in (first, second):  # back and forth: nothing to do
        dry = run(repo, tmp_path, "-n", "--configfile", config)
        assert dry.returncode == 0 and "Nothing to be done" in dry.stdout, dry.stdout[-2000:]


def test_the_validation_study_plans_no_job_of_the_default_study(repo: Path) -> None:
    """Every output the validation study would write lies under results/validation/: in a result's own folder,
    or one of the study-wide files (the provenance table, the rule graph)."""
    dry = subprocess.run(
        [SNAKEMAKE, "-n", "--cores", "1", "--configfile", "workflow/studies/validation.yaml"],
        cwd=repo,
        check=False,
        capture_output=True,
        text=True,
        env=BARE_ENV,
    )
    assert dry.returncode == 0, dry.stderr[-2000:]
    outputs = [
        line.split(":", 1)[1] for line in dry.stdout.splitlines() if line.strip().startswith("output:")
    ]
    paths = [p.strip() for line in outputs for p in line.split(",")]
    allowed = (
        *(f"results/validation/{rid}/" for rid in RESULT_IDS),
        "results/validation/provenance.csv",
        "results/validation/figures/rulegraph.",
    )
    assert paths and all(p.startswith(allowed) for p in paths), [
        p for p in paths if not p.startswith(allowed)
    ][:5]
