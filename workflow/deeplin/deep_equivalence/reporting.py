"""File-level steps of aggregation and plotting: read metrics, curves and tables; write tables and figures.

The numerics live in `aggregate` and the drawing in `figures`; this module only moves data between them and
disk (atomically, with a provenance record next to the tables).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..config import section_hash
from ..io import atomic_write, provenance, write_json
from ..plotting import save_figure, set_style
from .aggregate import flag_points, load_points, scaling, summarize
from .columns import column_guide
from .figure_names import FIGURE_TABLES, FIGURES, HEADLINE_RST, TABLES

log = logging.getLogger("deeplin")

HEADLINE_GAP = "glm_estimator"  # the paired gap: deep posterior minus the GLM-optimal estimator, same data
HEADLINE_DIGITS = 4  # significant digits of the headline's numbers (the other tables keep full precision)
HEADLINE_COLUMNS = (
    "model",
    "width",
    "alpha",
    "seeds",
    "deep_error",
    "deep_error_ci",
    "theory_error",
    "deep_minus_theory",
    "paired_gap",
    "paired_gap_ci",
    "paired_gap_slope",
    "paired_gap_slope_ci_low",
    "paired_gap_slope_ci_high",
    "slope_widths",
)


def _significant(value, digits: int = HEADLINE_DIGITS):
    """``value`` rounded to ``digits`` significant digits (non-finite and non-numbers unchanged)."""
    if not isinstance(value, float) or not math.isfinite(value) or value == 0:
        return value
    return round(float(value), digits - 1 - math.floor(math.log10(abs(value))))


def headline_table(summary: pd.DataFrame, scaling: pd.DataFrame) -> pd.DataFrame:
    """The result in a few rows: per model and α, the largest width's deep error next to the GLM theory.

    Per simulated model, at its largest width d0 and at every α: the deep posterior's error (mean over seeds
    and the half-width of its confidence interval), the GLM theory, their difference, the paired gap (deep
    error minus the GLM-optimal estimator on the same data) with its half-width, and that gap's fitted slope
    of log|gap| against log d0 over all widths with its interval (scaling.csv, gap ``glm_estimator``), to
    hold against the −1/2 of the O(d0^(−1/2)) bound (Camilli, Tieplova, Bergamin, Barbier 2025). Numbers are
    rounded to HEADLINE_DIGITS significant digits; columns are described in deeplin.deep_equivalence.columns.HEADLINE.
    """
    rows = []
    for model, group in summary.groupby("model", sort=True):
        widest = group[group["width"] == group["width"].max()].sort_values("alpha")
        for _, row in widest.iterrows():
            fit = scaling[
                (scaling["model"] == model)
                & (scaling["alpha"] == row["alpha"])
                & (scaling["gap"] == HEADLINE_GAP)
            ]
            fit = fit.iloc[0] if len(fit) else pd.Series(dtype=object)
            slope = float(fit.get("slope", math.nan))
            rows.append(
                {
                    "model": model,
                    "width": int(row["width"]),
                    "alpha": float(row["alpha"]),
                    "seeds": int(row["points_used"]),
                    "deep_error": row["deep_mean"],
                    "deep_error_ci": row["deep_ci_high"] - row["deep_mean"],
                    "theory_error": row["theory_error"],
                    "deep_minus_theory": row["deep_mean"] - row["theory_error"],
                    "paired_gap": row.get(f"gap_{HEADLINE_GAP}_mean", math.nan),
                    "paired_gap_ci": row.get(f"gap_{HEADLINE_GAP}_ci_high", math.nan)
                    - row.get(f"gap_{HEADLINE_GAP}_mean", math.nan),
                    "paired_gap_slope": slope,
                    "paired_gap_slope_ci_low": float(fit.get("slope_ci_low", math.nan)),
                    "paired_gap_slope_ci_high": float(fit.get("slope_ci_high", math.nan)),
                    "slope_widths": fit.get("widths_used", "") if math.isfinite(slope) else "",
                }
            )
    frame = pd.DataFrame(rows, columns=list(HEADLINE_COLUMNS))
    return frame.map(_significant) if len(frame) else frame


def _number(value: float, digits: int, fixed: bool = False) -> str:
    """``value`` to ``digits`` significant digits (``fixed``: decimals), typographic minus; '—' when missing."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}{'f' if fixed else 'g'}}".replace("-", "\N{MINUS SIGN}")


def _rst_text(text: str) -> str:
    """Plain text for a reStructuredText table cell: markup characters escaped."""
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def headline_rst(headline: pd.DataFrame, confidence: float) -> str:
    """The headline as a compact reStructuredText table for the report's landing page (workflow.rst includes it).

    Seven narrow columns, so that it fits the landing page's text column: model, largest width d0, α, seeds,
    the deep error as mean ± half-width of its confidence interval, the GLM theory, and the paired gap's fitted
    slope with its interval ("no fit" when fewer than two widths resolve the gap).
    """
    level = f"{100 * confidence:.3g} %"
    header = [
        "model",
        "d0",
        "α",
        "seeds",
        f"deep error (± {level} CI)",
        "GLM theory",
        f"paired-gap slope [{level} CI]",
    ]
    rows = []
    for _, row in headline.iterrows():
        slope = row["paired_gap_slope"]
        fitted = isinstance(slope, float) and math.isfinite(slope)
        rows.append(
            [
                _rst_text(str(row["model"])),
                str(int(row["width"])),
                f"{row['alpha']:g}",
                str(int(row["seeds"])),
                f"{_number(row['deep_error'], 3)} ± {_number(row['deep_error_ci'], 2)}",
                _number(row["theory_error"], 3),
                (
                    f"{_number(slope, 2, fixed=True)} [{_number(row['paired_gap_slope_ci_low'], 2, fixed=True)}, "
                    f"{_number(row['paired_gap_slope_ci_high'], 2, fixed=True)}]"
                    if fitted
                    else "no fit"
                ),
            ]
        )
    if not rows:
        return "*No simulated point passed the diagnostics: the headline table is empty.*\n"
    lines = [".. list-table::", "   :header-rows: 1", ""]
    for cells in [header, *rows]:
        lines += [f"   {'*' if i == 0 else ' '} - {cell}" for i, cell in enumerate(cells)]
    return "\n".join(lines) + "\n"


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    with atomic_write(path) as handle:
        frame.to_csv(handle, index=False, float_format="%.10g", lineterminator="\n")


def write_tables(
    metrics: Sequence[str | Path], analysis: Mapping, out_dir: str | Path
) -> dict[str, pd.DataFrame]:
    """The tables of ``out_dir``: simulations.csv (one row per point, flagged ones kept), summary.csv,
    scaling.csv, headline.csv (headline_table), columns.csv (every column of the other four, described) and
    headline.rst (the headline for the report's landing page, headline_rst)."""
    out_dir = Path(out_dir)
    points = flag_points(load_points(metrics), analysis)
    summary = summarize(points, analysis["confidence"])
    slopes = scaling(summary, analysis["confidence"])
    tables = {"simulations": points, "summary": summary, "scaling": slopes}
    tables["headline"] = headline_table(summary, slopes)
    tables["columns"] = column_guide(tables)
    assert set(tables) == set(TABLES), "the registry (figure_names.TABLES) lists every table written"
    for name, frame in tables.items():
        _write_csv(frame, out_dir / f"{name}.csv")
    with atomic_write(out_dir / HEADLINE_RST) as handle:
        handle.write(headline_rst(tables["headline"], analysis["confidence"]))
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
            "provenance": provenance(section_hash(dict(analysis))),
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


def _draw(name: str, tables: Mapping[str, pd.DataFrame], curves: Mapping[str, pd.DataFrame], palette: str):
    """Figure ``name`` of the registry (figure_names.FIGURES), from the tables and the theory curves."""
    from . import figures  # matplotlib and seaborn: only the plot step pays for their import

    draw = {
        "error_vs_alpha": lambda: figures.error_vs_alpha_figure(curves, tables.get("summary"), palette),
        "gap_vs_width": lambda: figures.gap_vs_width_figure(tables["summary"], tables["scaling"], palette),
        "universality": lambda: figures.universality_figure(tables["summary"], palette),
        "diagnostics": lambda: figures.diagnostics_figure(tables["simulations"], palette),
    }
    assert set(draw) == set(FIGURES), "every registered figure has a drawing function"
    if name not in draw:
        raise ValueError(f"unknown figure {name!r} (known: {', '.join(FIGURES)})")
    return draw[name]()


def write_figure(
    name: str,
    tables_dir: str | Path | None,
    curves: Mapping[str, str | Path],
    plots: Mapping,
    stem: str | Path,
) -> list[Path]:
    """Draw figure ``name`` from the tables in ``tables_dir`` and the theory ``curves`` (model name → CSV
    file); write PNG and PDF with a provenance record."""
    set_style(plots["context"], plots["palette"])
    tables = {t: pd.read_csv(Path(tables_dir) / f"{t}.csv") for t in FIGURE_TABLES} if tables_dir else {}
    frames = {model: pd.read_csv(path) for model, path in curves.items()}
    fig = _draw(name, tables, frames, plots["palette"])
    record = provenance(section_hash({"figure": name, "plots": dict(plots)}))
    paths = save_figure(fig, stem, plots["dpi"], record)
    log.info("figure %s -> %s", name, ", ".join(map(str, paths)))
    return paths
