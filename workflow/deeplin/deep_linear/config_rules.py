"""The deep-linear section's rules that its JSON Schema cannot express (deeplin.config calls them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def problems(section: Mapping[str, Any], prefix: str) -> list[str]:
    """Every cross-field problem of the section: none so far (a cell with a·N < 0.5 still has one layer,
    deeplin.deep_linear.theory.depth_for), kept so that the section follows the results' common protocol."""
    return []


def complete(section: dict) -> None:
    """Nothing to fill in: no default of this section depends on another key."""


def summary(section: Mapping[str, Any]) -> str:
    """What the section asks for, in a few words (for `deeplin check-config`)."""
    cells = len(section["depth_ratios"]) * len(section["widths"])
    return f"{cells} cells of {section['networks']} networks" if cells else "no cells"
