"""The cells (d, n/d) of a study's recovery grid, as the rules name them. Standard library only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def ratio_label(ratio: float) -> str:
    """How n/d appears in a path (and in the `ratio` wildcard): repr of the float, e.g. 1.5, 2.0."""
    return repr(float(ratio))


def sample_count(d: int, ratio: float) -> int:
    """n = round(ratio · d), at least d (the grid's n/d starts at 1)."""
    return max(int(d), int(round(float(ratio) * int(d))))


def grid_cells(section: Mapping[str, Any]) -> list[dict]:
    """Every cell {dim, ratio} of the section's grid, in a stable order."""
    return [{"dim": d, "ratio": ratio_label(r)} for d in section["dims"] for r in section["ratios"]]


def at_cells(pattern: str, cells: list[dict]) -> list[str]:
    """A per-cell path ``pattern`` ({dim}, {ratio}) at every cell."""
    return [str(pattern).format(**cell) for cell in cells]


def runtime_minutes(section: Mapping[str, Any], d: int, ratio: float) -> int:
    """A generous wall-time request for one cell's job (the cluster's `runtime` resource): per solve about
    5e-7 · (d·n)² s for the relaxed program on one core (measured with CLARABEL from d = 10 to 100, SCS at
    eps 1e-9 when it falls back can take 3× that) and 4× that for the exact one, three times the estimate,
    at least 10 minutes."""
    n = sample_count(d, ratio)
    per_solve = max(0.05, 5e-7 * (d * n) ** 2)
    programs = sum(
        4 if p == "exact" and d <= section["exact_max_dim"] else 1
        for p in section["programs"]
        if p != "exact" or d <= section["exact_max_dim"]
    )
    solves = (
        section["trials"] * len(section["noise_levels"]) * len(section["models"]) * len(section["directions"])
    )
    return max(10, int(3 * solves * programs * per_solve / 60) + 1)
