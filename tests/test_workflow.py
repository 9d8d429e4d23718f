"""Snakemake end to end on a tiny config: outputs, reruns on a parameter change, early config errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from deeplin.theory import theory_curve

pytestmark = pytest.mark.workflow

TINY = {
    "models": {
        "tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1},
        "erf-L2": {"activation": "erf", "depth": 2, "readout": "tanh", "noise": 0.05},
    },
    "theory": {"alpha_min": 0.5, "alpha_max": 4.0, "alpha_num": 4},
}


def snakemake(repo: Path, workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run the project's Snakefile in ``workdir`` with the venv's programs on PATH."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    command = [
        str(Path(sys.executable).parent / "snakemake"), "-s", str(repo / "Snakefile"),
        "-d", str(workdir), "--cores", "1", *args,
    ]  # fmt: skip
    result = subprocess.run(command, check=False, capture_output=True, text=True, env=env, cwd=workdir)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def write_config(path: Path, config: dict) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def test_theory_rule_end_to_end_and_incremental(repo: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "study.yaml", TINY)
    snakemake(repo, tmp_path, "--configfile", str(config))
    for model, spec in TINY["models"].items():
        folder = tmp_path / "results" / "default" / "theory" / model
        rows = list(csv.DictReader((folder / "curve.csv").open()))
        coefficients = json.loads((folder / "coefficients.json").read_text())
        assert len(rows) == 4 and coefficients["depth"] == spec["depth"]
        # the rule's numbers are the package's numbers for the same parameters
        _, expected = theory_curve(
            spec["activation"], spec["depth"], spec["readout"], spec["noise"],
            [float(r["alpha"]) for r in rows],
        )  # fmt: skip
        for row, ref in zip(rows, expected, strict=True):
            assert float(row["q"]) == pytest.approx(ref["q"], rel=1e-12)
            assert float(row["error"]) == pytest.approx(ref["error"], rel=1e-12)
        assert (tmp_path / "results" / "default" / "logs" / "theory" / f"{model}.log").exists()
    before = (tmp_path / "results/default/theory/tanh-L1/curve.csv").read_bytes()

    # Nothing changed: nothing to do.
    assert "Nothing to be done" in snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout

    # Change one model's noise: only that model's theory job reruns.
    changed = json.loads(json.dumps(TINY))
    changed["models"]["erf-L2"]["noise"] = 0.2
    write_config(config, changed)
    dry = snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
    assert "wildcards: model=erf-L2" in dry and "wildcards: model=tanh-L1" not in dry
    snakemake(repo, tmp_path, "--configfile", str(config))
    assert (tmp_path / "results/default/theory/tanh-L1/curve.csv").read_bytes() == before
    rows = list(csv.DictReader((tmp_path / "results/default/theory/erf-L2/curve.csv").open()))
    assert {float(r["noise"]) for r in rows} == {0.2}


def test_bad_config_fails_before_any_job(repo: Path, tmp_path: Path) -> None:
    bad = json.loads(json.dumps(TINY))
    bad["models"]["tanh-L1"]["nosie"] = 0.1
    bad["theory"]["alpha_num"] = 0
    config = write_config(tmp_path / "study.yaml", bad)
    result = snakemake(repo, tmp_path, "--configfile", str(config), check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "models.tanh-L1.nosie: unknown key" in output
    assert "theory.alpha_num = 0" in output
    assert not (tmp_path / "results").exists()


def test_default_config_dry_run_and_lint(repo: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    exe = str(Path(sys.executable).parent / "snakemake")
    dry = subprocess.run(
        [exe, "-n", "--cores", "1"], check=False, cwd=repo, capture_output=True, text=True, env=env
    )
    assert dry.returncode == 0, dry.stderr
    lint = subprocess.run([exe, "--lint"], check=False, cwd=repo, capture_output=True, text=True, env=env)
    assert lint.returncode == 0 and "good condition" in lint.stdout + lint.stderr, lint.stdout


SIM_TINY = {
    "models": {"tanh-L2": {"activation": "tanh", "depth": 2, "readout": "linear", "noise": 0.1}},
    "theory": {"alpha_min": 0.5, "alpha_max": 2.0, "alpha_num": 3},
    "simulation": {"models": ["tanh-L2"], "widths": [6], "alphas": [1.0], "seeds": 1, "test_size": 50},
    # d0 = 4 or 6 with 30 warm-up iterations: a chain can stick in a stiff corner; one retry with a smaller step
    "sampler": {"chains": 4, "warmup": 30, "samples": 20, "leapfrog_steps": 4, "divergence_retries": 1,
                "max_divergent_fraction": 0.3},
    # 20 draws per chain cannot meet production R-hat thresholds; keep every point in the tables' summaries
    "analysis": {"max_rhat": 10.0, "min_rhat_fraction": 0.0, "min_accept_rate": 0.0, "max_divergences": 100},
}


def _planned_jobs(dry_run: str) -> dict[str, int]:
    """Rule -> job count from a dry run's job-stats table."""
    table = dry_run.split("Job stats:", 1)[1].split("\n\n", 1)[0] if "Job stats:" in dry_run else ""
    counts = {}
    for line in table.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


def _planned_files(dry_run: str) -> set[str]:
    """Every output, log and benchmark file of the jobs a dry run lists."""
    files = set()
    for line in dry_run.splitlines():
        key, _, value = line.strip().partition(": ")
        if key in ("output", "log", "benchmark"):
            files.update(path.strip() for path in value.split(","))
    return files


def _snapshot(workdir: Path) -> dict[str, bytes]:
    """Every file under results/, by path relative to the working directory."""
    return {str(p.relative_to(workdir)): p.read_bytes() for p in (workdir / "results").rglob("*") if p.is_file()}


@pytest.mark.slow
def test_a_change_schedules_exactly_the_jobs_that_depend_on_it(repo: Path, tmp_path: Path) -> None:
    """Issue #5 §3: after a complete run, each change schedules only its dependants (dry-run job list) and,
    once run, leaves every other file under results/ byte-identical."""
    study = json.loads(json.dumps(SIM_TINY))
    study["models"]["erf-L1"] = {"activation": "erf", "depth": 1, "readout": "linear", "noise": 0.1}
    study["simulation"]["widths"] = [4]
    config = write_config(tmp_path / "study.yaml", study)
    snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
    # the complete run: one point's files, logs and benchmarks, the tables, the figures
    point = tmp_path / "results/default/sims/tanh-L2/d4/alpha1.0/seed0"
    metrics = json.loads((point / "metrics.json").read_text())
    assert metrics["n"] == 4 and metrics["hidden_widths"] == [4, 4] and metrics["seed"] == 0
    assert {"error_raw", "error_corrected", "error_nishimori", "rhat_max", "theory_error"} <= set(metrics["posterior"])
    assert metrics["glm_twin"]["glm_method"] == "conjugate"
    for name in ("data", "posterior", "glm_twin"):
        assert (point / f"{name}.log").exists() and (point / f"{name}.benchmark.tsv").exists()
    rows = list(csv.DictReader((tmp_path / "results/default/tables/simulations.csv").open()))
    assert len(rows) == 1 and rows[0]["model"] == "tanh-L2" and rows[0]["used"] == "True"
    assert rows[0]["config_hash"] == metrics["provenance"]["config_hash"]
    for figure in ("error_vs_alpha", "gap_vs_width", "universality", "diagnostics", "rulegraph"):
        assert (tmp_path / f"results/default/figures/{figure}.png").stat().st_size > 10_000, figure
    provenance = list(csv.DictReader((tmp_path / "results/default/provenance.csv").open()))
    assert len(provenance) == 2 + 5 + 1 and all(r["deeplin_version"] and r["config_hash"] for r in provenance)
    downstream = {"point_metrics": 1, "aggregate": 1, "plot": 4, "provenance": 1, "all": 1}
    point_jobs = {"simulate_data": 1, "deep_posterior": 1, "glm_twin": 1, **downstream}

    def change(edit, run: bool = True) -> dict[str, int]:
        """Apply ``edit`` to the study; return the dry run's job counts; run it and check what changed.

        Without ``run`` the edit is a dry run only, and the study file is put back afterwards."""
        edited = json.loads(json.dumps(study))
        edit(edited)
        write_config(config, edited)
        dry = snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
        if not run:
            write_config(config, study)
        else:
            study.update(edited)
            before = _snapshot(tmp_path)
            snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
            after = _snapshot(tmp_path)
            changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
            assert changed and changed <= _planned_files(dry), sorted(changed - _planned_files(dry))
        return _planned_jobs(dry)

    # (c) a simulated model's noise: its theory curve and its point; the theory-only model is untouched
    assert change(lambda c: c["models"]["tanh-L2"].update(noise=0.2)) == {"theory": 1, **point_jobs}
    assert change(lambda c: c["simulation"].update(widths=[4, 6])) == point_jobs  # (a) one new point
    assert change(lambda c: c["simulation"].update(seeds=2)) == {**point_jobs, "simulate_data": 2,
                                                                  "deep_posterior": 2, "glm_twin": 2,
                                                                  "point_metrics": 2}  # (b) seed 1 at widths 4, 6
    assert change(lambda c: c.update(plots={"dpi": 100})) == {"plot": 4, "rulegraph": 1, "all": 1}  # (d)
    # dry runs only (their reruns are the same kinds of jobs as above)
    assert change(lambda c: c["models"]["erf-L1"].update(noise=0.2), run=False) == {
        "theory": 1, "plot": 1, "provenance": 1, "all": 1}  # fmt: skip
    assert change(lambda c: c["sampler"].update(leapfrog_steps=5), run=False) == {
        "deep_posterior": 4, **downstream, "point_metrics": 4}  # fmt: skip
    # the checkpoint interval does not change any number, so it reruns nothing
    assert change(lambda c: c["sampler"].update(checkpoint_seconds=1), run=False) == {}

    # The report: every figure and table with its caption rendered from this config, and the provenance.
    snakemake(repo, tmp_path, "--configfile", str(config), "--report", "results/default/report.html")
    report = (tmp_path / "results/default/report.html").read_text(errors="replace")
    assert "Sampler diagnostics, one point per simulation" in report and "simulations.csv" in report
    assert "provenance.csv" in report and "Where each result file of this run came from" in report
