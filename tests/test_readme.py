"""Every command README.md shows is run here (or by CI: `make test`)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")


def _bash_blocks(repo: Path) -> list[list[str]]:
    text = (repo / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    return [[line.split("#")[0].strip() for line in b.splitlines() if line.split("#")[0].strip()] for b in blocks]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one(repo: Path) -> None:
    assert _bash_blocks(repo)[0] == ["make reproduce", "make test"]
    assert re.search(r"^make test$", (repo / ".ci/run").read_text(), flags=re.M)


def test_every_readme_command_is_known(repo: Path) -> None:
    commands = [c for block in _bash_blocks(repo) for c in block]
    allowed = ("make reproduce", "make test", ".venv/bin/deeplin ", ".venv/bin/snakemake --profile profiles/slurm ")
    assert all(c.startswith(allowed) for c in commands), commands


def test_readme_deeplin_commands_run(repo: Path) -> None:
    commands = [c for block in _bash_blocks(repo) for c in block if c.startswith(".venv/bin/deeplin")]
    # check-simulations needs a finished run: it is exercised after `make reproduce` below
    for command in [c for c in commands if "check-simulations" not in c]:
        args = shlex.split(command)[1:]
        if args[0] == "bench":  # the README's benchmark, shortened (later options win)
            pytest.importorskip("numpyro", reason="the bench extra (NumPyro) is not installed")
            args += ["--warmup", "15", "--samples", "15", "--chains", "4", "--numpyro-chains", "1"]
        result = subprocess.run(
            [sys.executable, "-m", "deeplin", *args], cwd=repo, capture_output=True, text=True
        )
        assert result.returncode == 0, (command, result.stderr)
        if args[0] == "bench":
            assert re.search(r"^ratio ESS/s deeplin/numpyro: \d+\.\d+x$", result.stdout, re.M), result.stdout


def test_readme_study_commands_dry_run(repo: Path) -> None:
    for command in [c for block in _bash_blocks(repo) for c in block if "SNAKEMAKE_ARGS" in c]:
        extra = shlex.split(re.search(r'SNAKEMAKE_ARGS="([^"]*)"', command).group(1))
        result = subprocess.run(
            [str(BIN / "snakemake"), "-n", "--cores", "1", *extra],
            cwd=repo, capture_output=True, text=True, env=ENV,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]


def test_readme_slurm_command_dry_runs(repo: Path) -> None:
    """The README's SLURM command, as a dry run (the real SLURM run is tests/test_slurm.py)."""
    commands = [c for block in _bash_blocks(repo) for c in block if c.startswith(".venv/bin/snakemake")]
    assert commands, "README shows no SLURM command"
    for command in commands:
        args = shlex.split(command)[1:]
        result = subprocess.run([str(BIN / "snakemake"), "-n", *args], cwd=repo, capture_output=True, text=True, env=ENV)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "deep_posterior" in result.stdout


def test_benchmark_script_runs(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "tests/benchmarks/bench_theory.py", "--repeats", "1", "--points", "4"],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert re.search(r"tanh L=1 noise=0.01\s+\d+\.\d+\s+\d\.\de-\d+", result.stdout), result.stdout


@pytest.mark.slow
def test_make_reproduce_from_a_copy_of_the_tree(repo: Path, tmp_path: Path) -> None:
    """`make reproduce` on the checked-in files only (as a clone has them), with this test's venv."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=repo, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    copy = tmp_path / "clone"
    for name in listed:
        if (repo / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo / name, copy / name)
    venv = BIN.parent
    # -o: treat the install stamps as up to date so that the venv keeps pointing at this checkout
    result = subprocess.run(
        ["make", "reproduce", f"VENV={venv}", "CORES=2", "-o", f"{venv}/.deeplin-run", "-o", f"{venv}/.torch"],
        cwd=copy, capture_output=True, text=True, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    curves = sorted((copy / "results" / "theory").glob("*/curve.csv"))
    assert len(curves) == 4 and all(len(c.read_text().splitlines()) == 81 for c in curves)
    points = len(list((copy / "results" / "sims").glob("*/d*/alpha*/seed*/metrics.json")))
    assert points == 54  # 2 models x 3 widths x 3 alphas x 3 seeds
    tables = copy / "results" / "tables"
    assert len((tables / "simulations.csv").read_text().splitlines()) == 1 + points
    assert len((tables / "summary.csv").read_text().splitlines()) == 1 + 18
    assert "consistent_with_bound" in (tables / "scaling.csv").read_text().splitlines()[0]
    figures = copy / "results" / "figures"
    for name in ("error_vs_alpha", "gap_vs_width", "universality", "diagnostics", "rulegraph"):
        assert (figures / f"{name}.png").stat().st_size > 10_000 and (figures / f"{name}.pdf").exists(), name
    report = (copy / "results" / "report.html").read_text(errors="replace")
    assert len(report) > 500_000 and "Universality for the linear readout" in report
    for command in [c for b in _bash_blocks(repo) for c in b if c.startswith(".venv/bin/deeplin check-sim")]:
        result = subprocess.run(
            [sys.executable, "-m", "deeplin", *shlex.split(command)[1:]], cwd=copy, capture_output=True, text=True
        )
        assert result.returncode == 0 and f"points: {points}" in result.stdout, result.stdout + result.stderr


@pytest.mark.slow
def test_pipeline_timing_script_runs_on_a_tiny_study(repo: Path, tmp_path: Path) -> None:
    study = {
        "models": {"tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}},
        "theory": {"alpha_min": 0.5, "alpha_max": 2.0, "alpha_num": 3},
        "simulation": {"models": ["tanh-L1"], "widths": [4], "alphas": [1.0], "seeds": 1, "test_size": 20},
        "sampler": {"chains": 2, "warmup": 10, "samples": 10, "leapfrog_steps": 2, "max_divergent_fraction": 1.0},
    }
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(study))
    result = subprocess.run(
        [sys.executable, "tests/benchmarks/bench_pipeline.py", "--cores", "2", "--config", str(tmp_path / "tiny.yaml")],
        cwd=repo, capture_output=True, text=True, env=ENV,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"study from scratch .*: \d+\.\d s, \d+ jobs", result.stdout), result.stdout
    # one new α: its data, posterior, twin and merge jobs, then aggregate, four plots and all
    assert re.search(r"incremental rerun after adding alpha=4: \d+\.\d s, \d+ jobs", result.stdout), result.stdout
