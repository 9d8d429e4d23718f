"""File-level steps after the simulation: one cell's comparison (JSON), the table over all cells (CSV) and the
figures. The numerics live in compare.py and the drawing in figures.py; this module moves data between
them and disk, atomically and with a provenance record."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ..config import section_hash
from ..io import atomic_write, provenance, write_json
from ..plotting import save_figure, set_style
from .cells import cell_seed, load_cell
from .compare import COLUMNS, MOMENTS, cell_statistics
from .figure_names import FIGURES

log = logging.getLogger("deeplin.deep_linear.reporting")


def compare_cell(settings: Mapping, networks: str | Path, out: str | Path) -> list[dict]:
    """Compare one cell's networks with the three laws; write the rows and their provenance to ``out``."""
    start = time.perf_counter()
    sample, meta = load_cell(networks)
    a, width = meta["a"], meta["width"]
    seeds = {purpose: cell_seed(settings["seed"], a, width, purpose) for purpose in ("finite", "limit")}
    rows = cell_statistics(sample.outputs, sample.kernels, a, width, settings, seeds)
    record = provenance(section_hash({"a": a, "width": width, "networks": meta["settings"], **settings}))
    write_json(out, {"rows": rows, "seconds": time.perf_counter() - start, "provenance": record})
    worst = max((row for row in rows if row["statistic"] in MOMENTS), key=lambda row: abs(row["z"]))
    log.info(
        "deep_linear a=%g N=%d L=%d: %d statistics, worst |z| %.2f (%s), in %.1f s",
        a,
        width,
        meta["depth"],
        len(rows),
        abs(worst["z"]),
        worst["statistic"],
        time.perf_counter() - start,
    )
    return rows


def write_table(statistics: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """deep_linear.csv: every cell's rows, sorted by (a, N); provenance.json next to it."""
    rows = [row for path in statistics for row in json.loads(Path(path).read_text(encoding="utf-8"))["rows"]]
    table = pd.DataFrame(rows, columns=list(COLUMNS)).sort_values(["a", "N"], kind="stable")
    with atomic_write(out) as handle:
        table.to_csv(handle, index=False, float_format="%.10g", lineterminator="\n")
    hashes = sorted(
        json.loads(Path(path).read_text(encoding="utf-8"))["provenance"]["config_hash"] for path in statistics
    )
    write_json(
        Path(out).with_name("provenance.json"),
        {"provenance": provenance(section_hash(hashes)), "cells": len(statistics)},
    )
    moments = table[table["z"].notna()]
    if len(moments):
        worst = moments.loc[moments["z"].abs().idxmax()]
        log.info(
            "deep_linear table: %d cells, %d rows; worst |z| %.2f (%s at a=%g, N=%d)",
            len(statistics),
            len(table),
            abs(worst["z"]),
            worst["statistic"],
            worst["a"],
            worst["N"],
        )
    return table


def write_figure(
    name: str, table_path: str | Path, networks: Sequence[str | Path], settings: Mapping, stem: str | Path
) -> list[Path]:
    """Draw figure ``name`` of the registry from the table (and the cells' networks where it needs them)."""
    from . import figures  # matplotlib and seaborn: only the plot step pays for their import

    plots = settings["plots"]
    section = settings["deep_linear"]
    set_style(plots["context"], plots["palette"])
    table = pd.read_csv(table_path)
    cells = {}
    for path in networks:
        sample, meta = load_cell(path)
        cells[(meta["a"], meta["width"])] = sample
    draw = {
        "output_density": lambda: figures.output_density_figure(cells, plots["palette"]),
        "moments": lambda: figures.moments_figure(table, plots["palette"], section["input_overlap"]),
        "correlation": lambda: figures.correlation_figure(
            cells, section["input_overlap"], plots["palette"], dt=section["sde_step"], seed=section["seed"]
        ),
        "ks_vs_width": lambda: figures.ks_figure(table, plots["palette"]),
    }
    assert set(draw) == set(FIGURES), "every registered figure has a drawing function"
    fig = draw[name]()
    record = provenance(section_hash({"figure": name, **settings}))
    paths = save_figure(fig, stem, plots["dpi"], record)
    log.info("figure %s -> %s", name, ", ".join(map(str, paths)))
    return paths
