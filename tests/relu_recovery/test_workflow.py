"""The recovery rules end to end through Snakemake on the tiny study of tests/relu_recovery/workflow.yaml
(next to a theory-only deep-equivalence section): every output under results/<study>/relu_recovery/."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from deeplin.io import read_provenance
from deeplin.relu_recovery.aggregate import COLUMNS, THRESHOLD_COLUMNS
from deeplin.relu_recovery.figure_names import FIGURES
from snakemake_runs import THEORY_TINY, result_study_file, snakemake, write_config

pytestmark = pytest.mark.workflow

RESULT = "results/default/relu_recovery"


def test_tiny_study_end_to_end(repo: Path, tmp_path: Path) -> None:
    section = yaml.safe_load(result_study_file("relu_recovery").read_text(encoding="utf-8"))["relu_recovery"]
    config = write_config(tmp_path / "study.yaml", {**THEORY_TINY, "relu_recovery": section})
    snakemake(repo, tmp_path, "--configfile", str(config), "--cores", "2")
    cell = tmp_path / RESULT / "cells" / "d4" / "r3.0" / "trials.json"
    data = json.loads(cell.read_text())
    assert data["n"] == 12 and read_provenance(cell)["config_hash"]
    # 2 trials × 2 noise levels × 2 programs, every one solved and with its bookkeeping
    assert len(data["records"]) == 8 and all(r["solved"] for r in data["records"])
    table = pd.read_csv(tmp_path / RESULT / "tables" / "relu_recovery.csv")
    assert list(table.columns) == list(COLUMNS) and len(table) == 2 * 2 * 2
    assert (table["certified_not_recovered"] == 0).all() and (table["relaxed_above_exact"] == 0).all()
    # n = d = 4: the points lie in a half space with probability 1, so the relaxed program never recovers
    low = table[(table["n"] == 4) & (table["noise"] == 0)]
    assert (low["wendel_all_ones"] == 1).all() and (low["all_ones_rate"] == 1).all()
    assert low.set_index("program").loc["relaxed", "rate"] == 0
    thresholds = pd.read_csv(tmp_path / RESULT / "tables" / "relu_recovery_thresholds.csv")
    assert list(thresholds.columns) == list(THRESHOLD_COLUMNS) and set(thresholds["program"]) == {
        "relaxed",
        "exact",
    }
    for name in FIGURES:
        for extension in ("png", "pdf"):
            assert (tmp_path / RESULT / "figures" / f"{name}.{extension}").stat().st_size > 10_000
    provenance = pd.read_csv(tmp_path / "results" / "default" / "provenance.csv")
    assert {f"{RESULT}/cells/d4/r1.0/trials.json", f"{RESULT}/tables/provenance.json"} <= set(
        provenance["file"]
    )
    assert "Nothing to be done" in snakemake(repo, tmp_path, "-n", "--configfile", str(config)).stdout
