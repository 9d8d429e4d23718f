"""The tables over all jobs (CSV, with a provenance.json next to them) and the figures. The numerics live in
the other modules and the drawing in figures.py; this module moves data between them and disk."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import section_hash
from ..io import atomic_write, provenance, write_json
from ..plotting import save_figure, set_style
from .figure_names import FIGURES

log = logging.getLogger("deeplin.generative_data.reporting")

SGD_COLUMNS = (
    "generator",
    "N",
    "D",
    "K",
    "M",
    "learning_rate",
    "seed",
    "t",
    "error_simulation",
    "error_ode",
    "error_ode_gaussian",
    "error_test",
)
RIDGE_COLUMNS = (
    "generator",
    "N",
    "D",
    "lambda",
    "alpha",
    "theory",
    "simulation_generator",
    "se_generator",
    "simulation_gaussian",
    "se_gaussian",
    "asymptote",
    "V",
    "training_sets",
)
FIELDS_COLUMNS = (
    "generator",
    "N",
    "D",
    "student",
    "nonzeros",
    "samples",
    "second_moment",
    "second_moment_se",
    "Q_exact",
    "Q_linearised",
    "cross_moment_max_z",
    "ks_field",
    "ks_residual",
    "ks_critical",
    "excess_kurtosis",
    "kurtosis_se",
)


def _write_table(table: pd.DataFrame, out: str | Path, hashes: Sequence[str], jobs: int) -> None:
    with atomic_write(out) as handle:
        table.to_csv(handle, index=False, float_format="%.10g", lineterminator="\n")
    write_json(
        Path(out).with_name(f"{Path(out).stem}.provenance.json"),
        {"provenance": provenance(section_hash(sorted(hashes))), "jobs": jobs},
    )


def sgd_rows(sgd_path: str | Path, ode_path: str | Path, learning_rate: float) -> list[dict]:
    """One row per (stream, recorded time) of one (generator, N): simulation and both ODE solutions."""
    ode = json.loads(Path(ode_path).read_text(encoding="utf-8"))
    with np.load(sgd_path) as archive:
        steps, population, test = archive["steps"], archive["error_population"], archive["error_test"]
        Q, R = archive["Q"], archive["R"]
    K, M = R.shape[-2:]
    N = ode["N"]
    times = steps / N
    if not np.allclose(times, ode["times"]):
        raise ValueError(f"{sgd_path} and {ode_path} record different times")
    rows = []
    for stream in range(population.shape[0]):
        for i, t in enumerate(times):
            row = {
                "generator": ode["generator"],
                "N": N,
                "D": ode["D"],
                "K": K,
                "M": M,
                "learning_rate": learning_rate,
                "seed": stream,
                "t": t,
                "error_simulation": population[stream, i],
                "error_ode": ode["exact"]["error"][i],
                "error_ode_gaussian": ode["gaussian"]["error"][i],
                "error_test": test[stream, i],
            }
            row.update({f"Q_{k}{j}": Q[stream, i, k, j] for k in range(K) for j in range(k, K)})
            row.update({f"R_{k}{m}": R[stream, i, k, m] for k in range(K) for m in range(M)})
            row.update({f"Q_ode_{k}{j}": ode["exact"]["Q"][i][k][j] for k in range(K) for j in range(k, K)})
            row.update({f"R_ode_{k}{m}": ode["exact"]["R"][i][k][m] for k in range(K) for m in range(M)})
            rows.append(row)
    return rows


def sgd_agreement(table: pd.DataFrame) -> pd.DataFrame:
    """Per (generator, N, t): the streams' mean population error, its SE and the ODE's distance from it."""
    grouped = table.groupby(["generator", "N", "t"], sort=True)
    summary = grouped.agg(
        mean=("error_simulation", "mean"),
        sd=("error_simulation", "std"),
        runs=("error_simulation", "size"),
        ode=("error_ode", "first"),
        ode_gaussian=("error_ode_gaussian", "first"),
        test=("error_test", "mean"),
    ).reset_index()
    summary["se"] = summary["sd"].fillna(0.0) / np.sqrt(summary["runs"])
    summary["gap"] = (summary["ode"] - summary["mean"]).abs()
    summary["tolerance"] = 3 * summary["se"] + 0.01
    return summary


def write_sgd_table(pairs: Sequence[tuple[str, str]], learning_rate: float, out: str | Path) -> pd.DataFrame:
    """generative_sgd.csv from the (sgd.npz, ode.json) pairs of every (generator, N)."""
    rows = [row for sgd, ode in pairs for row in sgd_rows(sgd, ode, learning_rate)]
    table = pd.DataFrame(rows)
    table = table[list(SGD_COLUMNS) + [c for c in table.columns if c not in SGD_COLUMNS]]
    hashes = [
        json.loads(Path(ode).read_text(encoding="utf-8"))["provenance"]["config_hash"] for _, ode in pairs
    ]
    _write_table(table, out, hashes, len(pairs))
    for (generator, N), part in sgd_agreement(table).groupby(["generator", "N"]):
        log.info(
            "SGD %s N=%d: max |ODE − SGD| %.4f, worst gap/tolerance %.2f, max |ODE − ODE_lin| %.1e",
            generator,
            N,
            part["gap"].max(),
            (part["gap"] / part["tolerance"]).max(),
            (part["ode"] - part["ode_gaussian"]).abs().max(),
        )
    return table


def write_ridge_table(points: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """generative_ridge.csv: one row per (generator, λ, α)."""
    records = [json.loads(Path(path).read_text(encoding="utf-8")) for path in points]
    table = pd.DataFrame([record["row"] for record in records], columns=list(RIDGE_COLUMNS))
    table = table.sort_values(["generator", "lambda", "alpha"], kind="stable")
    _write_table(table, out, [record["provenance"]["config_hash"] for record in records], len(records))
    return table


def load_fields(path: str | Path) -> tuple[list[dict], dict[str, np.ndarray]]:
    """The rows and standardised fields of one fields.npz."""
    with np.load(path) as archive:
        rows = json.loads(str(archive["rows"]))
        fields = {
            key.removeprefix("field_"): archive[key] for key in archive.files if key.startswith("field_")
        }
    return rows, fields


def write_fields_table(paths: Sequence[str | Path], out: str | Path) -> pd.DataFrame:
    """generative_fields.csv: one row per (generator, N, student)."""
    from ..io import read_provenance

    rows = [row for path in paths for row in load_fields(path)[0]]
    table = pd.DataFrame(rows, columns=list(FIELDS_COLUMNS))
    _write_table(table, out, [read_provenance(path)["config_hash"] for path in paths], len(paths))
    return table


def write_figure(
    name: str, table_path: str | Path, inputs: Sequence[str | Path], settings: Mapping, stem: str | Path
) -> list[Path]:
    """Draw figure ``name`` of the registry from its table (and the npz inputs where it needs them)."""
    from . import figures  # matplotlib and seaborn: only the plot step pays for their import

    plots = settings["plots"]
    set_style(plots["context"], plots["palette"])
    table = pd.read_csv(table_path)
    draw = {
        "sgd_error": lambda: figures.sgd_figure(table),
        "ridge_curves": lambda: figures.ridge_figure(table, inputs, settings["generative_data"]),
        "local_fields": lambda: figures.fields_figure({Path(p).parent: load_fields(p) for p in inputs}),
    }
    assert set(draw) == set(FIGURES), "every registered figure has a drawing function"
    fig = draw[name]()
    record = provenance(section_hash({"figure": name, **settings}))
    paths = save_figure(fig, stem, plots["dpi"], record)
    log.info("figure %s -> %s", name, ", ".join(map(str, paths)))
    return paths
