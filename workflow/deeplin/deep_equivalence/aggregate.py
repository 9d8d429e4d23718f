"""Tables over the simulated points: one tidy row per point, per-group summaries, gap scaling.

Pure pandas/numpy/scipy on records already read from disk; the CLI does the I/O. Standard errors and
confidence intervals are over seeds (teachers and data), the randomness the theory averages over.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ..statistics import fit_gap_slope, mean_interval

PARAMETER_COLUMNS = (
    "model",
    "activation",
    "depth",
    "readout",
    "noise",
    "width",
    "hidden_widths",
    "alpha",
    "n",
    "seed",
    "test_size",
    "eta0",
    "gamma0",
)
GROUP = ["model", "width", "alpha"]

# Error estimates summarised per group: label → column of the points table.
ERRORS = {
    "deep": "deep_error_corrected",  # the headline: direct test error, corrected for the finite number of draws
    "deep_raw": "deep_error_raw",
    "nishimori": "deep_error_nishimori",  # teacher-free estimate (posterior predictive variance)
    "teacher_half": "deep_teacher_half_error_corrected",
    "prior_half": "deep_prior_half_error_corrected",
    "twin": "twin_error",  # finite-size GLM twin on its own labels
    "glm_estimator": "twin_estimator_on_deep_error",  # GLM-optimal estimator applied to the deep data
}
# Sign readout: theory and twin report classification errors (P(Y ≠ sign Ŷ)), so the deep posterior's must be
# too; its squared-error columns of the ±1 outputs would compare a different quantity.
SIGN_ERRORS = {
    "deep": "deep_classification_error",
    "deep_raw": "deep_classification_error",
    "nishimori": "deep_classification_error_nishimori",
    "teacher_half": "deep_teacher_half_classification_error",
    "prior_half": "deep_prior_half_classification_error",
}
# Gaps: label → (minuend, subtrahend), each an ERRORS label or a column; paired seed by seed.
GAPS = {
    "theory": ("deep", "theory_error"),
    "twin": ("deep", "twin"),
    "glm_estimator": ("deep", "glm_estimator"),
    "nishimori_theory": ("nishimori", "theory_error"),
}


# Linear readout: the Rao–Blackwellised estimate of the same error (the readout's Gaussian conditional
# integrated out per draw; deeplin.deep_equivalence.rao_blackwell), which exists for no other readout.
LINEAR_ERRORS = {"deep_rb": "deep_error_rb_corrected"}


def error_columns(readout: str) -> dict[str, str]:
    """ERRORS label → points-table column for a model with this readout."""
    extra = SIGN_ERRORS if readout == "sign" else LINEAR_ERRORS if readout == "linear" else {}
    return {**ERRORS, **extra}


def gap_columns(readout: str, gap: str) -> tuple[str, str]:
    """The (minuend, subtrahend) columns of one gap for this readout."""
    columns = error_columns(readout)
    return tuple(columns.get(label, label) for label in GAPS[gap])


# Camilli et al. 2025 (arXiv 2505.03577), main theorem: gap = O((1 + √(n/d_min) + n/d_min)/√d_min); at fixed α
# and width ratios that is O(d0^(-1/2)), a slope of at most -1/2 on log-log axes.
BOUND_SLOPE = -0.5


def _scalars(section: Mapping, prefix: str) -> dict:
    return {
        f"{prefix}{key}": value
        for key, value in section.items()
        if isinstance(value, (int, float, str, bool))
    }


def point_record(record: Mapping) -> dict:
    """Flatten one metrics.json: parameters, `deep_*` posterior metrics, `twin_*` GLM-twin metrics, `theory_*`."""
    row = {key: record.get(key) for key in PARAMETER_COLUMNS if key not in ("model", "hidden_widths")}
    row["model"] = record["model_name"]
    row["hidden_widths"] = "x".join(str(w) for w in record.get("hidden_widths", []))
    posterior = dict(record["posterior"])
    row.update({key: posterior.pop(key) for key in list(posterior) if key.startswith("theory_")})
    row.update(_scalars(posterior, "deep_"))
    twin = {key.removeprefix("glm_"): value for key, value in record["glm_twin"].items()}
    row.update(_scalars(twin, "twin_"))
    # Where the row came from: the point record's package version, commit and config hash.
    origin = record.get("provenance", {})
    row.update({key: origin.get(key) for key in ("deeplin_version", "git_commit", "config_hash")})
    return row


def load_points(paths: Iterable[str | Path]) -> pd.DataFrame:
    """The points table from metrics.json files, parameters first, sorted by (model, width, α, seed)."""
    rows = [point_record(json.loads(Path(path).read_text())) for path in paths]
    if not rows:
        raise ValueError("no simulated points to aggregate")
    frame = pd.DataFrame(rows)
    ordered = list(PARAMETER_COLUMNS) + [c for c in frame.columns if c not in PARAMETER_COLUMNS]
    return frame[ordered].sort_values(["model", "width", "alpha", "seed"], ignore_index=True)


def flag_points(points: pd.DataFrame, rules: Mapping) -> pd.DataFrame:
    """Add `flagged_by` (the failed diagnostics, ';'-separated, '' when none), `passes_diagnostics` and `used`.

    The verdict is the one each point's posterior job recorded (deeplin.diagnostics, from the study's
    `analysis` thresholds), never decided again here; a point without a recorded verdict is flagged.
    `rules` is the config's `analysis` section; `used` marks the points that enter summaries and fits.
    """
    out = points.copy()
    missing = pd.Series("verdict missing", index=out.index)
    recorded = out.pop("deep_flagged_by") if "deep_flagged_by" in out else missing
    out = out.drop(columns=["deep_passes_diagnostics"], errors="ignore")
    out["flagged_by"] = recorded.where(recorded.notna(), missing).astype(str)
    out["passes_diagnostics"] = out["flagged_by"] == ""
    out["used"] = out["passes_diagnostics"] | (not rules["exclude_flagged"])
    return out


def _gap_values(group: pd.DataFrame, gap: str, readout: str) -> pd.Series:
    minuend, subtrahend = gap_columns(readout, gap)
    return group[minuend] - group[subtrahend]


def summarize(points: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per (model, width, α): mean, SE and CI of every error and gap over the used points of the group."""
    rows = []
    for (model, width, alpha), group in points.groupby(GROUP, sort=True):
        used = group[group["used"]]
        row = {"model": model, "width": int(width), "alpha": float(alpha)}
        row.update(
            {
                key: group[key].iloc[0]
                for key in ("activation", "depth", "readout", "noise", "hidden_widths", "n", "eta0", "gamma0")
            }
        )
        row["theory_error"] = float(group["theory_error"].iloc[0])
        row.update(
            points=len(group), points_passing=int(group["passes_diagnostics"].sum()), points_used=len(used)
        )
        row["fraction_passing"] = row["points_passing"] / row["points"]
        for label, column in error_columns(row["readout"]).items():
            if column in used:
                stats_ = mean_interval(used[column], confidence)
                row.update({f"{label}_{key}": value for key, value in stats_.items() if key != "count"})
        for gap in GAPS:
            if all(column in used for column in gap_columns(row["readout"], gap)):
                stats_ = mean_interval(_gap_values(used, gap, row["readout"]), confidence)
                row.update({f"gap_{gap}_{key}": value for key, value in stats_.items() if key != "count"})
        rows.append(row)
    return pd.DataFrame(rows)


def scaling(summary: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """Per (model, α, gap): the fitted slope of log|gap| vs log width next to the theorem's −1/2."""
    rows = []
    for (model, alpha), group in summary.groupby(["model", "alpha"], sort=True):
        group = group.sort_values("width")
        for gap in GAPS:
            if f"gap_{gap}_mean" not in group:
                continue
            fit = fit_gap_slope(
                group["width"].to_numpy(),
                group[f"gap_{gap}_mean"].to_numpy(float),
                group[f"gap_{gap}_se"].to_numpy(float),
                confidence,
            )
            rows.append(
                {
                    "model": model,
                    "alpha": float(alpha),
                    "gap": gap,
                    "widths": ",".join(str(int(w)) for w in group["width"]),
                    **fit,
                    "bound_slope": BOUND_SLOPE,
                    # Consistent with the bound unless the slope is significantly shallower than −1/2.
                    "consistent_with_bound": bool(fit["slope_ci_low"] <= BOUND_SLOPE)
                    if math.isfinite(fit["slope"])
                    else None,
                }
            )
    return pd.DataFrame(rows)
