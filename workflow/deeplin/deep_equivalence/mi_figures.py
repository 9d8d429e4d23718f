"""Figures of the mutual information per sample and of the quadratic regime (docs/deep_equivalence.md).

Each `*_figure` takes data frames and returns a matplotlib Figure; `write_mi_figure` reads the tables and
writes PNG and PDF with a provenance record. Intervals are ±2 standard errors over seeds (plus the stated
quadrature error where it enters).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from ..config import section_hash
from ..io import provenance
from ..plotting import save_figure, set_style
from .mi_figure_names import MI_FIGURES

log = logging.getLogger("deeplin")

MARKERS = "osD^vP"
SE_FACTOR = 2.0  # intervals: ±2 standard errors over seeds


def _plain_log_ticks(axis) -> None:
    """Plain-number labels on a log axis (0.5, 1, 2 rather than 5×10⁻¹), minor ticks unlabelled."""
    axis.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(mticker.NullFormatter())


def _distinct_ticks(values, spacing: float = 1.25) -> list[float]:
    """Tick positions for values that differ only by rounding (κ = round(κ d0²)/d0² per d0): each value to two
    significant digits, dropping any within a factor `spacing` of the previous tick, so labels never overlap."""
    ticks: list[float] = []
    for value in sorted({float(f"{v:.2g}") for v in values}):
        if not ticks or value > spacing * ticks[-1]:
            ticks.append(value)
    return ticks


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def mutual_information_figure(
    summary: pd.DataFrame, rungs: pd.DataFrame, curves: Mapping[str, pd.DataFrame], palette: str
):
    """Left: I/n vs α per model (theory curve, deep estimates per width ±2 SE, GLM twin). Right: the
    in-sample mmse at the rungs, deep (posterior variance, mean over seeds) and twin, at the largest width."""
    models = sorted(summary["model"].unique())
    fig, axes = plt.subplots(
        len(models), 2, figsize=(9.5, 3.6 * len(models)), squeeze=False, layout="constrained"
    )
    widths = sorted(summary["width"].unique())
    colours = dict(zip(widths, sns.color_palette(palette, len(widths) + 1)[1:], strict=True))
    for row, model in zip(axes, models, strict=True):
        ax, ax_rung = row
        group = summary[summary["model"] == model]
        curve = curves.get(model)
        if curve is not None and curve["mutual_information"].notna().any():
            ax.plot(curve["alpha"], curve["mutual_information"], color="0.2", lw=1.4, label="GLM theory")
        span = group["alpha"].max() / group["alpha"].min() if len(group) else 1.0
        for i, width in enumerate(widths):
            part = group[group["width"] == width].sort_values("alpha")
            if part.empty:
                continue
            shift = span ** (0.02 * (i - (len(widths) - 1) / 2)) if span > 1 else 1.0
            err = SE_FACTOR * part["mi_deep_nishimori_se"].fillna(0) + part["quadrature_error"]
            ax.errorbar(
                part["alpha"] * shift,
                part["mi_deep_nishimori"],
                yerr=err,
                fmt=MARKERS[i % len(MARKERS)],
                color=colours[width],
                ms=5,
                capsize=2,
                label=f"deep, d0 = {width}",
            )
            ax.plot(
                part["alpha"] * shift,
                part["mi_glm_twin"],
                MARKERS[i % len(MARKERS)],
                mfc="none",
                color=colours[width],
                ms=8,
                label=f"GLM twin, d0 = {width}",
            )
        ax.set_xscale("log")
        _plain_log_ticks(ax.xaxis)
        ax.set_xlabel("α = n/d0")
        ax.set_ylabel("I/n (nats per sample)")
        ax.set_title(f"{model}: mutual information per sample", fontsize=9)
        ax.legend(fontsize=7, loc="upper right")
        widest = rungs[
            (rungs["model"] == model) & (rungs["width"] == rungs[rungs["model"] == model]["width"].max())
        ]
        if widest.empty:
            _empty(ax_rung, "no rungs")
            continue
        for j, (alpha, part) in enumerate(widest.groupby("alpha")):
            mean = part.groupby("rung")[["snr", "mmse_posterior", "mmse_teacher", "mmse_twin"]].mean()
            colour = sns.color_palette(palette, 8)[j % 8]
            ax_rung.plot(
                mean["snr"], mean["mmse_twin"], "-", color=colour, lw=1.2, label=f"twin, α = {alpha:g}"
            )
            ax_rung.plot(
                mean["snr"], mean["mmse_posterior"], "o", color=colour, ms=5, label=f"deep, α = {alpha:g}"
            )
            ax_rung.plot(
                mean["snr"], mean["mmse_teacher"], "x", color=colour, ms=5, label="deep, teacher-based"
            )
        ax_rung.set_xscale("log")
        _plain_log_ticks(ax_rung.xaxis)
        ax_rung.set_xlabel("signal-to-noise ratio s (rungs)")
        ax_rung.set_ylabel("in-sample mmse m(s)")
        ax_rung.set_title(
            f"{model}: the ladder at d0 = {int(widest['width'].max())} (mean over seeds)", fontsize=9
        )
        ax_rung.legend(fontsize=7, loc="lower left")
    return fig


def mutual_information_gap_figure(summary: pd.DataFrame, errors: pd.DataFrame | None, palette: str):
    """Left: |I_deep − I_twin|/n vs d0 (log–log, paired per seed, ±2 SE) with the d0^(−1/2) reference.
    Right: the error gap |deep − GLM theory| vs d0 from the simulations' summary, where simulated."""
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(9.5, 3.8), layout="constrained")
    keys = sorted({(m, a) for m, a in zip(summary["model"], summary["alpha"], strict=True)})
    colours = sns.color_palette(palette, max(len(keys), 1))
    for i, (model, alpha) in enumerate(keys):
        part = summary[(summary["model"] == model) & (summary["alpha"] == alpha)].sort_values("width")
        gap = part["gap_twin"].abs()
        err = SE_FACTOR * part["gap_twin_se"].fillna(0) + part["quadrature_error"]
        ax.errorbar(
            part["width"],
            gap,
            yerr=[np.minimum(err, gap * 0.999), err],
            fmt=MARKERS[i % len(MARKERS)] + "-",
            color=colours[i],
            capsize=2,
            label=f"{model}, α = {alpha:g}",
        )
        if errors is not None:
            sub = errors[(errors["model"] == model) & (errors["alpha"] == alpha)].sort_values("width")
            if len(sub):
                ax_err.errorbar(
                    sub["width"],
                    sub["gap_theory_mean"].abs(),
                    yerr=SE_FACTOR * sub["gap_theory_se"],
                    fmt=MARKERS[i % len(MARKERS)] + "-",
                    color=colours[i],
                    capsize=2,
                    label=f"{model}, α = {alpha:g}",
                )
    widths = np.array(sorted(summary["width"].unique()), dtype=float)
    for axis, title, ylabel in (
        (ax, "MI gap: deep (I-MMSE) − GLM twin, same inputs", "|I_deep − I_twin| / n"),
        (ax_err, "error gap: deep posterior − GLM theory", "|error_deep − error_GLM|"),
    ):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(widths, [f"{w:g}" for w in widths])
        axis.set_xlabel("input width d0")
        axis.set_ylabel(ylabel)
        axis.set_title(title, fontsize=9)
    # limits follow the means (an interval reaching zero is cut at the bottom of a log axis)
    for axis, values in (
        (ax, summary["gap_twin"].abs()),
        (ax_err, None if errors is None else errors["gap_theory_mean"].abs()),
    ):
        positive = values[values > 0] if values is not None else values
        if positive is not None and len(positive):
            axis.set_ylim(positive.min() / 4, positive.max() * 4)
    lines = [line for line in ax.get_lines() if len(line.get_ydata())]
    if lines and len(widths):
        top = np.nanmax(summary["gap_twin"].abs())
        if math.isfinite(top) and top > 0:
            ax.plot(widths, top * (widths / widths[0]) ** -0.5, ":", color="0.4", label="∝ d0^(−1/2)")
    ax.legend(fontsize=7)
    if errors is None or not ax_err.get_lines():
        _empty(ax_err, "these points were not simulated\n(deep_equivalence.simulation)")
    else:
        ax_err.legend(fontsize=7)
    return fig


def write_mi_figure(
    name: str,
    tables_dir: str | Path,
    curves: Mapping[str, str | Path],
    errors: str | Path | None,
    plots: Mapping,
    stem: str | Path,
) -> list[Path]:
    """Draw MI figure ``name`` from the MI tables in ``tables_dir`` (and the theory curves, the simulations'
    summary where given); write PNG and PDF with a provenance record."""
    set_style(plots["context"], plots["palette"])
    folder = Path(tables_dir)
    summary = pd.read_csv(folder / "mutual_information.csv")
    if name == "mutual_information":
        rungs = pd.read_csv(folder / "mutual_information_rungs.csv")
        frames = {model: pd.read_csv(path) for model, path in curves.items()}
        fig = mutual_information_figure(summary, rungs, frames, plots["palette"])
    elif name == "mutual_information_gap":
        fig = mutual_information_gap_figure(
            summary, pd.read_csv(errors) if errors else None, plots["palette"]
        )
    else:
        raise ValueError(f"unknown figure {name!r}; known: {', '.join(MI_FIGURES)}")
    record = provenance(section_hash({"figure": name, "plots": dict(plots)}))
    paths = save_figure(fig, stem, plots["dpi"], record)
    log.info("figure %s -> %s", name, ", ".join(map(str, paths)))
    return paths


def quadratic_regime_figure(table: pd.DataFrame, palette: str):
    """Where the equivalence breaks (n = κ d0²), one row per model. (a) deep error vs κ per d0, with the GLM
    prediction at α = κ d0 (dashed, one per d0) and its floor γ0; (b) the same errors vs α = n/d0, where the
    GLM prediction is one curve for every d0 (the proportional regime's scale); (c) gap = GLM − deep vs κ
    (collapse across d0 supports the n ∝ d0² scale); (d) teacher-started − prior-started error vs κ
    (metastability)."""
    from .theory import theory_curve

    models = sorted(table["model"].unique())
    fig, axes = plt.subplots(
        len(models), 4, figsize=(16, 3.8 * len(models)), squeeze=False, layout="constrained"
    )
    widths = sorted(table["width"].unique())
    colours = dict(zip(widths, sns.color_palette(palette, len(widths)), strict=True))
    for row, model in zip(axes, models, strict=True):
        ax, ax_alpha, ax_gap, ax_half = row
        group = table[table["model"] == model]
        spec = group.iloc[0]
        kappas = np.geomspace(group["kappa"].min(), group["kappa"].max(), 30)
        alphas = np.geomspace(group["alpha"].min(), group["alpha"].max(), 40)
        _, glm_rows = theory_curve(
            spec["activation"], int(spec["depth"]), spec["readout"], spec["noise"], alphas
        )
        ax_alpha.plot(alphas, [r["error"] for r in glm_rows], "-", color="0.3", lw=1, label="GLM prediction")
        for i, width in enumerate(widths):
            part = group[group["width"] == width].sort_values("kappa")
            if part.empty:
                continue
            colour, marker = colours[width], MARKERS[i % len(MARKERS)]
            _, rows = theory_curve(
                spec["activation"], int(spec["depth"]), spec["readout"], spec["noise"], kappas * width
            )
            ax.plot(kappas, [r["error"] for r in rows], "--", color=colour, lw=1)
            for axis, x, centre, se in (
                (ax, part["kappa"], part["deep_error"], part["deep_error_se"]),
                (ax_alpha, part["alpha"], part["deep_error"], part["deep_error_se"]),
                (ax_gap, part["kappa"], part["gap"], part["gap_se"]),
                (ax_half, part["kappa"], part["halves_difference"], part["halves_difference_se"]),
            ):
                axis.errorbar(
                    x,
                    centre,
                    yerr=SE_FACTOR * se.fillna(0),
                    fmt=marker + "-",
                    color=colour,
                    ms=5,
                    capsize=2,
                    label=f"d0 = {width}",
                )
        for axis in (ax, ax_alpha):
            axis.axhline(spec["gamma0"], color="0.3", lw=1, ls=":", label="GLM floor γ0 (α → ∞)")
            axis.set_yscale("log")
            axis.set_ylabel("test error (corrected)")
        ax.plot([], [], "--", color="0.5", lw=1, label="GLM prediction at α = κ d0")
        ax.set_title(f"{model}: deep posterior vs the GLM prediction", fontsize=9)
        ax_alpha.set_title("the same errors against α = n/d0", fontsize=9)
        ax_gap.axhline(0, color="0.3", lw=0.8)
        ax_gap.set_ylabel("GLM prediction − deep error")
        ax_gap.set_title("gap (collapse in κ: n ∝ d0² scale)", fontsize=9)
        ax_half.axhline(0, color="0.3", lw=0.8)
        ax_half.set_ylabel("teacher-started − prior-started error")
        ax_half.set_title("the two halves of the chains", fontsize=9)
        for axis in row:
            axis.set_xscale("log")
            _plain_log_ticks(axis.xaxis)
            axis.legend(fontsize=7)
        for axis in (ax, ax_gap, ax_half):
            axis.xaxis.set_major_locator(mticker.FixedLocator(_distinct_ticks(group["kappa"])))
            axis.set_xlabel("κ = n / d0²")
        ax_alpha.set_xlabel("α = n/d0")
    return fig


def write_quadratic_figure(table_path: str | Path, plots: Mapping, stem: str | Path) -> list[Path]:
    """Draw the quadratic-regime figure from quadratic_regime.csv; PNG and PDF with a provenance record."""
    set_style(plots["context"], plots["palette"])
    fig = quadratic_regime_figure(pd.read_csv(table_path), plots["palette"])
    record = provenance(section_hash({"figure": "quadratic_regime", "plots": dict(plots)}))
    paths = save_figure(fig, stem, plots["dpi"], record)
    log.info("figure quadratic_regime -> %s", ", ".join(map(str, paths)))
    return paths
