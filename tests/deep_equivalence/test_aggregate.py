"""Aggregation on synthetic metrics files with known means, intervals and slopes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from deeplin.deep_equivalence.aggregate import (
    fit_gap_slope,
    flag_points,
    load_points,
    mean_interval,
    scaling,
    summarize,
)
from deeplin.deep_equivalence.reporting import write_tables
from scipy import stats
from synthetic_metrics import GAP_SCALE, OFFSETS, THEORY, WIDTHS, analysis, write_study

ANALYSIS = analysis()


def test_mean_interval_is_student_t() -> None:
    values = pd.Series([0.1, 0.2, 0.4, 0.3])
    result = mean_interval(values, 0.95)
    se = values.std(ddof=1) / 2
    assert result["mean"] == pytest.approx(0.25) and result["se"] == pytest.approx(se)
    assert result["ci_high"] - result["mean"] == pytest.approx(stats.t.ppf(0.975, 3) * se)
    assert math.isnan(mean_interval(pd.Series([0.3]), 0.95)["se"])  # one seed: no interval, not zero


def test_summary_means_intervals_and_slope(tmp_path: Path) -> None:
    points = flag_points(load_points(write_study(tmp_path)), ANALYSIS)
    assert len(points) == 15 and points["used"].all() and (points["flagged_by"] == "").all()
    assert list(points.columns[:4]) == ["model", "activation", "depth", "readout"]
    assert "deep_step_sizes" not in points and points["hidden_widths"].iloc[0] == "32"
    summary = summarize(points, 0.95)
    se = OFFSETS.std(ddof=1) / math.sqrt(len(OFFSETS))
    for width in WIDTHS:
        row = summary[summary["width"] == width].iloc[0]
        gap = GAP_SCALE / math.sqrt(width)
        assert row["deep_mean"] == pytest.approx(THEORY + gap) and row["deep_se"] == pytest.approx(se)
        assert row["gap_theory_mean"] == pytest.approx(gap) and row["gap_theory_se"] == pytest.approx(se)
        assert row["gap_twin_mean"] == pytest.approx(0.5 * gap)  # paired by seed
        assert row["gap_glm_estimator_mean"] == pytest.approx(-1e-4)
        assert row["gap_glm_estimator_se"] == pytest.approx(0.0, abs=1e-12)
        assert row["fraction_passing"] == 1.0 and row["points_used"] == 5
    fits = scaling(summary, 0.95).set_index("gap")
    theory_fit = fits.loc["theory"]
    assert theory_fit["slope"] == pytest.approx(-0.5, abs=1e-9)  # the gaps lie exactly on 0.4 d^-1/2
    assert theory_fit["slope_ci_low"] < -0.5 < theory_fit["slope_ci_high"]
    assert theory_fit["widths_used"] == "32,64,128" and theory_fit["consistent_with_bound"]


def test_flagged_point_kept_in_table_but_not_in_summary_or_fit(tmp_path: Path) -> None:
    tables = write_tables(write_study(tmp_path, flagged_error=0.9), ANALYSIS, tmp_path / "tables")
    points = pd.read_csv(tmp_path / "tables/simulations.csv", keep_default_na=False)
    flagged = points[points["seed"] == 5]
    assert len(points) == 16 and len(flagged) == 1
    reasons = flagged["flagged_by"].iloc[0]
    assert "rhat>1.05" in reasons and "rhat_fraction<0.9" in reasons
    assert flagged["used"].iloc[0] in (False, "False")
    row = tables["summary"].set_index("width").loc[64]
    assert row["points"] == 6 and row["points_passing"] == 5 and row["points_used"] == 5
    assert row["deep_mean"] == pytest.approx(THEORY + GAP_SCALE / 8)  # the 0.9 outlier is not averaged in
    assert tables["scaling"].set_index("gap").loc["theory", "slope"] == pytest.approx(-0.5, abs=1e-9)
    assert json.loads((tmp_path / "tables/provenance.json").read_text())["points_flagged"] == 1

    # The same data with exclude_flagged off: the point enters the mean (and moves it).
    keep = analysis(exclude_flagged=False)
    summary = summarize(flag_points(load_points(write_study(tmp_path, 0.9)), keep), 0.95).set_index("width")
    assert summary.loc[64, "points_used"] == 6 and summary.loc[64, "deep_mean"] > THEORY + 0.1


def test_fit_needs_resolved_gaps() -> None:
    widths = np.array([16, 32, 64])
    fit = fit_gap_slope(widths, np.array([0.01, 0.001, -0.002]), np.array([0.002, 0.003, 0.003]), 0.95)
    assert math.isnan(fit["slope"]) and fit["widths_used"] == "16" and "needs 2" in fit["note"]
    # A zero standard error (one seed, or a constant paired gap) gives no weight, not a division by zero.
    assert math.isnan(fit_gap_slope(widths, np.full(3, 0.01), np.zeros(3), 0.95)["slope"])
    # Two resolved widths: the slope and an interval from the propagated standard errors alone.
    fit = fit_gap_slope(widths[:2], np.array([0.02, 0.01]), np.array([0.001, 0.001]), 0.95)
    assert fit["slope"] == pytest.approx(-1.0)
    se = math.sqrt(0.05**2 + 0.1**2) / math.log(2)  # SE(log|gap|) = SE/|gap| at each width
    assert fit["slope_se"] == pytest.approx(se, rel=1e-6)


def test_sign_readout_is_summarised_by_classification_errors(tmp_path: Path) -> None:
    """Theory and twin give classification errors for the sign readout: the deep side must too, not the MSE."""
    from synthetic_metrics import metrics_record

    paths = []
    for seed, wrong in enumerate((0.20, 0.22, 0.24)):
        record = metrics_record(
            32, seed, deep=0.8, classification_error=wrong, classification_error_nishimori=wrong
        )
        record["readout"] = "sign"
        record["glm_twin"]["glm_estimator_on_deep_error"] = wrong + 0.01
        paths.append(tmp_path / f"s{seed}.json")
        paths[-1].write_text(json.dumps(record))
    row = summarize(flag_points(load_points(paths), ANALYSIS), 0.95).iloc[0]
    assert row["deep_mean"] == pytest.approx(0.22)  # not the 0.8 of the squared error of ±1 outputs
    assert row["gap_theory_mean"] == pytest.approx(0.22 - THEORY)
    assert row["gap_glm_estimator_mean"] == pytest.approx(-0.01)


def test_rao_blackwellised_error_is_summarised_for_the_linear_readout_only(tmp_path: Path) -> None:
    from synthetic_metrics import metrics_record

    paths = []
    for readout in ("linear", "tanh"):
        for seed, rb in enumerate((0.10, 0.12, 0.17)):
            extra = {"error_rb_corrected": rb} if readout == "linear" else {}
            record = metrics_record(32, seed, deep=0.3, **extra)
            record["readout"], record["model_name"] = readout, readout
            paths.append(tmp_path / f"{readout}{seed}.json")
            paths[-1].write_text(json.dumps(record))
    summary = summarize(flag_points(load_points(paths), ANALYSIS), 0.95).set_index("readout")
    assert summary.loc["linear", "deep_rb_mean"] == pytest.approx(0.13)
    assert summary.loc["linear", "deep_rb_se"] == pytest.approx(
        np.std([0.10, 0.12, 0.17], ddof=1) / math.sqrt(3)
    )
    assert summary.loc["linear", "deep_mean"] == pytest.approx(0.3)  # the headline stays the plain estimate
    assert math.isnan(summary.loc["tanh", "deep_rb_mean"])  # a tanh readout has no Gaussian conditional
