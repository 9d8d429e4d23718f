"""The generative-data rules end to end through Snakemake on the tiny study of tests/generative_data/workflow.yaml
(next to a theory-only deep-equivalence section): every output under results/<study>/generative_data/."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deeplin.generative_data import reporting
from deeplin.generative_data.figure_names import FIGURES, TABLES
from deeplin.io import read_provenance
from snakemake_runs import THEORY_TINY, result_study_file, snakemake, write_config

pytestmark = pytest.mark.workflow

RESULT = "results/default/generative_data"


def test_tiny_study_end_to_end(repo: Path, tmp_path: Path) -> None:
    import yaml

    section = yaml.safe_load(result_study_file("generative_data").read_text(encoding="utf-8"))[
        "generative_data"
    ]
    config = write_config(tmp_path / "study.yaml", {**THEORY_TINY, "generative_data": section})
    snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
    results = tmp_path / RESULT
    for generator in ("sign", "deep_tanh"):
        with np.load(results / "runs" / generator / "N16" / "generator.npz") as archive:
            assert archive["omega"].shape == (16, 16) and archive["phi"].shape == (16, 8)
        assert read_provenance(results / "runs" / generator / "N16" / "ode.json")["config_hash"]
    sgd = pd.read_csv(results / "tables" / "generative_sgd.csv")
    assert list(sgd.columns[: len(reporting.SGD_COLUMNS)]) == list(reporting.SGD_COLUMNS)
    assert set(sgd["generator"]) == {"sign", "deep_tanh"} and set(sgd["seed"]) == {0, 1}
    start = sgd[sgd["t"] == 0]
    assert np.allclose(start["error_simulation"], start["error_ode"])  # the ODE starts from SGD's W0
    ridge = pd.read_csv(results / "tables" / "generative_ridge.csv")
    assert list(ridge.columns) == list(reporting.RIDGE_COLUMNS) and len(ridge) == 4
    assert (ridge["V"] > 0).all() and ridge["theory"].notna().all()
    fields = pd.read_csv(results / "tables" / "generative_fields.csv")
    assert set(fields["student"]) == {"dense_0", "dense_1", "sparse_1"}
    for name in TABLES:
        assert read_provenance(results / "tables" / f"{name}.provenance.json")["config_hash"]
    for name in FIGURES:
        for extension in ("png", "pdf"):
            assert (results / "figures" / f"{name}.{extension}").stat().st_size > 10_000
    provenance = pd.read_csv(tmp_path / "results" / "default" / "provenance.csv")
    assert f"{RESULT}/runs/sign/N16/generator.npz" in set(provenance["file"])
    assert "Nothing to be done" in snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
