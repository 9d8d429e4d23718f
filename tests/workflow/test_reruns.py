"""Snakemake over the whole study: the default config dry-runs and lints, and after a complete run each change of
the config schedules exactly the jobs that depend on it, leaving every other file byte-identical."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from snakemake_runs import (
    BIN,
    VENV_ENV,
    planned_files,
    planned_jobs,
    snakemake,
    snapshot,
    tiny_study,
    write_config,
)

pytestmark = pytest.mark.workflow


def test_default_config_dry_run_and_lint(repo: Path) -> None:
    exe = str(BIN / "snakemake")
    dry = subprocess.run(
        [exe, "-n", "--cores", "1"], check=False, cwd=repo, capture_output=True, text=True, env=VENV_ENV
    )
    assert dry.returncode == 0, dry.stderr
    lint = subprocess.run(
        [exe, "--lint"], check=False, cwd=repo, capture_output=True, text=True, env=VENV_ENV
    )
    assert lint.returncode == 0 and "good condition" in lint.stdout + lint.stderr, lint.stdout


@pytest.mark.slow
def test_a_change_schedules_exactly_the_jobs_that_depend_on_it(repo: Path, tmp_path: Path) -> None:
    """After a complete run of the tiny study (tests/deep_equivalence/workflow.yaml: one simulated model at
    one point, one theory-only model; tests/deep_linear/workflow.yaml: one cell; tests/generative_data/workflow.yaml:
    two generators at one width, two ridge points each; tests/relu_recovery/workflow.yaml: two cells), each change
    schedules only its dependants (the dry run's job list) and,
    once run, leaves every other file under results/ byte-identical."""
    study = tiny_study()
    config = write_config(tmp_path / "study.yaml", study)
    snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
    assert "Nothing to be done" in snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
    de, dl, gd, rr = "deep_equivalence", "deep_linear", "generative_data", "relu_recovery"
    downstream = {f"{de}_metrics": 1, f"{de}_aggregate": 1, f"{de}_plot": 4, "provenance": 1, "all": 1}
    point_jobs = {f"{de}_data": 1, f"{de}_posterior": 1, f"{de}_twin": 1, **downstream}

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
            study.clear()
            study.update(edited)
            before = snapshot(tmp_path)
            snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
            after = snapshot(tmp_path)
            changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
            assert changed and changed <= planned_files(dry), sorted(changed - planned_files(dry))
        return planned_jobs(dry)

    # (c) a simulated model's noise: its theory curve and its point; the theory-only model is untouched
    assert change(lambda c: c[de]["models"]["tanh-L2"].update(noise=0.2)) == {f"{de}_theory": 1, **point_jobs}
    # (a) one new width: one new point
    assert change(lambda c: c[de]["simulation"].update(widths=[4, 6])) == point_jobs
    # (b) a second seed: seed 1 at widths 4 and 6
    assert change(lambda c: c[de]["simulation"].update(seeds=2)) == {
        **point_jobs,
        f"{de}_data": 2,
        f"{de}_posterior": 2,
        f"{de}_twin": 2,
        f"{de}_metrics": 2,
    }
    # (d) the shared figure style: every figure of every result, the rule graph's included
    assert change(lambda c: c.update(plots={"dpi": 100})) == {
        f"{de}_plot": 4,
        f"{dl}_plot": 4,
        f"{gd}_plot": 3,
        f"{rr}_plot": 3,
        "rulegraph": 1,
        "all": 1,
    }
    # (e) deep linear networks: one new width adds one cell; the deep-equivalence jobs are untouched
    cell_downstream = {f"{dl}_table": 1, f"{dl}_plot": 4, "provenance": 1, "all": 1}
    cell_jobs = {f"{dl}_simulate": 1, f"{dl}_compare": 1, **cell_downstream}
    assert change(lambda c: c[dl].update(widths=[4, 6])) == cell_jobs
    # (f) one new depth ratio: two new cells (both widths)
    assert change(lambda c: c[dl].update(depth_ratios=[0.5, 0.25])) == {
        **cell_jobs,
        f"{dl}_simulate": 2,
        f"{dl}_compare": 2,
    }
    # (g) generative data: a new λ adds its ridge points (both generators, both α), the ridge table and figure
    ridge_downstream = {f"{gd}_table": 1, f"{gd}_plot": 1, "provenance": 1, "all": 1}
    assert change(lambda c: c[gd]["ridge"].update(lambdas=[0.1, 0.01])) == {
        f"{gd}_ridge": 4,
        **ridge_downstream,
    }
    # (h) planted-neuron recovery: one new n/d adds only that cell's solve and the tables and figures
    assert change(lambda c: c[rr].update(ratios=[1.0, 3.0, 2.0])) == {
        f"{rr}_solve": 1,
        f"{rr}_table": 1,
        f"{rr}_plot": 3,
        "provenance": 1,
        "all": 1,
    }
    # dry runs only (their reruns are the same kinds of jobs as above)
    # a new α: its points at both generators and both λ, nothing else
    assert change(lambda c: c[gd]["ridge"].update(alphas=[0.5, 2.0, 1.0]), run=False) == {
        f"{gd}_ridge": 4,
        **ridge_downstream,
    }
    # the ODE's tolerance: both ODE jobs and the SGD table and figure, not the SGD simulation
    assert change(lambda c: c[gd].update(ode={"rtol": 1e-7}), run=False) == {
        f"{gd}_ode": 2,
        **ridge_downstream,
    }
    assert change(lambda c: c[de]["models"]["erf-L1"].update(noise=0.2), run=False) == {
        f"{de}_theory": 1,
        f"{de}_plot": 1,
        "provenance": 1,
        "all": 1,
    }
    assert change(lambda c: c[de]["sampler"].update(leapfrog_steps=5), run=False) == {
        f"{de}_posterior": 4,
        **downstream,
        f"{de}_metrics": 4,
    }
    # the checkpoint interval does not change any number, so it reruns nothing
    assert change(lambda c: c[de]["sampler"].update(checkpoint_seconds=1), run=False) == {}
    # the deep-linear reference draws: every cell's comparison, not its networks
    assert change(lambda c: c[dl].update(reference_draws=3000), run=False) == {
        f"{dl}_compare": 4,
        **cell_downstream,
    }


@pytest.mark.slow
def test_mutual_information_and_quadratic_rules_end_to_end(repo: Path, tmp_path: Path) -> None:
    """The mutual-information ladder and the quadratic regime on the tiny study (no proportional simulation):
    every table and figure is written, the table holds one row with the issue's columns, and afterwards a new
    seed or a new rung count schedules only the new rungs' and the point's jobs, never the base points again."""
    de = "deep_equivalence"
    study = tiny_study()
    study[de]["simulation"]["models"] = []
    study[de]["mutual_information"] = {
        "models": ["tanh-L2"],
        "widths": [4],
        "alphas": [1.0],
        "seeds": 1,
        "rungs": 2,
    }
    study[de]["quadratic"] = {"models": ["tanh-L2"], "widths": [4], "kappas": [0.5], "seeds": 1}
    config = write_config(tmp_path / "study.yaml", study)
    snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
    results = tmp_path / "results" / "default" / de
    table = (results / "tables" / "mutual_information.csv").read_text().splitlines()
    columns = table[0].split(",")
    for name in (
        "model",
        "width",
        "alpha",
        "seed",
        "rungs",
        "mi_deep",
        "mi_deep_se",
        "mi_deep_nishimori",
        "mi_glm_twin",
        "mi_theory",
        "quadrature_error",
    ):
        assert name in columns
    row = dict(zip(columns, table[1].split(","), strict=True))
    assert len(table) == 2 and row["rungs"] == "2" and float(row["mi_glm_twin"]) > 0
    assert float(row["mi_deep_nishimori"]) > 0
    for name in ("mutual_information", "mutual_information_gap", "quadratic_regime"):
        assert (results / "figures" / f"{name}.png").stat().st_size > 10_000
    assert len((results / "tables" / "quadratic_regime.csv").read_text().splitlines()) == 2
    assert "Nothing to be done" in snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
    after = {f"{de}_mi_point": 1, f"{de}_mi_table": 1, f"{de}_mi_plot": 2, "provenance": 1, "all": 1}

    def dry(edit) -> dict[str, int]:
        edited = json.loads(json.dumps(study))
        edit(edited[de]["mutual_information"])
        write_config(config, edited)
        return planned_jobs(snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout)

    # a second seed: its data and its two rungs
    assert dry(lambda mi: mi.update(seeds=2)) == {
        f"{de}_data": 1,
        f"{de}_mi_rung_data": 2,
        f"{de}_mi_rung_posterior": 2,
        **after,
    }
    # three rungs instead of two: three new rungs (the Gauss–Legendre nodes move), the base point is kept
    assert dry(lambda mi: mi.update(rungs=3)) == {
        f"{de}_mi_rung_data": 3,
        f"{de}_mi_rung_posterior": 3,
        **after,
    }
    # grouped rungs (sampler.points_per_job = 2): the 3 rungs in jobs rungs0-1 and rungs2-2, each rung's files
    # then taken from its group's folder; the rung data and the point as before
    grouped = json.loads(json.dumps(study))
    grouped[de]["mutual_information"]["rungs"] = 3
    grouped[de]["sampler"]["points_per_job"] = 2
    write_config(config, grouped)
    dry = snakemake(repo, tmp_path, "-n", "--configfile", str(config))
    jobs = planned_jobs(dry.stdout)
    assert jobs[f"{de}_mi_rung_group"] == 2 and jobs[f"{de}_mi_rung_posterior"] == 3, jobs
    assert jobs[f"{de}_mi_rung_data"] == 3 and jobs[f"{de}_mi_point"] == 1, jobs
    assert "first=0, last=1" in dry.stdout and "first=2, last=2" in dry.stdout
