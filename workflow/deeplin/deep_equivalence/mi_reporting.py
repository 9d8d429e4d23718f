"""The mutual-information tables: per point, per rung, and over seeds (docs/deep_equivalence.md, 'Mutual
information at finite size'). Reads the points' mi.json records, writes CSVs atomically with a provenance
record next to them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..config import section_hash
from ..io import PROVENANCE_KEY, atomic_write, provenance, write_json

POINT_COLUMNS = (
    "model",
    "width",
    "alpha",
    "seed",
    "n",
    "readout",
    "noise",
    "rungs",
    "mi_deep",
    "mi_deep_nishimori",
    "mi_glm_twin",
    "mi_glm_twin_quadrature",
    "mi_glm_twin_method",
    "mi_theory",
    "quadrature_error",
    "rungs_passing",
    "rhat_max",
    "seconds",
    "n_gradients",
)
RUNG_COLUMNS = (
    "model",
    "width",
    "alpha",
    "seed",
    "rung",
    "snr",
    "mmse_posterior",
    "mmse_teacher",
    "mmse_twin",
)
KEYS = ["model", "width", "alpha"]


def load_records(paths: Sequence[str]) -> list[dict]:
    """The points' mi.json records."""
    return [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]


def point_table(records: Sequence[dict]) -> pd.DataFrame:
    """One row per (model, width, α, seed)."""
    # Records written before the tanh twin existed are all linear-readout ones, solved by the log-det.
    rows = [
        {key: r.get(key, "log-det") if key == "mi_glm_twin_method" else r[key] for key in POINT_COLUMNS}
        for r in records
    ]
    return pd.DataFrame(rows).sort_values([*KEYS, "seed"])


def rung_table(records: Sequence[dict]) -> pd.DataFrame:
    """One row per rung of every point: the in-sample mmse of the deep posterior (two ways) and of the twin."""
    rows = [
        {
            **{key: r[key] for key in ("model", "width", "alpha", "seed")},
            "rung": k,
            "snr": r["snr"][k],
            "mmse_posterior": r["mmse_posterior"][k],
            "mmse_teacher": r["mmse_teacher"][k],
            "mmse_twin": r["mmse_twin"][k],
        }
        for r in records
        for k in range(r["rungs"])
    ]
    return pd.DataFrame(rows, columns=list(RUNG_COLUMNS)).sort_values([*KEYS, "seed", "rung"])


def _se(values: pd.Series) -> float:
    """Standard error of the mean over seeds (NaN for one seed: no spread to estimate it from)."""
    values = values.dropna()
    return float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan


def summary_table(points: pd.DataFrame) -> pd.DataFrame:
    """Over seeds per (model, width, α): means and Monte-Carlo standard errors between seeds; the deep − twin
    gap is paired (same inputs per seed)."""
    rows = []
    for (model, width, alpha), group in points.groupby(KEYS, sort=True):
        gap = group["mi_deep_nishimori"] - group["mi_glm_twin"]
        rows.append(
            {
                "model": model,
                "width": int(width),
                "alpha": float(alpha),
                "seed": len(group),  # how many seeds the row averages
                "rungs": int(group["rungs"].iloc[0]),
                "mi_deep": group["mi_deep"].mean(),
                "mi_deep_se": _se(group["mi_deep"]),
                "mi_deep_nishimori": group["mi_deep_nishimori"].mean(),
                "mi_deep_nishimori_se": _se(group["mi_deep_nishimori"]),
                "mi_glm_twin": group["mi_glm_twin"].mean(),
                "mi_glm_twin_se": _se(group["mi_glm_twin"]),
                "mi_theory": group["mi_theory"].iloc[0],
                "quadrature_error": group["quadrature_error"].max(),
                "gap_twin": gap.mean(),
                "gap_twin_se": _se(gap),
                "gap_twin_z": gap.mean() / (_se(gap) + group["quadrature_error"].max())
                if len(group) > 1
                else math.nan,
                "rungs_passing_fraction": group["rungs_passing"].sum() / group["rungs"].sum(),
                "seconds_per_point": group["seconds"].mean(),
            }
        )
    return pd.DataFrame(rows)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False, float_format="%.10g")


def write_mi_tables(paths: Sequence[str], out_dir: str) -> dict[str, pd.DataFrame]:
    """mutual_information.csv (over seeds), mutual_information_points.csv, mutual_information_rungs.csv."""
    records = load_records(paths)
    points = point_table(records)
    tables = {
        "mutual_information": summary_table(points),
        "mutual_information_points": points,
        "mutual_information_rungs": rung_table(records),
    }
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        _write_csv(frame, folder / f"{name}.csv")
    hashes = sorted(r[PROVENANCE_KEY]["config_hash"] for r in records)
    write_json(
        folder / "mutual_information_provenance.json",
        {"points": len(records), PROVENANCE_KEY: provenance(section_hash({"points": hashes}))},
    )
    return tables
