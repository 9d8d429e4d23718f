"""Every column of every table a run writes has a description in deeplin.deep_equivalence.columns (one source,
shown in the report as columns.csv): a new column without one fails here.

The tables are built from real metrics: one tiny simulated point per readout (linear: exact conjugate twin;
tanh: GAMP; sign: GAMP and classification errors), run through the same steps as the workflow's jobs.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from deeplin.config import validate_slice
from deeplin.deep_equivalence import columns
from deeplin.deep_equivalence.data import make_data
from deeplin.deep_equivalence.figure_names import TABLES
from deeplin.deep_equivalence.glm_twin import glm_twin
from deeplin.deep_equivalence.point_metrics import merge_metrics
from deeplin.deep_equivalence.posterior import deep_posterior
from deeplin.deep_equivalence.reporting import write_tables
from synthetic_metrics import analysis, write_study

TINY_SAMPLER = {
    "chains": 4,
    "warmup": 30,
    "samples": 30,
    "leapfrog_steps": 4,
    "target_accept": 0.8,
    "dtype": "float64",
    "device": "cpu",
    "max_divergent_fraction": 1.0,
}
# The posterior step's settings as the rule passes them: validated, the schema's defaults filled in.
POSTERIOR_SETTINGS = validate_slice({"deep_equivalence": {"sampler": TINY_SAMPLER, "analysis": {}}})[
    "deep_equivalence"
]
DESCRIBED = ("simulations", "summary", "scaling", "headline")


@pytest.fixture(scope="module")
def real_tables(tmp_path_factory) -> dict[str, pd.DataFrame]:
    root = tmp_path_factory.mktemp("tiny")
    metrics = []
    for readout in ("linear", "tanh", "sign"):
        model = {
            "activation": "tanh",
            "depth": 2,
            "readout": readout,
            "noise": 0.1,
            "width_ratios": [1.0, 1.0],
        }
        point = root / readout
        point.mkdir()
        data = str(point / "data.npz")
        make_data(f"tiny-{readout}", model, 6, 1.0, 0, 40, data)
        deep_posterior(data, POSTERIOR_SETTINGS, str(point / "posterior.json"))
        glm_twin(data, str(point / "glm_twin.json"))
        merge_metrics(
            data, str(point / "posterior.json"), str(point / "glm_twin.json"), str(point / "metrics.json")
        )
        metrics.append(point / "metrics.json")
    # exclude_flagged off: the tiny chains fail the diagnostics, and the summaries should still be filled
    return write_tables(metrics + write_study(root), analysis(exclude_flagged=False), root / "tables")


def test_every_column_of_every_table_is_described(real_tables) -> None:
    for table in DESCRIBED:
        frame = real_tables[table]
        assert len(frame.columns) > 5, table
        assert columns.undescribed(table, frame.columns) == [], table
    # the sign readout's and GAMP's own columns are among them
    simulations = set(real_tables["simulations"].columns)
    assert {
        "deep_classification_error",
        "twin_gamp_converged",
        "twin_expected_error",
        "deep_error_noisy_raw",
    } <= simulations


def test_columns_csv_lists_every_column_once_with_its_description(real_tables, tmp_path: Path) -> None:
    guide = real_tables["columns"]
    assert set(TABLES) == {*DESCRIBED, "columns"}
    expected = [(f"{t}.csv", c) for t in DESCRIBED for c in real_tables[t].columns]
    assert list(zip(guide["table"], guide["column"], strict=True)) == expected
    assert (guide["description"].str.len() > 10).all()


def test_a_new_column_without_description_is_caught() -> None:
    assert columns.undescribed("simulations", ["deep_error_raw", "deep_brand_new_metric"]) == [
        "deep_brand_new_metric"
    ]
    assert columns.undescribed(
        "summary", ["twin_mean", "twin_median", "gap_theory_ci_low", "gap_foo_mean"]
    ) == [
        "twin_median",
        "gap_foo_mean",
    ]
    with pytest.raises(KeyError, match="deep_brand_new_metric"):
        columns.describe("simulations", "deep_brand_new_metric")


def test_pattern_descriptions_name_what_they_stand_for() -> None:
    text = columns.describe("simulations", "deep_prior_half_error_corrected")
    assert "from the prior" in text and "draw_bias" in text
    assert "teacher" in columns.describe("simulations", "deep_teacher_half_ess_bulk_median")
    assert columns.describe("summary", "gap_glm_estimator_ci_high").startswith("upper end")
    assert "paired gap" in columns.describe("summary", "gap_glm_estimator_mean")
    assert "GLM twin" in columns.describe("summary", "twin_se")


def test_the_two_twin_errors_are_told_apart() -> None:
    realised, expected = (
        columns.describe("simulations", name) for name in ("twin_error", "twin_expected_error")
    )
    assert "realised error of one teacher" in realised
    assert "tr(A⁻¹)" in expected and "averaged over the posterior" in expected and "teacher-free" in expected
