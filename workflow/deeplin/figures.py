"""Publication figures from the tables (issue #4): seaborn on matplotlib, one colour-blind-safe style.

Each `*_figure` function takes data frames and returns a matplotlib Figure; `save_figure` writes the PNG and
PDF atomically. No function here reads results files: the CLI does that.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker as mticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .aggregate import BOUND_SLOPE  # noqa: E402
from .glm_channels import linear_mmse  # noqa: E402
from .io import atomic_write  # noqa: E402

FIGURES = ("error_vs_alpha", "gap_vs_width", "universality", "diagnostics")
GAP_LABELS = {
    "theory": "deep posterior − GLM theory",
    "glm_estimator": "deep posterior − GLM estimator (same data)",
}


def set_style(context: str = "paper", palette: str = "colorblind") -> None:
    """One style for every figure: white grid, the given seaborn context and a colour-blind-safe palette."""
    sns.set_theme(context=context, style="whitegrid", palette=palette, font_scale=1.0)
    plt.rcParams.update(
        {"figure.dpi": 100, "savefig.bbox": "tight", "pdf.fonttype": 42, "legend.frameon": False}
    )


def _width_colours(widths, palette: str) -> dict[int, tuple]:
    widths = sorted({int(w) for w in widths})
    return dict(zip(widths, sns.color_palette(palette, len(widths)), strict=True))


def _log_axis(axis, base: float = 10) -> None:
    """Log scale with plain-number labels at 1-2-5 (or powers of 2), no minor labels."""
    axis.axes.set_xscale("log", base=base) if axis is axis.axes.xaxis else axis.axes.set_yscale(
        "log", base=base
    )
    if base == 2:
        axis.set_major_locator(mticker.LogLocator(base=2))
    else:
        axis.set_major_locator(mticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(mticker.NullFormatter())


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def error_vs_alpha_figure(curves: Mapping[str, pd.DataFrame], summary: pd.DataFrame | None, palette: str):
    """Per model: the GLM-theory error curve, deep-posterior means with CIs per width, GLM-twin means."""
    simulated = [] if summary is None else [m for m in summary["model"].unique() if m not in curves]
    models = list(curves) + simulated
    columns = max(1, min(len(models), 3))
    rows = max(1, math.ceil(len(models) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.6 * columns, 3.0 * rows), squeeze=False)
    if not models:
        _empty(axes[0, 0], "no theory curve and no simulated point to draw")
        return fig
    colours = _width_colours(summary["width"] if summary is not None else [], palette)
    for ax, model in zip(axes.flat, models, strict=False):
        if model in curves:
            curve = curves[model]
            ax.plot(curve["alpha"], curve["error"], color="black", lw=1.4, label="GLM theory")
            depth, readout, noise = curve["depth"].iloc[0], curve["readout"].iloc[0], curve["noise"].iloc[0]
        else:
            first = summary[summary["model"] == model].iloc[0]
            depth, readout, noise = first["depth"], first["readout"], first["noise"]
        _log_axis(ax.xaxis)
        ax.set_title(f"{model} (L={depth}, {readout} readout, Δ={noise:g})")
        ax.set_xlabel("α = n / d0")
        ax.set_ylabel("classification error" if readout == "sign" else "test error (clean labels)")
        group = summary[summary["model"] == model] if summary is not None else pd.DataFrame({"width": []})
        for index, (width, points) in enumerate(group.groupby("width")):
            shift = 1.0 + 0.04 * (index - (len(colours) - 1) / 2)  # dodge widths along the log axis
            yerr = [points["deep_mean"] - points["deep_ci_low"], points["deep_ci_high"] - points["deep_mean"]]
            ax.errorbar(
                points["alpha"] * shift,
                points["deep_mean"],
                yerr=yerr,
                fmt="o",
                ms=4,
                capsize=2,
                color=colours[int(width)],
                label=f"deep posterior, d0={width}",
            )
            ax.plot(
                points["alpha"] * shift * 1.02,
                points["twin_mean"],
                "s",
                ms=4,
                mfc="none",
                color=colours[int(width)],
                label=f"GLM twin, d0={width}",
            )
        # Errors are >= 0; the axis follows the curve and the means (a two-seed t interval may run off it).
        tops = [curves[model]["error"].max()] if model in curves else []
        tops += [group[c].max() for c in ("deep_mean", "twin_mean") if c in group and group[c].notna().any()]
        if tops:
            ax.set_ylim(0.0, 1.25 * max(tops))
    for ax in list(axes.flat)[len(models) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(labels), 4))
    fig.suptitle("Bayes-optimal test error: deep posterior vs the equivalent GLM (mean and CI over seeds)")
    fig.tight_layout()
    return fig


def gap_vs_width_figure(summary: pd.DataFrame, scaling: pd.DataFrame, palette: str):
    """|gap| vs width on log-log axes per model and gap kind, with fitted slopes and the −1/2 reference."""
    models = sorted(summary["model"].unique())
    gaps = [g for g in GAP_LABELS if f"gap_{g}_mean" in summary]
    fig, axes = plt.subplots(
        len(gaps), len(models), figsize=(3.8 * len(models), 3.2 * len(gaps)), squeeze=False
    )
    alphas = sorted(summary["alpha"].unique())
    colours = dict(zip(alphas, sns.color_palette(palette, len(alphas)), strict=True))
    for row, gap in enumerate(gaps):
        for column, model in enumerate(models):
            ax = axes[row, column]
            group = summary[summary["model"] == model]
            for alpha, points in group.groupby("alpha"):
                size, se = points[f"gap_{gap}_mean"].abs(), points[f"gap_{gap}_se"]
                resolved = size > se
                colour = colours[alpha]
                ax.errorbar(
                    points["width"][resolved],
                    size[resolved],
                    yerr=se[resolved],
                    fmt="o",
                    ms=4,
                    capsize=2,
                    color=colour,
                    label=f"α={alpha:g}",
                )
                ax.plot(
                    points["width"][~resolved],
                    np.maximum(size[~resolved], 1e-6),
                    "o",
                    ms=4,
                    mfc="none",
                    color=colour,
                )
                fit = scaling[
                    (scaling["model"] == model) & (scaling["alpha"] == alpha) & (scaling["gap"] == gap)
                ]
                if len(fit) and np.isfinite(fit["slope"].iloc[0]):
                    slope, intercept = fit["slope"].iloc[0], fit["intercept"].iloc[0]
                    x = np.array([points["width"].min(), points["width"].max()], dtype=float)
                    ax.plot(
                        x,
                        np.exp(intercept) * x**slope,
                        "-",
                        color=colour,
                        lw=1,
                        label=f"fit α={alpha:g}: slope {slope:.2f}",
                    )
            ax.set_title(model)
            widths = np.array(sorted(group["width"].unique()), dtype=float)
            anchor = group[f"gap_{gap}_mean"].abs().max()
            if not (np.isfinite(anchor) and anchor > 0):  # every point flagged, or a single seed per group
                _empty(ax, "no gap estimate: no group has two or more\npoints that pass the diagnostics")
                continue
            ax.plot(widths, anchor * (widths / widths[0]) ** BOUND_SLOPE, "k--", lw=1, label="slope −1/2")
            _log_axis(ax.xaxis, base=2)
            ax.set_yscale("log")
            ax.yaxis.set_minor_formatter(mticker.NullFormatter())
            ax.set_xlabel("input width d0")
            ax.set_ylabel(f"|{GAP_LABELS[gap]}|")
            ax.legend(fontsize="x-small")
    fig.suptitle("Finite-width gap (filled: |gap| > SE and used in the fit; open: unresolved)")
    fig.tight_layout()
    return fig


def universality_figure(summary: pd.DataFrame, palette: str):
    """Linear readout: the rescaled error m = (error − γ0)/η0² depends on the model only via λ = (γ0+Δ)/η0².

    SPEC §1.3 (Barbier et al. 2019, linear channel): error = η0² m + γ0, η0² m² + (D + η0²(α−1)) m − D = 0,
    D = γ0 + Δ; dividing by η0² leaves m² + (λ + α − 1) m − λ = 0, i.e. m = linear_mmse(α, 1, λ).

    Left: m against α (one linear-GLM curve per λ). Right: m against the linear GLM's prediction m(α, λ)
    (SPEC §1.3 closed form), where every model, depth and width must fall on the single line y = x.
    """
    linear = summary[summary["readout"] == "linear"].copy()
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.6))
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
    markers = dict(zip(sorted(linear["depth"].unique()), "o^sDv", strict=False))
    colours = dict(
        zip(
            sorted(linear["model"].unique()),
            sns.color_palette(palette, linear["model"].nunique()),
            strict=True,
        )
    )
    alphas = np.geomspace(linear["alpha"].min() / 1.5, linear["alpha"].max() * 1.5, 200)
    for (model, ridge), group in linear.groupby(["model", "ridge"]):
        colour, marker = colours[model], markers[group["depth"].iloc[0]]
        yerr = [group["m_mean"] - group["m_ci_low"], group["m_ci_high"] - group["m_mean"]]
        left.plot(alphas, [linear_mmse(a, 1.0, ridge) for a in alphas], color=colour, lw=1)
        bars = {"yerr": yerr, "fmt": marker, "ms": 4, "capsize": 2, "color": colour}
        label = f"{model} (L={group['depth'].iloc[0]}, λ={ridge:.3f})"
        left.errorbar(group["alpha"], group["m_mean"], label=label, **bars)
        right.errorbar(group["predicted_m"], group["m_mean"], label=model, **bars)
    _log_axis(left.xaxis)
    left.set_xlabel("α = n / d0")
    left.set_ylabel("(error − γ0) / η0²")
    left.set_title("rescaled error; lines: linear GLM at each λ")
    left.legend(fontsize="x-small")
    # Axes follow the means; an interval from two seeds (t quantile 12.7) may run off the panel.
    top = 1.15 * float(np.nanmax([linear["m_mean"].max(), linear["predicted_m"].max()]))
    limits = [min(0.0, float(linear["m_mean"].min())), top]
    right.plot(limits, limits, "k-", lw=1, label="linear GLM (y = x)")
    right.set_xlim(limits)
    right.set_ylim(limits)
    left.set_ylim(limits)
    right.set_xlabel("linear-GLM prediction 1 − q(α, λ)")
    right.set_ylabel("deep posterior (error − γ0) / η0²")
    right.set_title("all models and depths on one curve")
    right.legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def diagnostics_figure(points: pd.DataFrame, palette: str):
    """Sampler checks: Nishimori vs direct error, R-hat and acceptance distributions, the two chain halves."""
    fig, axes = plt.subplots(2, 2, figsize=(8.4, 7.0))
    data = points.assign(status=np.where(points["passes_diagnostics"], "passes", "flagged"))
    style = {"hue": "model", "style": "status", "style_order": ["passes", "flagged"], "palette": palette}
    scatter = axes[0, 0]
    sns.scatterplot(data=data, x="deep_error_corrected", y="deep_error_nishimori", ax=scatter, **style)
    _diagonal(scatter, data[["deep_error_corrected", "deep_error_nishimori"]])
    scatter.set_xlabel("direct error (corrected)")
    scatter.set_ylabel("Nishimori error (posterior variance)")
    scatter.set_title("Nishimori identity: one point per simulation")
    sns.histplot(data=data, x="deep_rhat_max", hue="model", ax=axes[0, 1], palette=palette, element="step")
    axes[0, 1].axvline(1.01, color="black", ls="--", lw=1)
    axes[0, 1].set_xlabel("largest R-hat over diagnosed test predictions")
    axes[0, 1].set_title("R-hat (dashed: 1.01)")
    sns.histplot(data=data, x="deep_accept_rate", hue="model", ax=axes[1, 0], palette=palette, element="step")
    axes[1, 0].set_xlabel("mean acceptance rate after warm-up")
    axes[1, 0].set_title("HMC acceptance")
    halves = axes[1, 1]
    sns.scatterplot(
        data=data,
        x="deep_teacher_half_error_corrected",
        y="deep_prior_half_error_corrected",
        ax=halves,
        **style,
    )
    _diagonal(halves, data[["deep_teacher_half_error_corrected", "deep_prior_half_error_corrected"]])
    halves.set_xlabel("error, chains started at the teacher")
    halves.set_ylabel("error, chains started from the prior")
    halves.set_title("the two halves of the chains")
    for ax in (scatter, halves):
        if ax.get_legend() is not None:
            sns.move_legend(ax, "upper left", fontsize="x-small")
    fig.tight_layout()
    return fig


def _diagonal(ax, values: pd.DataFrame) -> None:
    finite = values.to_numpy(float)
    finite = finite[np.isfinite(finite)]
    if finite.size:
        low, high = float(finite.min()), float(finite.max())
        pad = 0.05 * (high - low or 1.0)
        ax.plot([low - pad, high + pad], [low - pad, high + pad], "k-", lw=1)


def figure_metadata(record: Mapping | None, extension: str) -> dict:
    """PNG text chunks / PDF info entries carrying a provenance record; no PDF dates, so equal inputs give equal bytes."""
    if extension == "pdf":
        meta: dict = {"CreationDate": None, "ModDate": None}
        if record:
            meta["Creator"] = f"deeplin {record['deeplin_version']} (git {record['git_commit'] or 'none'})"
            meta["Subject"] = f"config_hash {record['config_hash']}; device {record['device']}"
        return meta
    return {f"deeplin:{key}": str(value) for key, value in (record or {}).items()}


def save_figure(fig, stem: str | Path, dpi: int, record: Mapping | None = None) -> list[Path]:
    """Write ``stem``.png and ``stem``.pdf atomically, with the provenance ``record`` in their metadata; close."""
    paths = []
    for extension in ("png", "pdf"):
        path = Path(f"{stem}.{extension}")
        with atomic_write(path, "wb") as handle:
            fig.savefig(handle, format=extension, dpi=dpi, metadata=figure_metadata(record, extension))
        paths.append(path)
    plt.close(fig)
    return paths
