"""File-level steps of aggregation and plotting: read metrics, curves and tables; write tables and figures.

The numerics live in `aggregate` and the drawing in `figures`; this module only moves data between them and
disk (atomically, with a provenance record next to the tables).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .aggregate import flag_points, load_points, scaling, summarize
from .config import section_hash
from .io import atomic_write, provenance, write_json

log = logging.getLogger("deeplin")

TABLES = ("simulations", "summary", "scaling")


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False, float_format="%.10g", lineterminator="\n")


def write_tables(
    metrics: Sequence[str | Path], analysis: Mapping, out_dir: str | Path
) -> dict[str, pd.DataFrame]:
    """simulations.csv (one row per point, flagged ones kept), summary.csv and scaling.csv in ``out_dir``."""
    out_dir = Path(out_dir)
    points = flag_points(load_points(metrics), analysis)
    summary = summarize(points, analysis["confidence"])
    slopes = scaling(summary, analysis["confidence"])
    tables = {"simulations": points, "summary": summary, "scaling": slopes}
    for name, frame in tables.items():
        _write_csv(frame, out_dir / f"{name}.csv")
    flagged = points[~points["passes_diagnostics"]]
    for _, row in flagged.iterrows():
        log.warning(
            "flagged %s d0=%d alpha=%g seed=%d: %s%s",
            row["model"],
            row["width"],
            row["alpha"],
            row["seed"],
            row["flagged_by"],
            " (excluded from summaries and fits)" if not row["used"] else "",
        )
    write_json(
        out_dir / "provenance.json",
        {
            **provenance(section_hash(dict(analysis))),
            "analysis": dict(analysis),
            "points": len(points),
            "points_flagged": len(flagged),
        },
    )
    log.info(
        "aggregated %d points (%d flagged) into %d groups and %d fits",
        len(points),
        len(flagged),
        len(summary),
        len(slopes),
    )
    return tables


def read_curves(paths: Sequence[str | Path]) -> dict[str, pd.DataFrame]:
    """Theory curves by model name (results/theory/<model>/curve.csv)."""
    return {Path(path).parent.name: pd.read_csv(path) for path in paths}


def write_figure(
    name: str, tables_dir: str | Path | None, curves: Sequence[str | Path], plots: Mapping, stem: str | Path
) -> list[Path]:
    """Draw figure ``name`` (one of figures.FIGURES) from the tables and curves; write PNG and PDF."""
    from . import figures  # noqa: PLC0415 (matplotlib import only where a figure is drawn)

    figures.set_style(plots["context"], plots["palette"])
    tables = {t: pd.read_csv(Path(tables_dir) / f"{t}.csv") for t in TABLES} if tables_dir else {}
    palette = plots["palette"]
    if name == "error_vs_alpha":
        fig = figures.error_vs_alpha_figure(read_curves(curves), tables.get("summary"), palette)
    elif name == "gap_vs_width":
        fig = figures.gap_vs_width_figure(tables["summary"], tables["scaling"], palette)
    elif name == "universality":
        fig = figures.universality_figure(tables["summary"], palette)
    elif name == "diagnostics":
        fig = figures.diagnostics_figure(tables["simulations"], palette)
    else:
        raise ValueError(f"unknown figure {name!r} (known: {', '.join(figures.FIGURES)})")
    record = provenance(section_hash({"figure": name, "plots": dict(plots)}))
    paths = figures.save_figure(fig, stem, plots["dpi"], record)
    log.info("figure %s -> %s", name, ", ".join(map(str, paths)))
    return paths
