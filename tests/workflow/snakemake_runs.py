"""Running the project's Snakefile from tests: the command, study files, the tiny study and dry-run parsing.

A plain module (not a test module), so that the workflow tests of every folder can import it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml
from deeplin.config import RESULT_IDS

TESTS = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# The venv's programs (`deeplin`) first on PATH, as `make` and a user's activated venv have them.
VENV_ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")


def snakemake(repo: Path, workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the project's Snakefile in ``workdir``, the venv's programs on PATH, on one core unless ``args`` say."""
    command = [
        str(BIN / "snakemake"),
        "-s",
        str(repo / "Snakefile"),
        "-d",
        str(workdir),
        "--cores",
        "1",
        *args,
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=VENV_ENV, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def write_config(path: Path, config: dict) -> Path:
    """``config`` as a study file at ``path``."""
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def result_study_file(result_id: str) -> Path:
    """A result's tiny study: tests/<id>/workflow.yaml, a valid study file with that result's section."""
    return TESTS / result_id / "workflow.yaml"


def tiny_study() -> dict:
    """The tiny study of the workflow tests: every result's section from its tests/<id>/workflow.yaml.

    Read afresh each call, for the caller to edit."""
    return {
        result_id: yaml.safe_load(result_study_file(result_id).read_text(encoding="utf-8"))[result_id]
        for result_id in RESULT_IDS
    }


# Two theory-only models, one per readout channel that the theory solves differently (linear, tanh).
THEORY_TINY = {
    "deep_equivalence": {
        "models": {
            "tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1},
            "erf-L2": {"activation": "erf", "depth": 2, "readout": "tanh", "noise": 0.05},
        },
        "theory": {"alpha_min": 0.5, "alpha_max": 4.0, "alpha_num": 4},
    }
}


def planned_jobs(dry_run: str) -> dict[str, int]:
    """Rule -> job count from a dry run's job-stats table (empty when nothing is to be done)."""
    table = dry_run.split("Job stats:", 1)[1].split("\n\n", 1)[0] if "Job stats:" in dry_run else ""
    counts = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def planned_files(dry_run: str) -> set[str]:
    """Every output, log and benchmark file of the jobs a dry run lists."""
    files = set()
    for line in dry_run.splitlines():
        key, _, value = line.strip().partition(": ")
        if key in ("output", "log", "benchmark"):
            files.update(path.strip() for path in value.split(","))
    return files


def snapshot(workdir: Path) -> dict[str, bytes]:
    """Every file under results/, by path relative to the working directory."""
    return {
        str(p.relative_to(workdir)): p.read_bytes() for p in (workdir / "results").rglob("*") if p.is_file()
    }
