"""The cells (a, N) of a study's deep-linear grid, as the rules name them. Standard library only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ratio_label(a: float) -> str:
    """How a appears in a path (and in the `a` wildcard): repr of the float, e.g. 0.25, 1.0."""
    return repr(float(a))


def grid_cells(section: Mapping[str, Any]) -> list[dict]:
    """Every cell {a, width} of the section's grid, in a stable order."""
    return [
        {"a": ratio_label(a), "width": width} for a in section["depth_ratios"] for width in section["widths"]
    ]


def at_cells(pattern: str, cells: list[dict]) -> list[str]:
    """A per-cell path ``pattern`` ({a}, {width}) at every cell."""
    return [str(pattern).format(**cell) for cell in cells]
