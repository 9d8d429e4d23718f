"""The deep-equivalence rules end to end through Snakemake: the theory of two models, and the tiny simulated
study of tests/deep_equivalence/workflow.yaml, with every output under results/<study>/deep_equivalence/."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest
from deeplin.deep_equivalence.figure_names import (
    CHAPTER,
    FIGURES,
    FIGURES_SUBCATEGORY,
    TABLES,
    TABLES_SUBCATEGORY,
)
from deeplin.deep_equivalence.theory import theory_curve
from deeplin.report_order import PROVENANCE, RULE_GRAPH
from snakemake_runs import BIN, THEORY_TINY, VENV_ENV, result_study_file, snakemake, write_config

pytestmark = pytest.mark.workflow

RESULT = "results/default/deep_equivalence"


def test_theory_rule_end_to_end_and_incremental(repo: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "study.yaml", THEORY_TINY)
    snakemake(repo, tmp_path, "--configfile", str(config))
    for model, spec in THEORY_TINY["deep_equivalence"]["models"].items():
        folder = tmp_path / RESULT / "theory" / model
        rows = list(csv.DictReader((folder / "curve.csv").open()))
        coefficients = json.loads((folder / "coefficients.json").read_text())
        assert len(rows) == 4 and coefficients["depth"] == spec["depth"]
        # the rule's numbers are the package's numbers for the same parameters
        _, expected = theory_curve(
            spec["activation"],
            spec["depth"],
            spec["readout"],
            spec["noise"],
            [float(r["alpha"]) for r in rows],
        )
        for row, ref in zip(rows, expected, strict=True):
            assert float(row["q"]) == pytest.approx(ref["q"], rel=1e-12)
            assert float(row["error"]) == pytest.approx(ref["error"], rel=1e-12)
        assert (tmp_path / RESULT / "logs" / "theory" / f"{model}.log").exists()
    # a theory-only study draws the one figure that needs no simulation, and writes no table
    assert sorted(p.name for p in (tmp_path / RESULT / "figures").glob("*.png")) == ["error_vs_alpha.png"]
    assert not (tmp_path / RESULT / "tables").exists() and not (tmp_path / RESULT / "sims").exists()
    before = (tmp_path / RESULT / "theory/tanh-L1/curve.csv").read_bytes()

    # Nothing changed: nothing to do.
    assert "Nothing to be done" in snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout

    # Change one model's noise: only that model's theory job reruns.
    changed = json.loads(json.dumps(THEORY_TINY))
    changed["deep_equivalence"]["models"]["erf-L2"]["noise"] = 0.2
    write_config(config, changed)
    dry = snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
    assert "wildcards: model=erf-L2" in dry and "wildcards: model=tanh-L1" not in dry
    snakemake(repo, tmp_path, "--configfile", str(config))
    assert (tmp_path / RESULT / "theory/tanh-L1/curve.csv").read_bytes() == before
    rows = list(csv.DictReader((tmp_path / RESULT / "theory/erf-L2/curve.csv").open()))
    assert {float(r["noise"]) for r in rows} == {0.2}


def _report_categories(report: str) -> dict:
    """The report's chapters: category -> subcategory -> sorted files, from the list in the report's page script."""
    found = re.search(r"var categories = (\{.*?\});\n", report)
    assert found, "no category list in the report"
    return {
        category: {sub: sorted(files) for sub, files in subs.items()}
        for category, subs in json.loads(found.group(1)).items()
    }


@pytest.mark.slow
def test_tiny_simulated_study_end_to_end(repo: Path, tmp_path: Path) -> None:
    """Every output of one simulated point, the tables, the figures, the study-wide files, the result's own
    check command, and the report's chapter."""
    snakemake(repo, tmp_path, "--configfile", str(result_study_file("deep_equivalence")), "--cores", "2")
    point = tmp_path / RESULT / "sims/tanh-L2/d4/alpha1.0/seed0"
    metrics = json.loads((point / "metrics.json").read_text())
    assert metrics["n"] == 4 and metrics["hidden_widths"] == [4, 4] and metrics["seed"] == 0
    assert {"error_raw", "error_corrected", "error_nishimori", "rhat_max", "theory_error"} <= set(
        metrics["posterior"]
    )
    assert metrics["glm_twin"]["glm_method"] == "conjugate"
    for name in ("data", "posterior", "glm_twin"):
        assert (point / f"{name}.log").exists() and (point / f"{name}.benchmark.tsv").exists()
    rows = list(csv.DictReader((tmp_path / RESULT / "tables/simulations.csv").open()))
    assert len(rows) == 1 and rows[0]["model"] == "tanh-L2" and rows[0]["used"] == "True"
    assert rows[0]["config_hash"] == metrics["provenance"]["config_hash"]
    assert sorted(p.stem for p in (tmp_path / RESULT / "tables").glob("*.csv")) == sorted(TABLES)
    for figure in FIGURES:
        assert (tmp_path / RESULT / f"figures/{figure}.png").stat().st_size > 10_000, figure
        assert (tmp_path / RESULT / f"figures/{figure}.pdf").stat().st_size > 0, figure
    # study-wide: the rule graph of the whole run and the provenance of every result file
    assert (tmp_path / "results/default/figures/rulegraph.png").stat().st_size > 10_000
    provenance = list(csv.DictReader((tmp_path / "results/default/provenance.csv").open()))
    # 2 theory coefficient files, 5 files of the one point, the tables' provenance record
    assert len(provenance) == 2 + 5 + 1 and all(r["deeplin_version"] and r["config_hash"] for r in provenance)
    assert all(r["file"].startswith(f"{RESULT}/") for r in provenance), [r["file"] for r in provenance]

    # the result's check command, on its default folder (results/default/deep_equivalence/sims)
    check = subprocess.run(
        [str(BIN / "deeplin"), "deep_equivalence", "check"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
        env=VENV_ENV,
    )
    assert check.returncode == 0, check.stderr
    assert "points: 1; used: 1; groups (model, width, alpha): 1" in check.stdout, check.stdout

    # The report: the result's chapter (figures and tables), the provenance and the rule graph, each item with
    # its caption rendered from this config.
    snakemake(
        repo,
        tmp_path,
        "--configfile",
        str(result_study_file("deep_equivalence")),
        "--report",
        "results/default/report.html",
    )
    report = (tmp_path / "results/default/report.html").read_text(errors="replace")
    assert _report_categories(report) == {
        CHAPTER: {
            FIGURES_SUBCATEGORY: sorted(f"{RESULT}/figures/{f}.png" for f in FIGURES),
            TABLES_SUBCATEGORY: sorted(f"{RESULT}/tables/{t}.csv" for t in TABLES),
        },
        PROVENANCE: {"Other": ["results/default/provenance.csv"]},
        RULE_GRAPH: {"Other": ["results/default/figures/rulegraph.png"]},
    }
    assert "Sampler diagnostics, one point per simulation" in report and "simulations.csv" in report
    assert "provenance.csv" in report and "Where each result file of this run came from" in report


@pytest.mark.slow
def test_grouped_posterior_jobs_write_the_files_of_one_job_per_point(repo: Path, tmp_path: Path) -> None:
    """sampler.points_per_job = 2 with 3 seeds: jobs seeds0-1 and seeds2-2; every point's posterior.json and
    summary are those its own job writes; adding a seed reruns only the last chunk's job."""
    import numpy as np
    import yaml
    from deeplin.config import validate_config, validate_slice
    from deeplin.deep_equivalence import settings as de_settings
    from deeplin.deep_equivalence.posterior import deep_posterior

    study = yaml.safe_load(result_study_file("deep_equivalence").read_text())
    study["deep_equivalence"]["simulation"]["seeds"] = 3
    study["deep_equivalence"]["sampler"]["points_per_job"] = 2
    config = write_config(tmp_path / "grouped.yaml", study)
    cell = tmp_path / RESULT / "sims/tanh-L2/d4/alpha1.0"
    targets = [str(cell.relative_to(tmp_path) / f"seed{s}/posterior.json") for s in range(3)]
    run = snakemake(repo, tmp_path, *targets, "--cores", "2", "--configfile", str(config))
    assert (run.stdout + run.stderr).count("rule deep_equivalence_posterior_group:") == 2
    assert sorted(p.name for p in cell.glob("seeds*") if p.is_dir()) == ["seeds0-1", "seeds2-2"]
    settings = validate_slice(de_settings.posterior_settings(validate_config(study)))["deep_equivalence"]
    timing = {"seconds", "seconds_warmup", "seconds_sampling", "provenance"}
    for seed in range(3):
        point = cell / f"seed{seed}"
        alone = deep_posterior(
            str(point / "data.npz"), settings, str(tmp_path / "alone.json"), str(tmp_path / "alone.npz")
        )
        grouped = json.loads((point / "posterior.json").read_text())
        assert {k: v for k, v in grouped.items() if k not in timing} == {
            k: v for k, v in alone.items() if k not in timing
        }
        assert grouped["provenance"]["config_hash"] == alone["provenance"]["config_hash"]
        with np.load(point / "posterior_summary.npz") as a, np.load(tmp_path / "alone.npz") as b:
            assert all(np.array_equal(a[k], b[k]) for k in ("posterior_mean", "posterior_variance"))
        assert f"seed={seed}: sampling stopped after" in (point / "posterior.log").read_text()
    assert (
        "Nothing to be done" in snakemake(repo, tmp_path, "-n", *targets, "--configfile", str(config)).stdout
    )
    study["deep_equivalence"]["simulation"]["seeds"] = 4
    write_config(config, study)
    dry = snakemake(
        repo, tmp_path, "-n", *targets, targets[-1].replace("seed2", "seed3"), "--configfile", str(config)
    )
    assert "first=2, last=3" in dry.stdout + dry.stderr and "first=0, last=1" not in dry.stdout + dry.stderr
