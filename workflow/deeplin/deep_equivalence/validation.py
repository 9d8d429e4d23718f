"""Checks of the simulations against theory, from the per-point metrics.json files.

Every group is one (model, width, α) over seeds; standard errors are over seeds (teachers), which is the
randomness the theory averages over.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ..diagnostics import RHAT_OK
from ..statistics import mean_interval
from .aggregate import GROUP, error_columns, flag_points, load_points, summarize

# The check's standard errors are what it prints; the interval level only enters summarize's CI columns.
CONFIDENCE = 0.95


def point_rows(paths: Iterable[str | Path], include_flagged: bool = False) -> pd.DataFrame:
    """The points that enter the checks: one row per metrics.json, as in simulations.csv.

    Each point carries the verdict its posterior job recorded (deeplin.diagnostics); flagged points are left
    out unless ``include_flagged``, as summary.csv leaves them out by default (`analysis.exclude_flagged`).
    """
    return flag_points(load_points(paths), {"exclude_flagged": not include_flagged})


def _mean_se(values: pd.Series) -> tuple[float, float]:
    stats = mean_interval(values, CONFIDENCE)
    return stats["mean"], stats["se"]


def group_summary(points: pd.DataFrame) -> pd.DataFrame:
    """Per (model, width, α): the aggregation's summary (mean ± SE over seeds of the deep, Nishimori and twin
    errors and of the paired gap to the GLM estimator), with the checks of the report added."""
    out = []
    summary = summarize(points, CONFIDENCE)
    for (_, row), (_, group) in zip(summary.iterrows(), points.groupby(GROUP, sort=True), strict=True):
        columns = error_columns(row["readout"])
        # Direct minus Nishimori, paired seed by seed: both estimate the same error at Bayes optimality.
        paired, paired_se = _mean_se(group[columns["deep"]] - group[columns["nishimori"]])
        theory = float(row["theory_error"])
        out.append(
            {
                "model": row["model"],
                "width": int(row["width"]),
                "alpha": float(row["alpha"]),
                "seeds": int(row["points_used"]),
                "theory": theory,
                "deep": row["deep_mean"],
                "deep_se": row["deep_se"],
                "deep_within_3se_plus_0.01": abs(row["deep_mean"] - theory) <= 3 * row["deep_se"] + 0.01,
                "nishimori": row["nishimori_mean"],
                "nishimori_se": row["nishimori_se"],
                "direct_minus_nishimori": paired,
                "direct_minus_nishimori_se": paired_se,
                "nishimori_within_2se": abs(paired) <= 2 * paired_se,
                "twin": row["twin_mean"],
                "twin_se": row["twin_se"],
                "twin_within_3se": abs(row["twin_mean"] - theory) <= 3 * row["twin_se"],
                "deep_minus_glm_estimator": row.get("gap_glm_estimator_mean", math.nan),
                "deep_minus_glm_estimator_se": row.get("gap_glm_estimator_se", math.nan),
                "rhat_max": float(group["deep_rhat_max"].max()),
                "seconds_median": float(group["deep_seconds"].median()),
            }
        )
    return pd.DataFrame(out)


def _percent(mask: pd.Series) -> str:
    return f"{100 * mask.mean():.1f}%"


def report(points: pd.DataFrame) -> str:
    """Simulations against theory as text: the verdicts, then the numbers over the points that are used."""
    used = points[points["used"]]
    flagged = points[~points["passes_diagnostics"]]
    reasons = pd.Series([r for text in flagged["flagged_by"] for r in text.split(";")]).value_counts()
    verdict = f"diagnostics verdict (recorded by each posterior job): {len(points) - len(flagged)} pass"
    if len(flagged):
        verdict += (
            f", {len(flagged)} flagged ({', '.join(f'{name}: {count}' for name, count in reasons.items())})"
        )
        verdict += (
            f"; the {len(points) - len(used)} flagged are excluded below (--include-flagged keeps them)"
            if len(used) < len(points)
            else "; flagged points are included below"
        )
    if used.empty:
        return (
            f"points: {len(points)}; used: 0\n{verdict}\nno point passes the diagnostics: nothing to compare"
        )
    groups = group_summary(used)
    potential_rhat = used.get("deep_potential_rhat", pd.Series([math.nan]))
    direct_vs_nishimori = _mean_se(used["deep_error_corrected"] - used["deep_error_nishimori"])
    lines = [
        f"points: {len(points)}; used: {len(used)}; groups (model, width, alpha): {len(groups)}",
        verdict,
        (
            f"R-hat (max over test predictions) <= {RHAT_OK} at {_percent(used['deep_rhat_max'] <= RHAT_OK)}"
            f" of used points; R-hat of the potential <= {RHAT_OK} at {_percent(potential_rhat <= RHAT_OK)}"
        ),
        f"sampling divergences: {int(used['deep_divergences'].sum())} in total",
        "pooled over used points: direct (corrected) - Nishimori = {:.4f} +- {:.4f} (SE over points)".format(
            *direct_vs_nishimori
        ),
        (
            f"Nishimori vs direct within 2 SE in {int(groups['nishimori_within_2se'].sum())}/{len(groups)}"
            " groups;"
            f" mean |direct - Nishimori| / SE = "
            f"{(groups['direct_minus_nishimori'].abs() / groups['direct_minus_nishimori_se']).mean():.2f}"
        ),
    ]
    if "twin_estimator_on_deep_error" in used:
        estimator = used["twin_estimator_on_deep_error"]
        difference, difference_se = _mean_se(used["deep_error_corrected"] - estimator)
        lines.append(
            "deep posterior vs the GLM-optimal estimator on the same deep data: correlation over points "
            f"{used['deep_error_corrected'].corr(estimator):.4f}; paired difference {difference:+.4f} +- "
            f"{difference_se:.4f}"
        )
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 4):
        columns = [
            "model",
            "width",
            "alpha",
            "seeds",
            "theory",
            "deep",
            "deep_se",
            "nishimori",
            "direct_minus_nishimori_se",
            "deep_minus_glm_estimator",
            "twin",
            "twin_se",
            "rhat_max",
            "seconds_median",
        ]
        lines.append(groups[columns].to_string(index=False))
    widest = groups[groups["width"] == groups["width"].max()]
    lines.append(
        f"widest ({int(widest['width'].max())}): deep within 3 SE + 0.01 of theory in "
        f"{int(widest['deep_within_3se_plus_0.01'].sum())}/{len(widest)} groups; GLM twin within 3 SE in "
        f"{int(widest['twin_within_3se'].sum())}/{len(widest)}"
    )
    return "\n".join(lines)
