"""File-level steps after the solves: the tables over all cells (CSV) and the figures. The numerics live in
aggregate.py and the drawing in figures.py; this module moves data between them and disk, atomically and
with a provenance record."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..config import section_hash
from ..io import atomic_write, provenance, write_json
from ..plotting import save_figure, set_style
from .aggregate import recovery_table, threshold_table
from .figure_names import FIGURES

log = logging.getLogger("deeplin.relu_recovery.reporting")


def _write_csv(table: pd.DataFrame, out: str | Path) -> None:
    with atomic_write(out) as handle:
        table.to_csv(handle, index=False, float_format="%.10g", lineterminator="\n")


def write_tables(cells: Sequence[str | Path], out: str | Path, thresholds_out: str | Path) -> pd.DataFrame:
    """relu_recovery.csv (one row per setting and cell) and the thresholds CSV; provenance.json next to them."""
    loaded = [json.loads(Path(path).read_text(encoding="utf-8")) for path in cells]
    records = [record for cell in loaded for record in cell["records"]]
    wendel = {(cell["d"], cell["n"]): cell["wendel_all_ones"] for cell in loaded}
    table = recovery_table(records, wendel)
    thresholds = threshold_table(records)
    _write_csv(table, out)
    _write_csv(thresholds, thresholds_out)
    hashes = sorted(cell["provenance"]["config_hash"] for cell in loaded)
    write_json(
        Path(out).with_name("provenance.json"),
        {"provenance": provenance(section_hash(hashes)), "cells": len(cells)},
    )
    for row in thresholds.itertuples():
        log.info(
            "relu_recovery %s/%s %s d=%d: 50 %% at n/d = %.3g [%.3g, %.3g]",
            row.model,
            row.direction,
            row.program,
            row.d,
            row.threshold,
            row.ci_low,
            row.ci_high,
        )
    log.info(
        "relu_recovery table: %d cells, %d rows, %d solver failures, %d certified but not recovered, "
        "%d relaxed above exact",
        len(cells),
        len(table),
        table["solver_failures"].sum(),
        table["certified_not_recovered"].sum(),
        table["relaxed_above_exact"].sum(),
    )
    return table


def write_figure(name: str, table_path: str | Path, settings: Mapping, stem: str | Path) -> list[Path]:
    """Draw figure ``name`` of the registry from the recovery table."""
    from . import figures  # matplotlib and seaborn: only the plot step pays for their import

    plots = settings["plots"]
    set_style(plots["context"], plots["palette"])
    table = pd.read_csv(table_path)
    draw = {
        "phase_diagram": figures.phase_diagram_figure,
        "rate_vs_ratio": figures.rate_vs_ratio_figure,
        "distance_vs_noise": figures.distance_vs_noise_figure,
    }
    assert set(draw) == set(FIGURES), "every registered figure has a drawing function"
    fig = draw[name](table, plots["palette"])
    paths = save_figure(fig, stem, plots["dpi"], provenance(section_hash({"figure": name, **settings})))
    log.info("figure %s -> %s", name, ", ".join(map(str, paths)))
    return paths
