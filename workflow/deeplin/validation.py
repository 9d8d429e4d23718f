"""Checks of the simulations against theory, from the per-point metrics.json files (issue #3).

Every group is one (model, width, α) over seeds; standard errors are over seeds (teachers), which is the
randomness the theory averages over.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .aggregate import load_points

def point_rows(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per metrics.json, as in results/tables/simulations.csv (deeplin.aggregate.load_points)."""
    return load_points(paths)


def _mean_se(values: pd.Series) -> tuple[float, float]:
    count = values.count()
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(count)) if count > 1 else math.nan


def group_summary(points: pd.DataFrame) -> pd.DataFrame:
    """Per (model, width, α): mean ± SE over seeds of the deep, Nishimori and twin errors vs theory."""
    out = []
    for (model, width, alpha), group in points.groupby(["model", "width", "alpha"], sort=True):
        deep, deep_se = _mean_se(group["deep_error_corrected"])
        nishimori, nishimori_se = _mean_se(group["deep_error_nishimori"])
        paired, paired_se = _mean_se(group["deep_error_corrected"] - group["deep_error_nishimori"])
        twin, twin_se = _mean_se(group["twin_error"])
        # Same deep data, GLM-optimal estimator: the pairing removes the teacher-to-teacher spread.
        versus_estimator, versus_estimator_se = _mean_se(
            group["deep_error_corrected"] - group.get("twin_estimator_on_deep_error", math.nan)
        )
        theory = float(group["theory_error"].iloc[0])
        out.append(
            {
                "model": model,
                "width": int(width),
                "alpha": float(alpha),
                "seeds": len(group),
                "theory": theory,
                "deep": deep,
                "deep_se": deep_se,
                "deep_within_3se_plus_0.01": abs(deep - theory) <= 3 * deep_se + 0.01,
                "nishimori": nishimori,
                "nishimori_se": nishimori_se,
                "direct_minus_nishimori": paired,
                "direct_minus_nishimori_se": paired_se,
                "nishimori_within_2se": abs(paired) <= 2 * paired_se,
                "twin": twin,
                "twin_se": twin_se,
                "twin_within_3se": abs(twin - theory) <= 3 * twin_se,
                "deep_minus_glm_estimator": versus_estimator,
                "deep_minus_glm_estimator_se": versus_estimator_se,
                "rhat_max": float(group["deep_rhat_max"].max()),
                "seconds_median": float(group["deep_seconds"].median()),
            }
        )
    return pd.DataFrame(out)


def _percent(mask: pd.Series) -> str:
    return f"{100 * mask.mean():.1f}%"


def report(points: pd.DataFrame) -> str:
    """The issue #3 acceptance numbers as text."""
    groups = group_summary(points)
    potential_rhat = points.get("deep_potential_rhat", pd.Series([math.nan]))
    direct_vs_nishimori = _mean_se(points["deep_error_corrected"] - points["deep_error_nishimori"])
    lines = [
        f"points: {len(points)}; groups (model, width, alpha): {len(groups)}",
        f"R-hat (max over test predictions) <= 1.01 at {_percent(points['deep_rhat_max'] <= 1.01)} of points;"
        f" >=95% of test points <= 1.01 at {_percent(points['deep_rhat_fraction_ok'] >= 0.95)} of points;"
        f" R-hat of the potential <= 1.01 at {_percent(potential_rhat <= 1.01)}",
        f"sampling divergences: {int(points['deep_divergences'].sum())} in total",
        "pooled over all points: direct (corrected) - Nishimori = {:.4f} +- {:.4f} (SE over points)".format(
            *direct_vs_nishimori
        ),
        f"Nishimori vs direct within 2 SE in {int(groups['nishimori_within_2se'].sum())}/{len(groups)}"
        " groups;"
        f" mean |direct - Nishimori| / SE = "
        f"{(groups['direct_minus_nishimori'].abs() / groups['direct_minus_nishimori_se']).mean():.2f}",
    ]
    if "twin_estimator_on_deep_error" in points:
        estimator = points["twin_estimator_on_deep_error"]
        difference, difference_se = _mean_se(points["deep_error_corrected"] - estimator)
        lines.append(
            "deep posterior vs the GLM-optimal estimator on the same deep data: correlation over points "
            f"{points['deep_error_corrected'].corr(estimator):.4f}; paired difference {difference:+.4f} +- "
            f"{difference_se:.4f}"
        )
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 4):
        columns = ["model", "width", "alpha", "seeds", "theory", "deep", "deep_se", "nishimori",
                   "direct_minus_nishimori_se", "deep_minus_glm_estimator", "twin", "twin_se", "rhat_max",
                   "seconds_median"]  # fmt: skip
        lines.append(groups[columns].to_string(index=False))
    widest = groups[groups["width"] == groups["width"].max()]
    lines.append(
        f"widest ({int(widest['width'].max())}): deep within 3 SE + 0.01 of theory in "
        f"{int(widest['deep_within_3se_plus_0.01'].sum())}/{len(widest)} groups; GLM twin within 3 SE in "
        f"{int(widest['twin_within_3se'].sum())}/{len(widest)}"
    )
    return "\n".join(lines)
