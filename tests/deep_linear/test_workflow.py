"""The deep-linear rules end to end through Snakemake on the tiny study of tests/deep_linear/workflow.yaml
(next to a theory-only deep-equivalence section): every output under results/<study>/deep_linear/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deeplin.deep_linear import compare
from deeplin.deep_linear.figure_names import FIGURES
from deeplin.io import read_provenance
from snakemake_runs import THEORY_TINY, result_study_file, snakemake, write_config

pytestmark = pytest.mark.workflow

RESULT = "results/default/deep_linear"


def test_tiny_study_end_to_end(repo: Path, tmp_path: Path) -> None:
    import yaml

    section = yaml.safe_load(result_study_file("deep_linear").read_text(encoding="utf-8"))["deep_linear"]
    config = write_config(tmp_path / "study.yaml", {**THEORY_TINY, "deep_linear": section})
    snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
    cell = tmp_path / RESULT / "cells" / "a0.5" / "N4"
    with np.load(cell / "networks.npz") as archive:
        outputs, kernels = archive["outputs"], archive["kernels"]
    assert outputs.shape == (200, 2, 2) and kernels.shape == (200, 2, 2)
    assert np.allclose(kernels, np.swapaxes(kernels, 1, 2)) and (np.linalg.eigvalsh(kernels) > 0).all()
    assert read_provenance(cell / "networks.npz")["config_hash"]
    rows = json.loads((cell / "statistics.json").read_text())["rows"]
    table = pd.read_csv(tmp_path / RESULT / "tables" / "deep_linear.csv")
    assert list(table.columns) == list(compare.COLUMNS)
    assert (
        list(table["statistic"])
        == [row["statistic"] for row in rows]
        == [*compare.MOMENTS, *compare.DISTRIBUTIONS]
    )
    assert set(table["L"]) == {2} and set(table["networks"]) == {200}
    moments = table[table["statistic"].isin(compare.MOMENTS)]
    assert moments["z"].notna().all() and (moments["z"].abs() <= 5).all(), moments[["statistic", "z"]]
    for name in FIGURES:
        for extension in ("png", "pdf"):
            assert (tmp_path / RESULT / "figures" / f"{name}.{extension}").stat().st_size > 10_000
    provenance = pd.read_csv(tmp_path / "results" / "default" / "provenance.csv")
    assert {f"{RESULT}/cells/a0.5/N4/networks.npz", f"{RESULT}/tables/provenance.json"} <= set(
        provenance["file"]
    )
    assert "Nothing to be done" in snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
