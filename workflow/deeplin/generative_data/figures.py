"""The chapter's figures, drawn from the tables (and the fields and generator files): online SGD against the
ODEs, ridge learning curves against the fixed point, and the local fields against N(0, 1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import (
    FixedLocator,
    FormatStrFormatter,
    LogLocator,
    NullFormatter,
    NullLocator,
    ScalarFormatter,
)
from scipy import stats

from .generators import GENERATORS
from .reporting import sgd_agreement

NAMES = {"sign": "sign generator", "deep_tanh": "deep tanh generator"}


def _name(kind: str) -> str:
    return NAMES.get(kind, kind)


def _ordered(kinds) -> list[str]:
    """The generators present, in the registry's order (sign first)."""
    present = set(kinds)
    return [kind for kind in GENERATORS if kind in present]


def sgd_figure(table: pd.DataFrame):
    """eg(t) on a log-time axis, one panel per (generator, N): the SGD streams' population error (mean ± SE),
    the test-set error, the ODE with the generator's Ω (solid) and with the linearised Ω_lin (dashed)."""
    summary = sgd_agreement(table)
    summary = summary[summary["t"] > 0]
    panels = list(summary.groupby(["generator", "N"], sort=False))
    generators = _ordered(summary["generator"])
    widths = sorted(set(summary["N"]))
    fig, axes = plt.subplots(
        len(widths), len(generators), figsize=(4.6 * len(generators), 3.6 * len(widths)), squeeze=False
    )
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for (generator, width), part in panels:
        ax = axes[widths.index(width), generators.index(generator)]
        ax.plot(part["t"], part["ode"], "-", color=colours[0], lw=1.6, label="ODE, Ω of the generator")
        ax.plot(part["t"], part["ode_gaussian"], "--", color=colours[1], lw=1.6, label="ODE, linearised Ω")
        ax.errorbar(
            part["t"],
            part["mean"],
            yerr=part["se"],
            fmt="o",
            ms=4,
            color="k",
            capsize=2,
            label="SGD, eg(Q, R) (mean ± SE)",
        )
        ax.plot(part["t"], part["test"], "x", ms=4, color=colours[2], label="SGD, test-set eg (mean)")
        ax.set_xscale("log")
        ax.set_title(f"{_name(generator)}, N = {width}, D = {int(table[table['N'] == width]['D'].iloc[0])}")
        ax.set_xlabel("time t = steps / N")
        ax.set_ylabel("generalisation error eg")
        gap = part["gap"].max()
        ax.text(0.03, 0.05, f"max |ODE − SGD| = {gap:.4f}", transform=ax.transAxes, fontsize="small")
    axes[0, -1].legend(loc="upper right", fontsize="x-small")
    fig.tight_layout()
    return fig


def _dense_theory(
    generator_path: str | Path, lam: float, settings: Mapping, alphas: np.ndarray
) -> np.ndarray:
    """The fixed point's ε on a dense α grid (the same θ as the ridge jobs)."""
    from . import instances
    from .ridge import fixed_point
    from .steps import load_generator, ridge_problem

    _, arrays, meta = load_generator(generator_path)
    theta = instances.ridge_teacher(settings["seed"], meta["generator"], meta["width"], meta["latent"])
    problem = ridge_problem(arrays, theta)
    gamma = meta["latent"] / meta["width"]
    noise = settings["ridge"]["noise"]
    return np.array(
        [
            fixed_point(
                problem["spectrum"], problem["projections"], gamma, a, lam, problem["rho"], noise
            ).error
            for a in alphas
        ]
    )


def ridge_figure(table: pd.DataFrame, generator_paths: Sequence[str | Path], settings: Mapping):
    """ε(α) per (generator, λ): the fixed point (line), ridge on generator data and on Gaussian-equivalent
    data (markers ± SE) and the asymptote ε_∞ of α → ∞, λ → 0 (dotted)."""
    from .steps import load_generator

    paths = {load_generator(p)[2]["generator"]: p for p in generator_paths}
    generators = _ordered(table["generator"])
    lambdas = sorted(set(table["lambda"]))
    fig, axes = plt.subplots(
        len(generators), len(lambdas), figsize=(4.2 * len(lambdas), 3.3 * len(generators)), squeeze=False
    )
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, generator in enumerate(generators):
        for j, lam in enumerate(lambdas):
            ax = axes[i, j]
            part = table[(table["generator"] == generator) & (table["lambda"] == lam)].sort_values("alpha")
            dense = np.linspace(0.5 * part["alpha"].min(), 1.05 * part["alpha"].max(), 240)
            dense = np.union1d(dense, part["alpha"].to_numpy())
            ax.plot(
                dense,
                _dense_theory(paths[generator], lam, settings, dense),
                "-",
                color="k",
                lw=1.3,
                label="fixed point",
            )
            for name, colour, marker, shift in (
                ("generator", colours[0], "o", -0.012),
                ("gaussian", colours[1], "s", 0.012),
            ):
                ax.errorbar(
                    part["alpha"] * (1 + shift),
                    part[f"simulation_{name}"],
                    yerr=part[f"se_{name}"],
                    fmt=marker,
                    ms=4,
                    color=colour,
                    capsize=2,
                    label="ridge on generator data"
                    if name == "generator"
                    else "ridge on Gaussian-equivalent data",
                )
            ax.axhline(part["asymptote"].iloc[0], ls=":", color=colours[3], label="ε∞ (α → ∞, λ → 0)")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ticks = [a for a in (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50) if dense[0] <= a <= dense[-1]]
            ax.xaxis.set_major_locator(FixedLocator(ticks))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_locator(NullLocator())
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.set_title(f"{_name(generator)}, λ = {lam:g}, N = {int(part['N'].iloc[0])}")
            ax.set_xlabel("samples per input dimension α = n / N")
            ax.set_ylabel("test error ε")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize="small")
    return fig


def fields_figure(cells: Mapping[Path, tuple[list[dict], dict[str, np.ndarray]]]):
    """Histograms of λ/√Q at initialisation per generator (largest N): a dense student against N(0, 1), and
    the sparse students of the negative control."""
    by_generator: dict[str, tuple[int, list[dict], dict]] = {}
    for rows, fields in cells.values():
        generator, width = rows[0]["generator"], rows[0]["N"]
        if generator not in by_generator or width > by_generator[generator][0]:
            by_generator[generator] = (width, rows, fields)
    fig, axes = plt.subplots(1, len(by_generator), figsize=(4.6 * len(by_generator), 3.4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    grid = np.linspace(-4.5, 4.5, 300)
    bins = np.linspace(-4.5, 4.5, 61)
    for ax, (generator, (width, rows, fields)) in zip(axes[0], by_generator.items(), strict=True):
        stats_by = {row["student"]: row for row in rows}
        ax.plot(grid, stats.norm.pdf(grid), "k-", lw=1.5, label="N(0, 1)")
        ax.hist(
            fields["dense_0"],
            bins=bins,
            density=True,
            color=colours[0],
            alpha=0.45,
            label=f"dense w (KS {stats_by['dense_0']['ks_field']:.3f})",
        )
        sparse = sorted(
            (row["nonzeros"], label) for label, row in stats_by.items() if label.startswith("sparse")
        )
        for (count, label), colour in zip(sparse[:2], colours[1:], strict=False):
            ax.hist(
                fields[label],
                bins=bins,
                density=True,
                histtype="step",
                lw=1.4,
                color=colour,
                label=f"{count} nonzero{'s' if count > 1 else ''} (KS {stats_by[label]['ks_field']:.3f})",
            )
        ax.set_title(f"{_name(generator)}, N = {width}")
        ax.set_xlabel("standardised local field λ / √Q")
        ax.set_ylabel("density")
        ax.set_ylim(0, 0.75)
        ax.legend(loc="upper right", fontsize="x-small")
    fig.tight_layout()
    return fig
