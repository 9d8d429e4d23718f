"""Publication figures from the tables: seaborn on matplotlib, one colour-blind-safe style.

Each `*_figure` function takes data frames and returns a matplotlib Figure; deeplin.plotting.save_figure writes the PNG and
PDF atomically. No function here reads results files: the CLI does that.

Conventions shared by every figure: intervals are the tables' Student-t confidence intervals over seeds (their
level is read back from the tables and written in the legends); axis limits follow the curves and the means,
never an interval, and an interval that runs past the axis is cut there and its end marked with a triangle;
legends sit outside the data (constrained layout makes room for them).
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
from scipy import stats

from ..plotting import clip_handle, clipped_error_bars
from .aggregate import BOUND_SLOPE
from .glm_channels import linear_mmse

# The paired gap first: it removes the teacher-to-teacher spread and is the sharpest test of the bound.
GAP_LABELS = {
    "glm_estimator": "paired gap\ndeep − GLM-optimal estimator, same data",
    "theory": "gap to theory\ndeep posterior − GLM theory",
}
WIDTH_MARKERS = "osD^vP"
ALPHA_MARKERS = "o^sDvP"


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _log_axis(axis, base: float = 10, values: Sequence[float] = ()) -> None:
    """Log scale with plain-number labels that never run together.

    Base 2: a tick at every given value (the widths) when they are few, else at powers of 2. Base 10: ticks at
    1-2-5 per decade when the axis spans at most one and a half decades, at 1-3 up to three, else at powers of
    ten only; minor ticks unlabelled.
    """
    axes = axis.axes
    (axes.set_xscale if axis is axes.xaxis else axes.set_yscale)("log", base=base)
    if base == 2:
        values = sorted({float(v) for v in values if v > 0})
        if 0 < len(values) <= 6:
            axis.set_major_locator(mticker.FixedLocator(values))
        else:
            axis.set_major_locator(mticker.LogLocator(base=2))
    else:
        low, high = axes.get_xlim() if axis is axes.xaxis else axes.get_ylim()
        span = math.log10(high / low) if low > 0 and high > low else 1.0
        subs = (1.0, 2.0, 5.0) if span <= 1.5 else (1.0, 3.0) if span <= 3 else (1.0,)
        axis.set_major_locator(mticker.LogLocator(base=10, subs=subs))
    axis.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(mticker.NullFormatter())


def _plain_ticks(axis, bins: int = 4, integer: bool = False) -> None:
    """At most ``bins`` + 1 linear ticks at round numbers, labelled in full (no offset, no run-together)."""
    axis.set_major_locator(mticker.MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10], integer=integer))
    formatter = mticker.ScalarFormatter(useOffset=False)
    formatter.set_scientific(False)
    axis.set_major_formatter(formatter)


def _minus(text: str) -> str:
    """Typographic minus signs in numbers, as matplotlib draws them on the axes."""
    return text.replace("-", "\N{MINUS SIGN}")


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def confidence_level(summary: pd.DataFrame | None, prefix: str = "deep") -> float | None:
    """The confidence level of the summary's intervals, read back from them: (high − mean)/se = t_{k−1}."""
    if summary is None or f"{prefix}_se" not in summary:
        return None
    half = (summary[f"{prefix}_ci_high"] - summary[f"{prefix}_mean"]) / summary[f"{prefix}_se"]
    count = summary["points_used"] if "points_used" in summary else pd.Series(np.nan, index=summary.index)
    usable = np.isfinite(half) & (half > 0) & (count > 1)
    if not usable.any():
        return None
    levels = 2 * stats.t.cdf(half[usable].to_numpy(float), count[usable].to_numpy(float) - 1) - 1
    return float(np.median(levels))


def interval_words(summary: pd.DataFrame | None, prefix: str = "deep") -> str:
    """'95 % CI over seeds' (or 'CI over seeds' when the level cannot be read back)."""
    level = confidence_level(summary, prefix)
    return "CI over seeds" if level is None else f"{100 * level:.3g} % CI over seeds"


def _dodge(count: int, index: int, factor: float) -> float:
    """Multiplicative offset of series ``index`` of ``count`` around 1 on a log axis."""
    return factor ** (index - (count - 1) / 2)


def _model_title(model: str, depth, readout, noise, activation=None) -> str:
    what = f"{activation}, " if activation is not None else ""
    return f"{model}\n({what}L={depth}, {readout} readout, Δ={noise:g})"


def _error_label(readout: str) -> str:
    return "classification error" if readout == "sign" else "test error (clean labels)"


# --------------------------------------------------------------------------------------------------
# error against α
# --------------------------------------------------------------------------------------------------


def error_vs_alpha_figure(curves: Mapping[str, pd.DataFrame], summary: pd.DataFrame | None, palette: str):
    """The headline: per simulated model, the deep posterior at its largest width against the GLM theory.

    One panel per simulated model: the GLM theory curve on the simulated α range, the deep posterior's mean
    with its confidence interval at the largest width (filled circles), the smaller widths' means (small,
    lighter markers, no interval) and the finite-size GLM twin at the largest width with its interval (open
    squares). Models that are theory only are grouped one panel per readout, one line per model (colour:
    activation and depth, line style: noise). A study without simulations gets only those panels.
    """
    simulated = [] if summary is None or summary.empty else sorted(summary["model"].unique())
    theory_only = [m for m in curves if m not in simulated]
    by_readout: dict[str, list[str]] = {}
    for model in theory_only:
        by_readout.setdefault(str(curves[model]["readout"].iloc[0]), []).append(model)
    readouts = [r for r in ("linear", "tanh", "sign") if r in by_readout] + sorted(
        r for r in by_readout if r not in ("linear", "tanh", "sign")
    )
    # Simulated models first, then (from a new row) the theory-only panels.
    columns = max(1, min(3, max(len(simulated), len(readouts))))
    layout = [("simulated", m) for m in simulated] + [None] * (-len(simulated) % columns)
    layout += [("theory", r) for r in readouts]
    rows = max(1, math.ceil(len(layout) / columns))
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(4.3 * columns, 3.6 * rows + (0.9 if simulated else 0.0)),
        squeeze=False,
        layout="constrained",
    )
    if not layout:
        _empty(axes[0, 0], "no theory curve and no simulated point to draw")
        return fig
    words = interval_words(summary)
    colours = sns.color_palette(palette, 10)
    cut_any = False
    for index, ax in enumerate(axes.flat):
        panel = layout[index] if index < len(layout) else None
        if panel is None:
            ax.set_visible(False)
        elif panel[0] == "simulated":
            model = panel[1]
            cut_any |= _simulated_panel(
                ax, model, curves.get(model), summary[summary["model"] == model], colours
            )
        else:
            _theory_panel(
                ax, {m: curves[m] for m in by_readout[panel[1]]}, panel[1], palette, bool(simulated)
            )
    if simulated:
        largest = {m: int(summary.loc[summary["model"] == m, "width"].max()) for m in simulated}
        widths = "d0=" + "/".join(str(w) for w in sorted(set(largest.values())))
        handles = [
            Line2D([], [], color="black", lw=1.5, label="GLM theory (d0 → ∞)"),
            Line2D(
                [],
                [],
                color=colours[0],
                marker="o",
                ms=5.5,
                ls="none",
                label=f"deep posterior, largest width ({widths}): mean, {words}",
            ),
            Line2D(
                [],
                [],
                color=colours[1],
                marker="s",
                ms=5.5,
                mfc="white",
                ls="none",
                label=f"GLM twin at that width: mean, {interval_words(summary, 'twin')}",
            ),
            Line2D(
                [],
                [],
                color=colours[0],
                alpha=0.45,
                marker="o",
                ms=3.5,
                ls="none",
                label="deep posterior, smaller widths (lighter = smaller): mean",
            ),
        ]
        if cut_any:
            handles.append(clip_handle())
            handles[-1].set_label("interval continues beyond the axis")
        fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize="small")
        fig.suptitle("Bayes-optimal test error: deep posterior at finite width vs the equivalent GLM")
    else:
        fig.suptitle("Bayes-optimal test error of the equivalent GLM (theory, d0 → ∞)")
    return fig


def _simulated_panel(ax, model: str, curve: pd.DataFrame | None, group: pd.DataFrame, colours) -> bool:
    first = group.iloc[0]
    alphas = np.array(sorted(group["alpha"].unique()), dtype=float)
    x_low, x_high = alphas.min() / 1.7, alphas.max() * 1.7
    tops, bottoms = [], [0.0]
    if curve is not None:
        shown = curve[(curve["alpha"] >= x_low) & (curve["alpha"] <= x_high)]
        ax.plot(curve["alpha"], curve["error"], color="black", lw=1.5, zorder=2)
        tops.append(float(shown["error"].max()) if len(shown) else float(curve["error"].max()))
    widths = sorted(int(w) for w in group["width"].unique())
    largest = widths[-1]
    for column in ("deep_mean", "twin_mean"):
        values = group[column].to_numpy(float)
        tops += list(values[np.isfinite(values)])
        bottoms += list(values[np.isfinite(values)])
    top = 1.12 * max(tops) if tops and max(tops) > 0 else 1.0
    bottom = min(bottoms)
    bottom = bottom - 0.05 * (top - bottom) if bottom < 0 else 0.0
    limits = (bottom, top)
    # Smaller widths dodge left of α in lighter shades, the largest sits at α, the twin to its right.
    shades = sns.light_palette(colours[0], len(widths) + 1)[1:]
    step = 1.085
    cut = False
    for index, width in enumerate(widths):
        points = group[group["width"] == width].sort_values("alpha")
        if width == largest:
            cut |= clipped_error_bars(
                ax,
                points["alpha"],
                points["deep_mean"],
                points["deep_ci_low"],
                points["deep_ci_high"],
                limits,
                colours[0],
                zorder=3,
            )
            ax.plot(points["alpha"], points["deep_mean"], "o", ms=5.5, color=colours[0], zorder=5)
            twin_x = points["alpha"] * step
            if "twin_ci_low" in points:
                cut |= clipped_error_bars(
                    ax,
                    twin_x,
                    points["twin_mean"],
                    points["twin_ci_low"],
                    points["twin_ci_high"],
                    limits,
                    colours[1],
                    zorder=3,
                )
            ax.plot(
                twin_x, points["twin_mean"], "s", ms=5.5, mfc="white", mew=1.3, color=colours[1], zorder=5
            )
        else:
            shift = step ** (index - (len(widths) - 1))
            ax.plot(points["alpha"] * shift, points["deep_mean"], "o", ms=3.5, color=shades[index], zorder=4)
    ax.set_xlim(x_low, x_high)
    ax.set_ylim(*limits)
    _log_axis(ax.xaxis)
    _plain_ticks(ax.yaxis, 5)
    title = _model_title(model, first["depth"], first["readout"], first["noise"], first.get("activation"))
    ax.set_title(f"{title[:-1]}; d0 = {', '.join(map(str, widths))})")
    ax.set_xlabel("α = n / d0")
    ax.set_ylabel(_error_label(first["readout"]))
    return cut


def _theory_panel(
    ax, curves: Mapping[str, pd.DataFrame], readout: str, palette: str, only_theory_words: bool = False
) -> None:
    """Theory curves of one readout: colour per activation, darker with depth; line style per noise level."""
    shapes = sorted({_shape(c) for c in curves.values()})
    activations = sorted({a for a, _ in shapes})
    base = dict(zip(activations, sns.color_palette(palette, len(activations)), strict=True))
    colour = {shapes[0]: (0.0, 0.0, 0.0)} if len(shapes) == 1 else {}  # one model: black, as in "GLM theory"
    for activation in activations if len(shapes) > 1 else ():
        depths = sorted(d for a, d in shapes if a == activation)
        for i, depth in enumerate(depths):
            colour[(activation, depth)] = _shade(
                base[activation], 0.0 if len(depths) == 1 else 0.45 - 0.9 * i / (len(depths) - 1)
            )
    # The most common noise level is drawn solid, the others dashed, dotted, dash-dotted.
    counts = pd.Series([float(c["noise"].iloc[0]) for c in curves.values()]).value_counts(sort=False)
    noises = sorted(counts.index, key=lambda n: (-counts[n], n))
    dashes = dict(zip(noises, ["-", "--", ":", "-."] * 3, strict=False))
    order = sorted(curves, key=lambda m: (_shape(curves[m]), float(curves[m]["noise"].iloc[0])))
    for model in order:
        curve = curves[model]
        noise = float(curve["noise"].iloc[0])
        label = f"{curve['activation'].iloc[0]}, L={int(curve['depth'].iloc[0])}" + (
            f", Δ={noise:g}" if len(noises) > 1 else ""
        )
        ax.plot(
            curve["alpha"], curve["error"], ls=dashes[noise], color=colour[_shape(curve)], lw=1.5, label=label
        )
    ax.set_xlim(
        min(c["alpha"].min() for c in curves.values()), max(c["alpha"].max() for c in curves.values())
    )
    ax.set_ylim(bottom=0.0)
    _log_axis(ax.xaxis)
    _plain_ticks(ax.yaxis, 5)
    ax.set_xlabel("α = n / d0")
    ax.set_ylabel(_error_label(readout))
    if len(curves) == 1:
        model, curve = next(iter(curves.items()))
        title = _model_title(
            model, int(curve["depth"].iloc[0]), readout, noises[0], curve["activation"].iloc[0]
        )
        ax.set_title(title.replace("\n", (" (GLM theory only)\n" if only_theory_words else "\n"), 1))
        return
    noise_words = f", Δ = {noises[0]:g}" if len(noises) == 1 else ""
    ax.set_title(
        f"{readout} readout{noise_words}: GLM theory" + (" only" if only_theory_words else " per model")
    )
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.24),
        ncol=2 if len(curves) > 3 else 1,
        fontsize="small",
        title="activation, depth" + ("" if len(noises) == 1 else ", noise"),
        title_fontsize="small",
    )


def _shade(colour, amount: float) -> tuple[float, float, float]:
    """``colour`` mixed with white (amount > 0) or black (amount < 0) by |amount|."""
    target = 1.0 if amount > 0 else 0.0
    return tuple((1 - abs(amount)) * c + abs(amount) * target for c in colour[:3])


def _shape(curve: pd.DataFrame) -> tuple[str, int]:
    return str(curve["activation"].iloc[0]), int(curve["depth"].iloc[0])


# --------------------------------------------------------------------------------------------------
# gap against width
# --------------------------------------------------------------------------------------------------


def gap_vs_width_figure(summary: pd.DataFrame, scaling: pd.DataFrame, palette: str):
    """|gap| against width on log-log axes: paired gap (top row) and gap to theory, one column per model.

    Per α: the mean |gap| over seeds with ±1 SE bars (filled: |gap| > SE, in the fit; open: unresolved), the
    weighted fit of log|gap| on log d0 as a line, its slope and confidence interval in the legend, and the
    slope −1/2 of the O(d0^−1/2) bound (Camilli et al. 2025) as a dashed reference.
    """
    models = sorted(summary["model"].unique())
    gaps = [g for g in GAP_LABELS if f"gap_{g}_mean" in summary]
    fig, axes = plt.subplots(
        max(1, len(gaps)),
        len(models),
        figsize=(4.5 * len(models), 4.1 * max(1, len(gaps))),
        squeeze=False,
        layout="constrained",
    )
    alphas = sorted(summary["alpha"].unique())
    colours = dict(zip(alphas, sns.color_palette(palette, len(alphas)), strict=True))
    markers = dict(zip(alphas, ALPHA_MARKERS * 3, strict=False))
    level = _slope_level(scaling)
    for row, gap in enumerate(gaps):
        for column, model in enumerate(models):
            _gap_panel(
                axes[row, column],
                summary[summary["model"] == model],
                scaling,
                model,
                gap,
                colours,
                markers,
                level,
            )
    fig.suptitle("Finite-width gap against input width (mean |gap| over seeds, bars ±1 SE)")
    return fig


def _slope_level(scaling: pd.DataFrame) -> str:
    """'95 % CI' of the slopes, read back from scaling.csv (normal interval: half = z · se)."""
    if scaling is None or "slope_se" not in scaling:
        return "CI"
    half = (scaling["slope_ci_high"] - scaling["slope"]) / scaling["slope_se"]
    half = half[np.isfinite(half) & (half > 0)]
    return f"{100 * (2 * stats.norm.cdf(float(half.median())) - 1):.3g} % CI" if len(half) else "CI"


def _gap_panel(ax, group, scaling, model, gap, colours, markers, level) -> None:
    ax.set_title(f"{model}: {GAP_LABELS[gap]}")
    mean, se = group[f"gap_{gap}_mean"].abs(), group[f"gap_{gap}_se"]
    finite = np.isfinite(mean) & (mean > 0)
    if not finite.any():
        _empty(ax, "no gap estimate: no group has two or more\npoints that pass the diagnostics")
        return
    resolved = finite & np.isfinite(se) & (mean > se)
    basis = mean[resolved] if resolved.any() else mean[finite]
    top = float(np.nanmax((mean + se.fillna(0))[finite])) * 1.6
    bottom = float(basis.min()) / 3.0
    widths = np.array(sorted(group["width"].unique()), dtype=float)
    alphas = sorted(group["alpha"].unique())
    handles = []
    for index, alpha in enumerate(alphas):
        points = group[group["alpha"] == alpha].sort_values("width")
        shift = _dodge(len(alphas), index, 1.05)
        x = points["width"].to_numpy(float) * shift
        size, error = points[f"gap_{gap}_mean"].abs().to_numpy(float), points[f"gap_{gap}_se"].to_numpy(float)
        good = np.isfinite(size) & (size > 0) & np.isfinite(error) & (size > error)
        colour, marker = colours[alpha], markers[alpha]
        clipped_error_bars(
            ax,
            x[good],
            size[good],
            size[good] - error[good],
            size[good] + error[good],
            (bottom, top),
            colour,
            zorder=3,
        )
        ax.plot(x[good], size[good], marker, ms=5, color=colour, ls="none", zorder=4)
        loose = np.isfinite(size) & ~good
        if loose.any():  # (an empty line drawn unclipped would still claim the figure's corner in the layout)
            ax.plot(
                x[loose],
                np.clip(size[loose], bottom, None),
                marker,
                ms=5,
                mfc="white",
                color=colour,
                ls="none",
                zorder=4,
                clip_on=False,
            )
        fit = scaling[(scaling["model"] == model) & (scaling["alpha"] == alpha) & (scaling["gap"] == gap)]
        slope = float(fit["slope"].iloc[0]) if len(fit) else math.nan
        if math.isfinite(slope):
            low, high = float(fit["slope_ci_low"].iloc[0]), float(fit["slope_ci_high"].iloc[0])
            line = np.array([widths.min(), widths.max()])
            ax.plot(
                line * shift,
                np.exp(fit["intercept"].iloc[0]) * line**slope,
                "-",
                color=colour,
                lw=1.2,
                zorder=2,
            )
            label = _minus(f"α={alpha:g}: slope {slope:.2f} [{low:.2f}, {high:.2f}]")
        else:
            label = f"α={alpha:g}: no fit ({int(good.sum())} resolved width{'s' if good.sum() != 1 else ''})"
        handles.append(
            Line2D(
                [], [], color=colour, marker=marker, ms=5, lw=1.2 if math.isfinite(slope) else 0, label=label
            )
        )
    # The bound's slope through the geometric mean of the resolved gaps at the smallest width.
    first = group[group["width"] == widths.min()][f"gap_{gap}_mean"].abs()
    first = first[np.isfinite(first) & (first > 0)]
    anchor = float(np.exp(np.log(first).mean())) if len(first) else float(basis.max())
    ax.plot(widths, anchor * (widths / widths[0]) ** BOUND_SLOPE, "k--", lw=1.1, zorder=1)
    handles.append(Line2D([], [], color="black", ls="--", lw=1.1, label="slope −1/2 (the bound's rate)"))
    handles.append(
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="none", label="open: |gap| ≤ SE, not fitted")
    )
    ax.set_xlim(widths.min() / 1.25, widths.max() * 1.25)
    ax.set_ylim(bottom, top)
    _log_axis(ax.xaxis, base=2, values=widths)
    _log_axis(ax.yaxis)
    ax.set_xlabel("input width d0")
    ax.set_ylabel("|gap|")
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.17),
        fontsize="x-small",
        title=f"fitted slope [{level}]",
        title_fontsize="x-small",
    )


# --------------------------------------------------------------------------------------------------
# universality (linear readout)
# --------------------------------------------------------------------------------------------------


def universality_figure(summary: pd.DataFrame, palette: str):
    """Linear readout: the rescaled error m = (error − γ0)/η0² depends on the model only via λ = (γ0+Δ)/η0².

    Barbier, Krzakala, Macris, Miolane, Zdeborová (PNAS 2019), linear channel: error = η0² m + γ0 with
    η0² m² + (D + η0²(α−1)) m − D = 0, D = γ0 + Δ; dividing by η0² leaves m² + (λ + α − 1) m − λ = 0, i.e.
    m = linear_mmse(α, 1, λ).

    Left: m against α (one linear-GLM curve per model's λ). Right: m against the linear GLM's prediction
    m(α, λ), where every model, depth and width must fall on the single line y = x. Colour: model; marker:
    width (filled: the largest, open: smaller); bars: confidence intervals over seeds at the largest width.
    """
    linear = summary[summary["readout"] == "linear"].copy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.2, 4.6), layout="constrained")
    if linear.empty:
        for ax in (left, right):
            _empty(ax, "no linear-readout model was simulated")
        return fig
    linear["ridge"] = (linear["gamma0"] + linear["noise"]) / linear["eta0"] ** 2
    linear["predicted_m"] = [
        linear_mmse(a, 1.0, lam) for a, lam in zip(linear["alpha"], linear["ridge"], strict=True)
    ]
    scale = linear["eta0"] ** 2
    for suffix in ("mean", "ci_low", "ci_high"):
        linear[f"m_{suffix}"] = (linear[f"deep_{suffix}"] - linear["gamma0"]) / scale
    models = sorted(linear["model"].unique())
    widths = sorted(int(w) for w in linear["width"].unique())
    colours = dict(zip(models, sns.color_palette(palette, len(models)), strict=True))
    markers = dict(zip(widths, WIDTH_MARKERS * 3, strict=False))
    values = np.concatenate([linear["m_mean"].to_numpy(float), linear["predicted_m"].to_numpy(float)])
    values = values[np.isfinite(values)]
    top = 1.15 * float(values.max()) if values.size else 1.0
    limits = (min(0.0, float(values.min()) * 1.15) if values.size else 0.0, top)
    alphas = np.geomspace(linear["alpha"].min() / 1.6, linear["alpha"].max() * 1.6, 200)
    series = [(m, w) for m in models for w in widths]
    cut = False
    span = limits[1] - limits[0]
    for index, (model, width) in enumerate(series):
        group = linear[(linear["model"] == model) & (linear["width"] == width)].sort_values("alpha")
        if group.empty:
            continue
        colour, marker = colours[model], markers[width]
        face = colour if width == widths[-1] else "white"
        shift = _dodge(len(series), index, 1.035)
        offset = (index - (len(series) - 1) / 2) * 0.012 * span
        for ax, x in ((left, group["alpha"] * shift), (right, group["predicted_m"] + offset)):
            if width == widths[-1]:  # intervals at the largest width only, as in error_vs_alpha
                cut |= clipped_error_bars(
                    ax, x, group["m_mean"], group["m_ci_low"], group["m_ci_high"], limits, colour, zorder=3
                )
            ax.plot(
                x,
                group["m_mean"],
                marker,
                ms=5.5 if width == widths[-1] else 4.5,
                mfc=face,
                mew=1.1,
                color=colour,
                ls="none",
                zorder=4,
            )
    for model in models:
        ridge = float(linear.loc[linear["model"] == model, "ridge"].iloc[0])
        left.plot(
            alphas, [linear_mmse(a, 1.0, ridge) for a in alphas], color=colours[model], lw=1.2, zorder=2
        )
    left.set_xlim(alphas[0], alphas[-1])
    _log_axis(left.xaxis)
    left.set_xlabel("α = n / d0")
    left.set_ylabel("deep posterior (error − γ0) / η0²")
    left.set_title("rescaled error; lines: linear GLM at each model's λ")
    right.plot(limits, limits, "k-", lw=1.1, zorder=1)
    right.set_xlim(limits)
    for ax in (left, right):
        ax.set_ylim(limits)
        _plain_ticks(ax.yaxis, 5)
    _plain_ticks(right.xaxis, 5)
    right.set_xlabel("linear-GLM prediction 1 − q(α, λ)")
    right.set_ylabel("deep posterior (error − γ0) / η0²")
    right.set_title("every model, depth and width on y = x")
    model_handles = [
        Line2D(
            [],
            [],
            color=colours[m],
            lw=1.2,
            marker="o",
            ms=5,
            label=f"{m} (L={int(linear.loc[linear['model'] == m, 'depth'].iloc[0])}, "
            f"λ={float(linear.loc[linear['model'] == m, 'ridge'].iloc[0]):.3f})",
        )
        for m in models
    ]
    width_handles = [
        Line2D(
            [],
            [],
            color="0.3",
            marker=markers[w],
            ms=5,
            mfc="0.3" if w == widths[-1] else "white",
            ls="none",
            label=f"d0={w}",
        )
        for w in widths
    ]
    extra = [Line2D([], [], color="0.3", lw=1.1, label=f"bars: {interval_words(summary)} (d0={widths[-1]})")]
    if cut:
        extra.append(clip_handle())
        extra[-1].set_label("interval continues beyond the axis")
    fig.legend(
        handles=model_handles + width_handles + extra,
        loc="outside lower center",
        ncol=min(4, len(model_handles) + len(width_handles) + len(extra)),
        fontsize="small",
    )
    fig.suptitle("Universality of the linear readout: (error − γ0)/η0² depends on the model only through λ")
    return fig


# --------------------------------------------------------------------------------------------------
# sampler diagnostics
# --------------------------------------------------------------------------------------------------


def diagnostics_figure(points: pd.DataFrame, palette: str):
    """Sampler checks: Nishimori vs direct error, R-hat and acceptance distributions, the two chain halves."""
    fig, axes = plt.subplots(2, 2, figsize=(9.0, 7.6), layout="constrained")
    data = points.assign(status=np.where(points["passes_diagnostics"], "passes", "flagged"))
    style = {
        "hue": "model",
        "style": "status",
        "style_order": ["passes", "flagged"],
        "markers": {"passes": "o", "flagged": "X"},
        "palette": palette,
        "s": 28,
        "alpha": 0.85,
    }
    scatter = axes[0, 0]
    sns.scatterplot(data=data, x="deep_error_corrected", y="deep_error_nishimori", ax=scatter, **style)
    _diagonal(scatter, data[["deep_error_corrected", "deep_error_nishimori"]])
    scatter.set_xlabel("direct error (corrected)")
    scatter.set_ylabel("Nishimori error (posterior variance)")
    scatter.set_title("Nishimori identity: one point per simulation")
    rhat = axes[0, 1]
    sns.histplot(data=data, x="deep_rhat_max", hue="model", ax=rhat, palette=palette, element="step", bins=15)
    rhat.axvline(1.01, color="black", ls="--", lw=1)
    rhat.set_xlabel("largest R-hat over diagnosed test predictions")
    rhat.set_title("R-hat (dashed: 1.01)")
    accept = axes[1, 0]
    sns.histplot(
        data=data, x="deep_accept_rate", hue="model", ax=accept, palette=palette, element="step", bins=15
    )
    accept.set_xlabel("mean acceptance rate after warm-up")
    accept.set_title("HMC acceptance")
    halves = axes[1, 1]
    sns.scatterplot(
        data=data,
        x="deep_teacher_half_error_corrected",
        y="deep_prior_half_error_corrected",
        ax=halves,
        legend=False,
        **style,
    )
    _diagonal(halves, data[["deep_teacher_half_error_corrected", "deep_prior_half_error_corrected"]])
    halves.set_xlabel("error, chains started at the teacher")
    halves.set_ylabel("error, chains started from the prior")
    halves.set_title("the two halves of the chains")
    for ax in axes.flat:
        _plain_ticks(ax.xaxis, 4)
        _plain_ticks(ax.yaxis, 4, integer=ax in (rhat, accept))  # counts
    # One legend for the four panels (colour: model; marker: verdict), below them.
    legend = scatter.get_legend()
    handles = list(legend.legend_handles) if legend is not None else []
    labels = [text.get_text() for text in legend.get_texts()] if legend is not None else []
    for ax in axes.flat:
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    if handles:
        names = {"model": "model:", "status": "diagnostics:", "passes": "passes", "flagged": "flagged (×)"}
        fig.legend(
            handles,
            [names.get(label, label) for label in labels],
            loc="outside lower center",
            ncol=len(handles),
            fontsize="small",
        )
    return fig


def _diagonal(ax, values: pd.DataFrame) -> None:
    finite = values.to_numpy(float)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        pad = 0.05 * (high - low or 1.0)
        ax.plot([low - pad, high + pad], [low - pad, high + pad], "k-", lw=1, zorder=0)
