"""The simulation-vs-theory report on synthetic metrics files with known means."""

from __future__ import annotations

import json

import numpy as np
import pytest
from deeplin.cli import main
from deeplin.deep_equivalence.validation import group_summary, point_rows


def _write(
    tmp_path, seed: int, width: int, deep: float, nishimori: float, twin: float, flagged_by: str = ""
) -> str:
    record = {
        "model_name": "m",
        "activation": "tanh",
        "depth": 1,
        "readout": "linear",
        "noise": 0.1,
        "width": width,
        "alpha": 2.0,
        "n": 2 * width,
        "seed": seed,
        "posterior": {
            "error_corrected": deep,
            "error_nishimori": nishimori,
            "theory_error": 0.1,
            "rhat_max": 1.005,
            "rhat_fraction_ok": 1.0,
            "divergences": 0,
            "seconds": 3.0,
            "step_sizes": [0.1, 0.2],
            "flagged_by": flagged_by,
            "passes_diagnostics": not flagged_by,
        },
        "glm_twin": {
            "glm_error": twin,
            "glm_method": "conjugate",
            "glm_estimator_on_deep_error": deep + 0.002,
        },
    }
    path = tmp_path / f"w{width}s{seed}.json"
    path.write_text(json.dumps(record))
    return str(path)


def test_group_summary_means_and_flags(tmp_path, capsys) -> None:
    deep = np.array([0.10, 0.12, 0.14, 0.16])
    paths = [_write(tmp_path, k, 64, d, d - 0.01, 0.1 + 0.001 * k) for k, d in enumerate(deep)]
    paths += [_write(tmp_path, k, 32, 0.5, 0.1, 0.1) for k in range(2)]
    groups = group_summary(point_rows(paths))
    row = groups[groups["width"] == 64].iloc[0]
    assert row["deep"] == pytest.approx(deep.mean())
    assert row["deep_se"] == pytest.approx(deep.std(ddof=1) / 2)
    assert row["direct_minus_nishimori"] == pytest.approx(0.01)
    assert not row["nishimori_within_2se"]  # a constant offset with zero spread is a real disagreement
    assert row["deep_within_3se_plus_0.01"] and row["twin_within_3se"]
    assert row["deep_minus_glm_estimator"] == pytest.approx(-0.002)
    assert not groups[groups["width"] == 32].iloc[0]["deep_within_3se_plus_0.01"]
    assert main(["deep_equivalence", "check", str(tmp_path / "*.json")]) == 0
    assert "widest (64)" in capsys.readouterr().out


def test_check_and_summary_share_the_recorded_verdict(tmp_path, capsys) -> None:
    """A flagged point leaves the check's means exactly as it leaves summary.csv's (one verdict)."""
    from deeplin.deep_equivalence.aggregate import summarize
    from synthetic_metrics import analysis

    deep = [0.10, 0.12, 0.14]
    paths = [_write(tmp_path, k, 64, d, d, 0.1) for k, d in enumerate(deep)]
    paths.append(_write(tmp_path, 3, 64, 0.9, 0.9, 0.1, flagged_by="rhat>1.05"))
    points = point_rows(paths)
    assert points["flagged_by"].tolist() == ["", "", "", "rhat>1.05"] and points["used"].sum() == 3
    checked = group_summary(points[points["used"]]).iloc[0]
    summary = summarize(points, analysis()["confidence"]).iloc[0]
    assert checked["deep"] == pytest.approx(np.mean(deep)) == pytest.approx(summary["deep_mean"])
    assert main(["deep_equivalence", "check", str(tmp_path / "*.json")]) == 0
    out = capsys.readouterr().out
    assert "3 pass, 1 flagged (rhat>1.05: 1)" in out and "excluded below" in out
    # with every point included, the outlier moves the mean
    included = point_rows(paths, include_flagged=True)
    assert group_summary(included[included["used"]]).iloc[0]["deep"] > 0.3
