"""Publication figures of deep linear networks with depth ∝ width: seaborn on matplotlib, colour-blind safe.

Each `*_figure` function takes the comparison table (deep_linear.csv) or the cells' networks and returns a
matplotlib Figure; deeplin.plotting.save_figure writes the PNG and PDF. No function here reads a file: the
reporting step does that. Every finite-N and limit law drawn comes from theory.py (docs/deep_linear.md,
'Finite-size moments' and 'The limit L/N → a'); the figures compute no formula of their own.

Conventions: one colour per width N in the histograms and the moments (the same in both), black for the
L/N → a limit, grey dashes for the Gaussian process (the fixed-depth, infinite-width law); intervals are the
table's ± 2 SE; axis limits follow the curves and the estimates, never an interval, and an interval that runs
past the axis is cut there with a triangle at its end; legends sit below the panels (constrained layout).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from scipy import stats

from ..plotting import CLIP_MARK, clipped_error_bars
from ..seeding import derived_seed
from . import theory
from .cells import CellSample

__all__ = [
    "CellSample",
    "correlation_figure",
    "ks_figure",
    "moments_figure",
    "output_density_figure",
]

LIMIT_COLOUR = "black"
GP_COLOUR = "0.45"
GP_STYLE = {"color": GP_COLOUR, "ls": "--", "lw": 1.3}
# The table's moment statistics drawn by moments_figure, with their axis labels and panel titles.
MOMENT_PANELS = {
    "kurtosis": ("kurtosis E f(x)⁴ / (E f(x)²)²", "one output at one input"),
    "cross_fourth_moment": ("cross moment E f(x₁)² f(x₂)²", "one output at two inputs"),
}
# KS distances of ks_figure: statistic → (legend label, colour index, marker, whose noise level it shares).
KS_SERIES = {
    "ks_output_vs_mixture": ("f(x₁) vs the limit mixture", 0, "o", "output"),
    "ks_corr_vs_limit": ("r vs the limit law of r", 1, "^", "corr"),
    "ks_output_vs_gp": ("f(x₁) vs the GP's N(0, 1)", 2, "s", "output"),
}
NOISE_LABELS = {"output": "f(x₁)", "corr": "r"}
# Paths of the limit correlation's SDE in correlation_figure (docs/deep_linear.md, 'The limit L/N → a').
LIMIT_PATHS = 200_000
LIMIT_STEP = 2e-3
CORRELATION_BINS = 40


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _panels(count: int, width: float = 4.1, height: float = 3.3, legend_rows: int = 2):
    """A grid of ``count`` panels (at most three a row), the unused ones hidden, room below for the legend."""
    columns = max(1, min(3, count))
    rows = max(1, math.ceil(count / columns))
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(max(width * columns, 6.4), height * rows + 0.35 + 0.22 * legend_rows),
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


def _width_colours(widths: Sequence[int], palette: str) -> dict[int, tuple]:
    """One colour per width, the same in every figure of a study (ordered by width)."""
    widths = sorted({int(w) for w in widths})
    return dict(zip(widths, sns.color_palette(palette, max(3, len(widths)))[: len(widths)], strict=True))


def _legend(fig, handles: Sequence, columns: int | None = None) -> None:
    """One legend below the panels, as many columns as fit the figure's width (about 2.4 inches each)."""
    fitting = max(1, int(fig.get_figwidth() // 2.4))
    fig.legend(
        handles=list(handles),
        loc="outside lower center",
        ncol=min(columns or len(handles), fitting, len(handles)),
        fontsize="small",
    )


def _plain_ticks(axis, bins: int = 5) -> None:
    """At most ``bins`` + 1 linear ticks at round numbers, labelled in full (no offset)."""
    axis.set_major_locator(mticker.MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]))
    formatter = mticker.ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    axis.set_major_formatter(formatter)


def _log_ticks(axis, values: Sequence[float] = ()) -> None:
    """Log axis labelled in plain numbers: at the given values (the widths) when few, else at 1-2-5, 1-3 or
    1 per decade, the densest with at most six ticks in the (already set) limits; minor ticks bare."""
    axes = axis.axes
    (axes.set_xscale if axis is axes.xaxis else axes.set_yscale)("log")
    values = sorted({float(v) for v in values if v > 0})
    if not 0 < len(values) <= 6:
        low, high = axes.get_xlim() if axis is axes.xaxis else axes.get_ylim()
        decades = range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for subs in ((1.0, 2.0, 5.0), (1.0, 3.0), (1.0,)):
            values = [m * 10.0**e for e in decades for m in subs if low <= m * 10.0**e <= high]
            if len(values) <= 6:
                break
        if len(values) < 2:  # less than a decade between 1-2-5 ticks: every 1, 1.5, 2, 3, 5, 7
            values = [
                m * 10.0**e
                for e in decades
                for m in (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)
                if low <= m * 10.0**e <= high
            ]
    axis.set_major_locator(mticker.FixedLocator(values))
    axis.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(mticker.NullFormatter())


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def _by_ratio(cells: Mapping[tuple[float, int], CellSample]) -> dict[float, dict[int, CellSample]]:
    """The cells grouped by depth ratio a, each group by width N (both sorted)."""
    grouped: dict[float, dict[int, CellSample]] = {}
    for a, width in sorted(cells, key=lambda key: (float(key[0]), int(key[1]))):
        grouped.setdefault(float(a), {})[int(width)] = cells[(a, width)]
    return grouped


def _networks_words(count: int) -> str:
    return f"{count:,} networks".replace(",", "\N{THIN SPACE}")


# --------------------------------------------------------------------------------------------------
# 1. the density of one output
# --------------------------------------------------------------------------------------------------


def _density_bins(reach: float, step: float = 0.09) -> np.ndarray:
    """Bin edges on [−reach, reach], equal in asinh(t): about ``step`` wide at 0 and ``step``·|t| in the
    tails, so that the sharp centre is resolved and the sparse tails still hold counts."""
    half = math.asinh(reach)
    return np.sinh(np.linspace(-half, half, 2 * math.ceil(half / step) + 1))


def output_density_figure(cells: Mapping[tuple[float, int], CellSample], palette: str):
    """The law of one output f(x₁) at the largest width of each a: a Gaussian mixture, not the GP's N(0, 1).

    One panel per a (log density): the histogram of f(x₁) over every network and output unit of the widest
    cell, the L/N → a limit mixture f = √K Z with log K ~ N(−a, 2a) (theory.mixture_density) and the
    Gaussian process N(0, 1). The centre is sharper and the tails heavier than Gaussian; they part at |f| ≳ 3.
    """
    grouped = _by_ratio(cells)
    fig, axes = _panels(max(1, len(grouped)), legend_rows=1)
    if not grouped:
        _empty(axes[0], "no simulated cell to draw")
        return fig
    colours = _width_colours([w for group in grouped.values() for w in group], palette)
    for ax, (a, group) in zip(axes, grouped.items(), strict=False):
        width = max(group)
        sample = group[width]
        values = np.asarray(sample.outputs, dtype=float)[:, :, 0].ravel()
        values = values[np.isfinite(values)]
        reach = max(4.0, math.ceil(float(np.quantile(np.abs(values), 0.9995)) if values.size else 4.0))
        edges = _density_bins(reach)
        counts, _ = np.histogram(values, bins=edges)
        density = counts / (max(values.size, 1) * np.diff(edges))
        ax.stairs(
            density,
            edges,
            fill=True,
            color=colours[width],
            alpha=0.35,
            lw=0,
            gid="histogram",
        )
        ax.stairs(density, edges, color=colours[width], lw=1.1)
        grid = np.linspace(-reach, reach, 801)
        ax.plot(grid, theory.mixture_density(grid, a), color=LIMIT_COLOUR, lw=1.5, gid="limit", zorder=3)
        ax.plot(grid, stats.norm.pdf(grid), gid="gaussian_process", zorder=3, **GP_STYLE)
        shown = density[density > 0]
        bottom = 0.4 * float(shown.min()) if shown.size else 1e-5
        top = 2.0 * max(
            float(shown.max()) if shown.size else 0.0, float(theory.mixture_density(np.zeros(1), a)[0])
        )
        ax.set_yscale("log")
        ax.set_ylim(bottom, top)
        ax.set_xlim(-reach, reach)
        ax.yaxis.set_major_locator(mticker.LogLocator(base=10, numticks=8))
        ax.yaxis.set_minor_formatter(mticker.NullFormatter())
        _plain_ticks(ax.xaxis, 6)
        ax.set_xlabel("output f(x₁)")
        ax.set_ylabel("density")
        ax.set_title(
            f"a = {a:g}: N = {width}, L = {sample.depth}\n"
            f"{_networks_words(len(sample.outputs))} × {sample.outputs.shape[1]} units"
        )
    largest = sorted({max(group) for group in grouped.values()})
    handles = [
        Patch(facecolor=(*colours[w], 0.35), edgecolor=colours[w], label=f"simulation, N = {w}")
        for w in largest
    ]
    handles += [
        Line2D([], [], color=LIMIT_COLOUR, lw=1.5, label="limit L/N → a: mixture √K·Z, log K ~ N(−a, 2a)"),
        Line2D([], [], label="Gaussian process (fixed L, N → ∞): N(0, 1)", **GP_STYLE),
    ]
    _legend(fig, handles)
    fig.suptitle("One output is a Gaussian mixture: heavier tails than the Gaussian process")
    return fig


# --------------------------------------------------------------------------------------------------
# 2. fourth moments against a
# --------------------------------------------------------------------------------------------------


def _overlap_from(table: pd.DataFrame) -> float:
    """ρ0 read back from the table: the GP's mean correlation is ρ0, its cross moment 1 + 2ρ0²."""
    rows = table[table["statistic"] == "corr_mean"]["gaussian_process"].dropna()
    if len(rows):
        return float(rows.iloc[0])
    rows = table[table["statistic"] == "cross_fourth_moment"]["gaussian_process"].dropna()
    return math.sqrt(max(float(rows.iloc[0]) - 1.0, 0.0) / 2) if len(rows) else 0.0


def _finite_curve(key: str, width: int, ratios: np.ndarray, rho0: float) -> np.ndarray:
    """The exact finite-(N, L) value with the integer depth L = round(aN) at every a of ``ratios``."""
    depths = np.array([theory.depth_for(float(a), width) for a in ratios])
    values = {int(d): float(theory.finite_moments(width, int(d), rho0)[key]) for d in np.unique(depths)}
    return np.array([values[int(d)] for d in depths])


def moments_figure(table: pd.DataFrame, palette: str, rho0: float | None = None):
    """Kurtosis of one output and the two-input cross moment against a = L/N: finite N, limit and GP.

    Points: the table's estimates ± 2 SE, one colour per N, dodged in a. Thin lines: the exact finite values
    3(1 + 2/N)^L and (1 + 2ρ0²)(1 + 2/N)^L with the integer L = round(aN), at least 1 (steps in a); black:
    their limits 3e^{2a} and (1 + 2ρ0²)e^{2a}; grey dashes: the GP's 3 and 1 + 2ρ0² (theory.finite_moments,
    limit_moments, gp_moments). ρ0 is read back from the table's GP values unless given. These estimators are
    heavy-tailed: in the limit the relative SE of the kurtosis' estimator is √(e^{8a} − 1)/√n, and at a ≳ 0.5
    the sample SE itself is unreliable, estimates typically falling below the truth.
    """
    keys = list(MOMENT_PANELS)
    fig, axes = _panels(len(keys), width=4.6, height=3.6, legend_rows=3)
    data = table[table["statistic"].isin(keys)]
    data = data[np.isfinite(data["estimate"].to_numpy(float))]
    if data.empty:
        for ax in axes:
            _empty(ax, "no moment in the table")
        return fig
    rho0 = _overlap_from(table) if rho0 is None else float(rho0)
    widths = sorted(int(w) for w in data["N"].unique())
    ratios = np.array(sorted(float(a) for a in data["a"].unique()))
    colours = _width_colours(widths, palette)
    span = max(float(ratios.max() - ratios.min()), 0.25)
    low, high = 0.0, float(ratios.max()) + 0.1 * span  # from a = 0, where every law is the GP's
    # A fine grid that holds every simulated a, so that each finite curve passes through its table values.
    grid = np.unique(np.concatenate([np.linspace(low, high, 801), ratios]))
    dodge = 0.018 * (high - low)
    gp = theory.gp_moments(rho0)
    cut = False
    for ax, key in zip(axes, keys, strict=True):
        rows = data[data["statistic"] == key]
        limit = np.array([float(theory.limit_moments(float(a), rho0)[key]) for a in grid])
        values = [limit, np.array([float(gp[key])])]
        for width in widths:
            curve = _finite_curve(key, width, grid, rho0)
            values.append(curve)
            ax.plot(grid, curve, color=colours[width], lw=0.8, alpha=0.85, gid=f"finite N={width}", zorder=2)
        ax.plot(grid, limit, color=LIMIT_COLOUR, lw=1.6, gid="limit", zorder=3)
        ax.axhline(float(gp[key]), gid="gaussian_process", zorder=1, **GP_STYLE)
        estimates = rows["estimate"].to_numpy(float)
        positive = estimates[estimates > 0]
        shown = np.concatenate([*values, positive])
        limits = (float(shown.min()) / 1.15, float(shown.max()) * 1.15)
        for index, width in enumerate(widths):
            points = rows[rows["N"] == width].sort_values("a")
            x = points["a"].to_numpy(float) + dodge * (index - (len(widths) - 1) / 2)
            centre, se = points["estimate"].to_numpy(float), points["se"].to_numpy(float)
            cut |= clipped_error_bars(
                ax, x, centre, centre - 2 * se, centre + 2 * se, limits, colours[width], zorder=4
            )
            ax.plot(
                x,
                centre,
                "o",
                ms=4.8,
                color=colours[width],
                mec="white",
                mew=0.5,
                gid=f"estimate N={width}",
                zorder=5,
            )
        ax.set_xlim(low, high)
        ax.set_ylim(*limits)
        _log_ticks(ax.yaxis)
        ticks = list(ax.yaxis.get_majorticklocs())
        if all(
            abs(math.log(float(gp[key]) / tick)) > math.log(1.4) for tick in ticks
        ):  # label the GP's value
            ax.yaxis.set_major_locator(mticker.FixedLocator(sorted([*ticks, float(gp[key])])))
        _plain_ticks(ax.xaxis, 5)
        ax.set_xlabel("depth-to-width ratio a = L/N")
        ax.set_ylabel(MOMENT_PANELS[key][0])
        ax.set_title(MOMENT_PANELS[key][1] + (f" (ρ₀ = {rho0:g})" if key == "cross_fourth_moment" else ""))
    handles = [
        Line2D(
            [],
            [],
            color=colours[w],
            marker="o",
            ms=4.8,
            lw=0.9,
            label=f"N = {w}: estimate ± 2 SE, exact finite law",
        )
        for w in widths
    ]
    handles += [
        Line2D(
            [],
            [],
            color=LIMIT_COLOUR,
            lw=1.6,
            label=r"limit L/N → a: $3\,e^{2a}$ and $(1 + 2\rho_0^2)\,e^{2a}$",
        ),
        Line2D([], [], label=r"Gaussian process (a = 0): 3 and $1 + 2\rho_0^2$", **GP_STYLE),
        Line2D([], [], color="none", label="heavy tails: the SE is unreliable at large a"),
    ]
    if cut:
        handles.append(Line2D([], [], color="0.3", label="interval continues beyond the axis", **CLIP_MARK))
    _legend(fig, handles, columns=2)
    fig.suptitle(r"Fourth moments grow as $e^{2a}$: finite N, the L/N → a limit and the Gaussian process")
    return fig


# --------------------------------------------------------------------------------------------------
# 3. the correlation of the two inputs' outputs
# --------------------------------------------------------------------------------------------------


def limit_correlation_sample(a: float, rho0: float, paths: int, dt: float, seed: int) -> np.ndarray:
    """Draws of the limit correlation r(a) from its SDE (theory.limit_correlation_draws), a fixed stream."""
    rng = np.random.default_rng(
        derived_seed("deep_linear", "correlation_figure", f"seed={int(seed)}", f"a={a!r}")
    )
    return np.asarray(theory.limit_correlation_draws(a, rho0, paths, dt, rng), dtype=float)


def correlation_figure(
    cells: Mapping[tuple[float, int], CellSample],
    rho0: float,
    palette: str,
    paths: int = LIMIT_PATHS,
    dt: float = LIMIT_STEP,
    seed: int = 0,
):
    """The law of the correlation r = K₁₂/√(K₁₁K₂₂) of two inputs' outputs: random in the limit, ρ0 in the GP.

    One panel per a: the histogram of r over the networks of each width N (steps, one colour per N), the
    L/N → a limit law (grey fill: a histogram of ``paths`` draws of dr = −½r(1 − r²)dt + (1 − r²)dW, step
    ``dt``, a fixed seed) and the GP's point mass at ρ0 (dashed line). As a grows r spreads towards ±1.
    """
    grouped = _by_ratio(cells)
    fig, axes = _panels(max(1, len(grouped)), legend_rows=2)
    if not grouped:
        _empty(axes[0], "no simulated cell to draw")
        return fig
    widths = sorted({w for group in grouped.values() for w in group})
    colours = _width_colours(widths, palette)
    edges = np.linspace(-1.0, 1.0, CORRELATION_BINS + 1)
    for ax, (a, group) in zip(axes, grouped.items(), strict=False):
        reference = limit_correlation_sample(a, rho0, paths, dt, seed)
        limit, _ = np.histogram(reference, bins=edges, density=True)
        ax.stairs(limit, edges, fill=True, color="0.82", lw=0, gid="limit", zorder=1)
        ax.stairs(limit, edges, color=LIMIT_COLOUR, lw=1.2, zorder=3)
        tops = [float(limit.max())]
        for width, sample in group.items():
            r = np.asarray(theory.correlation(np.asarray(sample.kernels, dtype=float)), dtype=float)
            r = r[np.isfinite(r)]
            density, _ = np.histogram(r, bins=edges, density=True)
            ax.stairs(density, edges, color=colours[width], lw=1.3, gid=f"simulation N={width}", zorder=4)
            tops.append(float(density.max()) if r.size else 0.0)
        ax.axvline(rho0, gid="gaussian_process", zorder=2, **GP_STYLE)
        ax.set_xlim(-1.0, 1.0)
        ax.set_ylim(0.0, 1.12 * max(tops))
        _plain_ticks(ax.xaxis, 4)
        _plain_ticks(ax.yaxis, 4)
        ax.set_xlabel("correlation r = K₁₂ / √(K₁₁K₂₂)")
        ax.set_ylabel("density")
        sizes = sorted({len(sample.kernels) for sample in group.values()})
        count = _networks_words(sizes[0]) if len(sizes) == 1 else "networks"
        ax.set_title(f"a = {a:g}: N = {', '.join(map(str, group))}\n{count} per N")
    handles = [Line2D([], [], color=colours[w], lw=1.3, label=f"simulation, N = {w}") for w in widths]
    handles += [
        Patch(
            facecolor="0.82",
            edgecolor=LIMIT_COLOUR,
            label=f"limit L/N → a ({paths:,} SDE paths)".replace(",", " "),
        ),
        Line2D([], [], label=f"Gaussian process: r = ρ₀ = {rho0:g}", **GP_STYLE),
    ]
    _legend(fig, handles)
    fig.suptitle("The outputs' correlation stays random in the limit; the Gaussian process fixes it at ρ₀")
    return fig


# --------------------------------------------------------------------------------------------------
# 4. Kolmogorov–Smirnov distances against N
# --------------------------------------------------------------------------------------------------


def ks_figure(table: pd.DataFrame, palette: str):
    """KS distance of the simulated laws to the limit and to the GP against the width N (log–log), per a.

    One panel per a: the distance of one output f(x₁) to the limit mixture and of the correlation r to its
    limit law (both should fall to the noise as N grows at fixed a), and of f(x₁) to the GP's N(0, 1) (which
    stays finite); thin dashed lines in the colour of the limit law's distance: its noise level, the
    distance's median under the null (≈ 0.83/√n; the GP's distance shares f(x₁)'s).
    """
    data = table[table["statistic"].isin(KS_SERIES)]
    data = data[np.isfinite(data["estimate"].to_numpy(float)) & (data["estimate"].to_numpy(float) > 0)]
    ratios = sorted(float(a) for a in data["a"].unique())
    fig, axes = _panels(max(1, len(ratios)), legend_rows=2)
    if data.empty:
        _empty(axes[0], "no Kolmogorov–Smirnov distance in the table")
        return fig
    colours = sns.color_palette(palette, 3)
    widths = sorted(int(w) for w in data["N"].unique())
    present = [name for name in KS_SERIES if name in set(data["statistic"])]
    noise_colour = {}
    for ax, a in zip(axes, ratios, strict=False):
        group = data[data["a"] == a]
        shown: list[float] = []
        drawn: set[str] = set()
        for index, name in enumerate(present):
            _, colour, marker, family = KS_SERIES[name]
            rows = group[group["statistic"] == name].sort_values("N")
            if rows.empty:
                continue
            x = rows["N"].to_numpy(float) * 1.04 ** (index - (len(present) - 1) / 2)
            y = rows["estimate"].to_numpy(float)
            ax.plot(x, y, marker=marker, ms=5.5, lw=1.2, color=colours[colour], gid=name, zorder=4)
            shown += list(y)
            noise, at = rows["noise_level"].to_numpy(float), rows["N"].to_numpy(float)
            if family not in drawn and np.isfinite(noise).all():
                drawn.add(family)
                noise_colour.setdefault(family, colours[colour])
                if len(at) == 1:  # one width: a short level across its points
                    at, noise = at * np.array([1 / 1.12, 1.12]), np.repeat(noise, 2)
                ax.plot(
                    at,
                    noise,
                    color=noise_colour[family],
                    lw=1.0,
                    ls=(0, (4, 2.5)),
                    alpha=0.8,
                    gid=f"noise {family}",
                    zorder=2,
                )
                shown += list(noise)
        positive = np.array([v for v in shown if v > 0])
        ax.set_ylim(float(positive.min()) / 1.8, float(positive.max()) * 1.8)
        ax.set_xlim(min(widths) / 1.3, max(widths) * 1.3)
        _log_ticks(ax.xaxis, widths)
        _log_ticks(ax.yaxis)
        ax.set_xlabel("width N (depth L = round(aN))")
        ax.set_ylabel("KS distance")
        depths = group.drop_duplicates("N").sort_values("N")["L"].astype(int)
        ax.set_title(f"a = {a:g}: L = {', '.join(map(str, depths))}")
    # Each distance next to its noise level: below it in a column (wide figures), or beside it in a row.
    series, noises = [], []
    for name in present:
        label, colour, marker, family = KS_SERIES[name]
        series.append(Line2D([], [], color=colours[colour], marker=marker, ms=5.5, lw=1.2, label=label))
        noise = Line2D([], [], color="none", label=" ")  # a blank: this distance shares another's noise
        if family in noise_colour:
            noise = Line2D(
                [],
                [],
                color=noise_colour.pop(family),
                lw=1.0,
                ls=(0, (4, 2.5)),
                alpha=0.8,
                label=f"noise level of {NOISE_LABELS[family]} (null median ≈ 0.83/√n)",
            )
        noises.append(noise)
    # The legend fills its columns top to bottom.
    if fig.get_figwidth() // 2.4 >= len(series):
        handles = [handle for pair in zip(series, noises, strict=True) for handle in pair]
        columns = len(series)
    else:
        handles, columns = series + noises, 2
    while handles[-1].get_label() == " ":
        handles.pop()
    _legend(fig, handles, columns=columns)
    fig.suptitle("Kolmogorov–Smirnov distance: to the limit law it falls to the noise, to the GP it stays")
    return fig
