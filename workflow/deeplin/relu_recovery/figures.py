"""Figures of planted-neuron recovery: seaborn on matplotlib, colour-blind safe. Each `*_figure` takes the
recovery table (relu_recovery.csv) and returns a matplotlib Figure; reporting.py reads and writes the files.

Conventions: one colour per d; solid lines and circles for the relaxed program, dashed lines and squares for
the exact one; Wendel's bound 1 − P(all-ones) in grey; the line n = 2d (where P(all-ones) = ½) dotted.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.patheffects as path_effects
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D

from ..plotting import clipped_error_bars

PROGRAM_STYLE = {"relaxed": {"ls": "-", "marker": "o"}, "exact": {"ls": "--", "marker": "s"}}
MODEL_LABELS = {"linear_skip": "linear neuron + skip", "relu_plain": "ReLU neuron, no skip"}
DIRECTION_LABELS = {"random": "random w", "smallest_singular": "w = smallest singular vector"}
HALF_LINE = {"color": "0.2", "ls": ":", "lw": 1.2}
# n = 2d on the heat maps: white dashes with a dark outline, visible on every colour of the map
HEAT_LINE = {"color": "white", "ls": "--", "lw": 1.6}


def _setting_label(model: str, direction: str) -> str:
    return f"{MODEL_LABELS.get(model, model)}, {DIRECTION_LABELS.get(direction, direction)}"


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges of a heat map whose centres are the sorted ``values`` (midpoints, end cells symmetric)."""
    values = np.sort(np.asarray(values, dtype=float))
    if len(values) == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mids = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mids[0]], mids, [2 * values[-1] - mids[-1]]])


def _certificate_boundary(group: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Per d, the smallest n/d at which at least half the instances are certified (NIC < 1)."""
    xs, ys = [], []
    for d, rows in group.groupby("d"):
        hits = rows[rows["certificate_rate"] >= 0.5]["ratio"]
        if len(hits):
            xs.append(float(hits.min()))
            ys.append(float(d))
    return xs, ys


def phase_diagram_figure(table: pd.DataFrame, palette: str) -> plt.Figure:
    """Heat map of the noiseless recovery rate over (n/d, d), one panel per program and setting, with the
    line n = 2d and the certificate's boundary."""
    clean = table[table["noise"] == 0]
    panels = list(clean.groupby(["model", "direction", "program"], sort=False).groups)
    panels.sort(key=lambda k: (k[0], k[1], 0 if k[2] == "relaxed" else 1))
    columns = min(2, len(panels))
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.4 * rows + 0.5), squeeze=False, layout="constrained"
    )
    mesh = None
    for ax, (model, direction, program) in zip(axes.flat, panels, strict=False):
        group = clean[
            (clean["model"] == model) & (clean["direction"] == direction) & (clean["program"] == program)
        ]
        ratios, dims = np.sort(group["ratio"].unique()), np.sort(group["d"].unique())
        grid = group.pivot_table(index="d", columns="ratio", values="rate").reindex(
            index=dims, columns=ratios
        )
        values = grid.to_numpy()
        mesh = ax.pcolormesh(_edges(ratios), _edges(dims), values, cmap="viridis", vmin=0, vmax=1)
        heights = np.diff(_edges(dims))
        for (i, d), (j, ratio) in ((a, b) for a in enumerate(dims) for b in enumerate(ratios)):
            if np.isfinite(values[i, j]) and len(ratios) <= 16:  # the rate, in the lower part of its cell
                ax.text(
                    ratio + 0.2 * np.diff(_edges(ratios))[j],
                    d - 0.3 * heights[i],
                    f"{values[i, j]:.1f}",
                    ha="center",
                    va="center",
                    fontsize="x-small",
                    color="black" if values[i, j] > 0.6 else "white",
                )
        outline = [path_effects.Stroke(linewidth=3, foreground="0.1"), path_effects.Normal()]
        ax.axvline(2.0, path_effects=outline, **HEAT_LINE)
        xs, ys = _certificate_boundary(group)
        ys = [y + 0.15 * heights[list(dims).index(y)] for y in ys]  # above the cell's rate
        if xs:
            ax.plot(xs, ys, "w^", ms=8, mec="k", mew=0.8, ls="none", zorder=5)
        ax.set_yticks(dims)
        ax.set_xlabel("n / d")
        ax.set_ylabel("d")
        ax.set_title(f"{program} program\n{_setting_label(model, direction)}")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    if mesh is not None:
        fig.colorbar(mesh, ax=axes, label="recovery rate", shrink=0.85)
    handles = [
        Line2D([], [], **(HEAT_LINE | {"color": "0.35"}), label="n = 2d (P(all-ones) = ½)"),
        Line2D(
            [], [], color="w", marker="^", ms=8, mec="k", ls="none", label="certificate NIC < 1 in ≥ half"
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2)
    return fig


def rate_vs_ratio_figure(table: pd.DataFrame, palette: str) -> plt.Figure:
    """Noiseless recovery rate against n/d with Wilson 95 % intervals, per d and program; Wendel's necessary
    condition 1 − P(all-ones) for the relaxed program with skip and the certified fraction per d."""
    clean = table[table["noise"] == 0]
    settings = list(clean.groupby(["model", "direction"], sort=True).groups)
    dims = sorted(clean["d"].unique())
    colours = dict(zip(dims, sns.color_palette(palette, len(dims)), strict=True))
    fig, axes = plt.subplots(
        1, len(settings), figsize=(5.4 * len(settings), 4.2), squeeze=False, layout="constrained"
    )
    # interval bars of the (d, program) series side by side, a few hundredths of n/d apart
    series = [(d, p) for d in dims for p in PROGRAM_STYLE]
    step = 0.12 * float(np.min(np.diff(np.sort(clean["ratio"].unique())), initial=1.0)) / max(len(series), 1)
    dodge = {key: (k - (len(series) - 1) / 2) * step for k, key in enumerate(series)}
    for ax, (model, direction) in zip(axes.flat, settings, strict=True):
        group = clean[(clean["model"] == model) & (clean["direction"] == direction)]
        for d in dims:
            for program, style in PROGRAM_STYLE.items():
                rows = group[(group["d"] == d) & (group["program"] == program)].sort_values("ratio")
                if rows.empty:
                    continue
                x = rows["ratio"] + dodge[(d, program)]
                ax.plot(x, rows["rate"], color=colours[d], ms=4.5, lw=1.5, **style)
                clipped_error_bars(
                    ax, x, rows["rate"], rows["rate_ci_low"], rows["rate_ci_high"], (0, 1), colours[d]
                )
            rows = group[group["d"] == d].drop_duplicates("ratio").sort_values("ratio")
            if model == "linear_skip":
                ax.plot(rows["ratio"], 1 - rows["wendel_all_ones"], color=colours[d], lw=3, alpha=0.35)
            ax.plot(rows["ratio"], rows["certificate_rate"], color=colours[d], lw=1, ls=":", marker="^", ms=3)
        ax.axvline(2.0, color="0.5", lw=0.8)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("n / d")
        ax.set_ylabel("recovery rate")
        ax.set_title(_setting_label(model, direction))
    handles = [Line2D([], [], color=colours[d], lw=2, label=f"d = {d}") for d in dims]
    handles += [
        Line2D([], [], color="0.3", ms=4.5, label=f"{p} program", **s) for p, s in PROGRAM_STYLE.items()
    ]
    handles += [
        Line2D([], [], color="0.3", lw=3, alpha=0.35, label="1 − P_Wendel(all-ones)"),
        Line2D([], [], color="0.3", lw=1, ls=":", marker="^", ms=3, label="certified (NIC < 1)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)))
    return fig


def distance_vs_noise_figure(table: pd.DataFrame, palette: str) -> plt.Figure:
    """Median distance |ŵ − w| to the planted neuron against the label noise σ > 0 on log–log axes, one panel
    per d, one colour per n/d; the relaxed program solid, the exact one dashed (first setting of the table).
    A grey line of slope 1 guides the eye: a stable recovery has a distance proportional to σ."""
    model, direction = table.sort_values(["model", "direction"]).iloc[0][["model", "direction"]]
    group = table[(table["model"] == model) & (table["direction"] == direction) & (table["noise"] > 0)]
    dims = sorted(group["d"].unique())
    ratios = sorted(group["ratio"].unique())
    colours = dict(zip(ratios, sns.color_palette("viridis", len(ratios)), strict=True))
    fig, axes = plt.subplots(
        1, len(dims), figsize=(4.6 * len(dims), 3.8), squeeze=False, sharey=True, layout="constrained"
    )
    for ax, d in zip(axes.flat, dims, strict=True):
        for ratio in ratios:
            for program, style in PROGRAM_STYLE.items():
                rows = group[(group["d"] == d) & (group["ratio"] == ratio) & (group["program"] == program)]
                rows = rows.sort_values("noise")
                if rows.empty:
                    continue
                ax.plot(rows["noise"], rows["median_distance"], color=colours[ratio], ms=4, lw=1.3, **style)
        levels = np.sort(group["noise"].unique())
        if len(levels):
            ax.plot(levels, levels, color="0.6", lw=1, ls="-.", zorder=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("label noise σ")
        ax.set_title(f"d = {d}, {_setting_label(model, direction)}", fontsize="small")
    axes.flat[0].set_ylabel("median |ŵ − w|")
    handles = [Line2D([], [], color=colours[r], lw=2, label=f"n/d = {r:g}") for r in ratios]
    handles += [
        Line2D([], [], color="0.3", ms=4, label=f"{p} program", **s) for p, s in PROGRAM_STYLE.items()
    ]
    handles.append(Line2D([], [], color="0.6", lw=1, ls="-.", label="distance = σ"))
    fig.legend(handles=handles, loc="outside lower center", ncols=min(5, len(handles)))
    return fig
