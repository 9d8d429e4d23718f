"""Every command README.md shows is run here (or by CI: `make test`)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")


def _bash_blocks(repo: Path) -> list[list[str]]:
    text = (repo / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    return [
        [line.split("#")[0].strip() for line in b.splitlines() if line.split("#")[0].strip()] for b in blocks
    ]


def test_quick_start_is_two_commands_and_ci_runs_the_test_one(repo: Path) -> None:
    assert _bash_blocks(repo)[0] == ["make reproduce", "make test"]
    assert re.search(r"^make test$", (repo / ".ci/run").read_text(), flags=re.MULTILINE)


def test_every_readme_command_is_known(repo: Path) -> None:
    commands = [c for block in _bash_blocks(repo) for c in block]
    allowed = (
        "make reproduce",
        "make test",
        ".venv/bin/deeplin ",
        ".venv/bin/snakemake --profile profiles/slurm ",
    )
    assert all(c.startswith(allowed) for c in commands), commands


def test_readme_deeplin_commands_run(repo: Path) -> None:
    commands = [c for block in _bash_blocks(repo) for c in block if c.startswith(".venv/bin/deeplin")]
    steps = [shlex.split(c)[1:] for c in commands]
    # `deeplin deep_equivalence check` needs a finished run: CI runs it after `make reproduce`, and
    # tests/deep_equivalence/test_workflow.py on the tiny study
    assert ["deep_equivalence", "check"] in [args[:2] for args in steps], "README shows no check command"
    for command, args in zip(commands, steps, strict=True):
        if args[:2] == ["deep_equivalence", "check"]:
            continue
        if args[:2] == ["deep_equivalence", "bench"]:  # the README's benchmark, shortened (later options win)
            pytest.importorskip("numpyro", reason="the bench extra (NumPyro) is not installed")
            pytest.importorskip("blackjax", reason="the bench extra (BlackJAX) is not installed")
            args = [*args, "--warmup", "15", "--samples", "15", "--chains", "4", "--numpyro-chains", "1"]
            args += ["--blackjax-variants", "hmc-jitter"]  # one compiled peer keeps it short
        result = subprocess.run(
            [sys.executable, "-m", "deeplin", *args], check=False, cwd=repo, capture_output=True, text=True
        )
        assert result.returncode == 0, (command, result.stderr)
        if args[:2] == ["deep_equivalence", "bench"]:
            for peer in ("numpyro", "blackjax-hmc-jitter", "best BlackJAX \\(blackjax-hmc-jitter\\)"):
                line = rf"^ratio ESS/s deeplin/{peer}: \d+\.\d+x$"
                assert re.search(line, result.stdout, re.MULTILINE), result.stdout
        if args[:2] == ["deep_equivalence", "theory"] and "--curve" not in args:  # the curve's CSV, to stdout
            header, *rows = result.stdout.splitlines()
            assert header.startswith("activation,depth,readout,noise,alpha,") and rows, result.stdout


def test_readme_study_commands_dry_run(repo: Path) -> None:
    """`make reproduce CONFIG=<study>`: the study is valid, names its own results folder and dry-runs."""
    commands = [c for block in _bash_blocks(repo) for c in block if c.startswith("make reproduce CONFIG=")]
    assert commands, "README shows no study command"
    for command in commands:
        study = command.split("CONFIG=", 1)[1].split()[0]
        folder = subprocess.run(
            [str(BIN / "deeplin"), "check-config", "--results-dir", study],
            cwd=repo,
            check=False,
            capture_output=True,
            text=True,
        )
        assert folder.returncode == 0 and folder.stdout.strip() == f"results/{Path(study).stem}", folder
        result = subprocess.run(
            [str(BIN / "snakemake"), "-n", "--cores", "1", "--configfile", study],
            cwd=repo,
            check=False,
            capture_output=True,
            text=True,
            env=ENV,
        )
        assert result.returncode == 0, result.stderr[-2000:]


def test_readme_slurm_command_dry_runs(repo: Path) -> None:
    """The README's SLURM command, as a dry run (the real SLURM run is tests/workflow/test_slurm.py)."""
    commands = [c for block in _bash_blocks(repo) for c in block if c.startswith(".venv/bin/snakemake")]
    assert commands, "README shows no SLURM command"
    for command in commands:
        args = shlex.split(command)[1:]
        result = subprocess.run(
            [str(BIN / "snakemake"), "-n", *args],
            cwd=repo,
            check=False,
            capture_output=True,
            text=True,
            env=ENV,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "rule deep_equivalence_posterior:" in result.stdout


def test_benchmark_script_runs(repo: Path) -> None:
    result = subprocess.run(
        [sys.executable, "tests/benchmarks/bench_theory.py", "--repeats", "1", "--points", "4"],
        cwd=repo,
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"tanh L=1 noise=0.01\s+\d+\.\d+\s+\d\.\de-\d+", result.stdout), result.stdout


@pytest.mark.slow
def test_pipeline_timing_script_runs_on_a_tiny_study(repo: Path, tmp_path: Path) -> None:
    study = {
        "deep_equivalence": {
            "models": {"tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}},
            "theory": {"alpha_min": 0.5, "alpha_max": 2.0, "alpha_num": 3},
            "simulation": {
                "models": ["tanh-L1"],
                "widths": [4],
                "alphas": [1.0],
                "seeds": 1,
                "test_size": 20,
            },
            "sampler": {
                "chains": 2,
                "warmup": 10,
                "samples": 10,
                "leapfrog_steps": 2,
                "max_divergent_fraction": 1.0,
            },
        }
    }
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(study))
    result = subprocess.run(
        [
            sys.executable,
            "tests/benchmarks/bench_pipeline.py",
            "--cores",
            "2",
            "--config",
            str(tmp_path / "tiny.yaml"),
        ],
        cwd=repo,
        check=False,
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"study from scratch .*: \d+\.\d s, \d+ jobs", result.stdout), result.stdout
    # one new α: its data, posterior, twin and merge jobs, then aggregate, four plots and all
    assert re.search(r"incremental rerun after adding alpha=4: \d+\.\d s, \d+ jobs", result.stdout), (
        result.stdout
    )
