"""The quadratic regime n = κ d0² (docs/deep_equivalence.md, 'Beyond the proportional regime'): its grid, its
table from the ordinary per-point metrics, and its figure.

The points are ordinary simulation points (model, d0, α = κ d0, seed), so the data, posterior, twin and metrics
jobs are the proportional grid's. The bound of Camilli, Tieplova, Bergamin, Barbier (2025, arXiv 2505.03577),
O((1 + √(n/d) + n/d)/√d), grows like κ√d0 here and guarantees nothing: the table and figure hold the deep
posterior's error against the GLM prediction at the same α = n/d0, whose breakdown is what is being tested, and
against the GLM's floor γ0 (its α → ∞ limit).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .grid import alpha_label

GROUP = ["model", "width", "kappa"]


def quadratic_alpha(width: int, kappa: float) -> float:
    """α = n/d0 with n = round(κ d0²), so that the point's n is exactly round(α d0)."""
    return max(1, round(kappa * width * width)) / width


def quadratic_points(section: Mapping[str, Any]) -> list[dict]:
    """Every (model, width, alpha, seed) point of the section's quadratic grid, in a stable order."""
    quad = section.get("quadratic", {})
    return [
        {"model": model, "width": width, "alpha": alpha_label(quadratic_alpha(width, kappa)), "seed": seed}
        for model in quad.get("models", [])
        for width in quad["widths"]
        for kappa in quad["kappas"]
        for seed in range(quad["seeds"])
    ]


def point_row(record: Mapping) -> dict:
    """One metrics.json record as a row: errors of the deep posterior (all chains, each half), the GLM."""
    post, twin = record["posterior"], record["glm_twin"]
    width, n = record["width"], record["n"]
    return {
        "model": record["model_name"],
        "width": width,
        "alpha": record["alpha"],
        "kappa": n / width**2,
        "seed": record["seed"],
        "n": n,
        **{key: record[key] for key in ("activation", "depth", "readout", "noise")},
        "parameters": width * sum(record["hidden_widths"]) + record["hidden_widths"][-1],
        "gamma0": record["gamma0"],
        "deep_error": post["error_corrected"],
        "deep_nishimori": post["error_nishimori"],
        "teacher_half": post["teacher_half_error_corrected"],
        "prior_half": post["prior_half_error_corrected"],
        "glm_theory": post["theory_error"],
        "glm_twin": twin["glm_error"],
        "glm_estimator_on_deep": twin["glm_estimator_on_deep_error"],
        "passes_diagnostics": post["passes_diagnostics"],
        "rhat_max": post["rhat_max"],
        "seconds": post["seconds"],
    }


def _se(values: pd.Series) -> float:
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def quadratic_table(rows: Sequence[dict]) -> pd.DataFrame:
    """Per (model, width, κ): means and standard errors over seeds; gap = GLM theory − deep error (positive
    where the deep posterior beats the GLM prediction); halves = teacher-started − prior-started error."""
    frame = pd.DataFrame(rows)
    out = []
    for (model, width, kappa), group in frame.groupby(GROUP, sort=True):
        gap = group["glm_theory"] - group["deep_error"]
        halves = group["teacher_half"] - group["prior_half"]
        row = {"model": model, "width": int(width), "kappa": float(kappa), "alpha": group["alpha"].iloc[0]}
        row.update({key: group[key].iloc[0] for key in ("activation", "depth", "readout", "noise")})
        row.update(n=int(group["n"].iloc[0]), parameters=int(group["parameters"].iloc[0]), seeds=len(group))
        for name in (
            "deep_error",
            "deep_nishimori",
            "teacher_half",
            "prior_half",
            "glm_twin",
            "glm_estimator_on_deep",
        ):
            row[name] = group[name].mean()
            row[f"{name}_se"] = _se(group[name])
        row.update(
            glm_theory=group["glm_theory"].iloc[0],
            gamma0=group["gamma0"].iloc[0],
            gap=gap.mean(),
            gap_se=_se(gap),
            halves_difference=halves.mean(),
            halves_difference_se=_se(halves),
            fraction_passing=float(group["passes_diagnostics"].mean()),
            seconds_per_point=group["seconds"].mean(),
        )
        out.append(row)
    return pd.DataFrame(out)


def write_quadratic_table(paths: Sequence[str], out: str) -> pd.DataFrame:
    """quadratic_regime.csv from the points' metrics.json files."""
    from ..io import atomic_write

    rows = [point_row(json.loads(Path(p).read_text(encoding="utf-8"))) for p in paths]
    table = quadratic_table(rows)
    with atomic_write(out) as handle:
        table.to_csv(handle, index=False, float_format="%.10g")
    return table
