"""The figure style and figure files every result shares: one seaborn theme, PNG + PDF written atomically
with a provenance record in their metadata (and no PDF dates, so equal inputs give equal bytes)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a display
import matplotlib.pyplot as plt
import seaborn as sns

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
