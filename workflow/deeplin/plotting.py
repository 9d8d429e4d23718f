"""The figure style and figure files every result shares: one seaborn theme, PNG + PDF written atomically
with a provenance record in their metadata (and no PDF dates, so equal inputs give equal bytes)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.lines import Line2D

from .io import atomic_write


def set_style(context: str = "paper", palette: str = "colorblind") -> None:
    """One style for every figure: white grid, the given seaborn context and a colour-blind-safe palette."""
    sns.set_theme(context=context, style="whitegrid", palette=palette, font_scale=1.0)
    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.bbox": "tight",
            "savefig.pad_inches": 0.05,
            "pdf.fonttype": 42,
            "legend.frameon": False,
            "axes.titlesize": "medium",
            "figure.titlesize": "large",
        }
    )


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


# The marker at the end of an interval cut at the axis (a triangle pointing the way the interval goes on).
CLIP_MARK = {"marker": "^", "ms": 4.5, "ls": "none", "zorder": 4}


def clipped_error_bars(ax, x, centre, low, high, limits: tuple[float, float], colour, **style) -> bool:
    """Error bars from ``low`` to ``high`` cut at the axis ``limits``; a triangle marks every cut end, so that
    axis limits can follow the estimates rather than their widest interval. Returns whether anything was cut
    (for the legend's clip_handle)."""
    x, centre, low, high = (np.asarray(v, dtype=float) for v in (x, centre, low, high))
    shown = np.isfinite(x) & np.isfinite(centre) & np.isfinite(low) & np.isfinite(high)
    if not shown.any():
        return False
    x, centre, low, high = x[shown], centre[shown], low[shown], high[shown]
    bottom, top = limits
    below = np.clip(centre - np.maximum(low, bottom), 0, None)
    above = np.clip(np.minimum(high, top) - centre, 0, None)
    ax.errorbar(
        x, centre, yerr=[below, above], fmt="none", ecolor=colour, elinewidth=1.1, capsize=2.2, **style
    )
    cut_top, cut_bottom = high > top, low < bottom
    if cut_top.any():
        ax.plot(x[cut_top], np.full(cut_top.sum(), top), color=colour, clip_on=False, **CLIP_MARK)
    if cut_bottom.any():
        marker = CLIP_MARK | {"marker": "v"}
        ax.plot(x[cut_bottom], np.full(cut_bottom.sum(), bottom), color=colour, clip_on=False, **marker)
    return bool(cut_top.any() or cut_bottom.any())


def clip_handle() -> Line2D:
    """The legend entry explaining the cut-interval triangles."""
    return Line2D([], [], color="0.3", **CLIP_MARK)
