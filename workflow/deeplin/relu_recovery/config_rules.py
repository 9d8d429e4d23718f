"""The recovery section's rules that its JSON Schema cannot express (deeplin.config calls them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def problems(section: Mapping[str, Any], prefix: str) -> list[str]:
    """Cross-field problems: a primary solver that is also its own fallback."""
    solver = section.get("solver")
    if not isinstance(solver, Mapping):  # a wrong type is the schema's message
        return []
    if solver.get("name") is not None and solver.get("name") == solver.get("fallback"):
        return [
            f"{prefix}.solver.fallback: {solver['fallback']!r} is the primary solver; use another or 'none'"
        ]
    return []


def complete(section: dict) -> None:
    """Nothing to fill in: no default of this section depends on another key."""


def summary(section: Mapping[str, Any]) -> str:
    """What the section asks for, in a few words (for `deeplin check-config`)."""
    cells = len(section["dims"]) * len(section["ratios"])
    return f"{cells} cells of {section['trials']} trials" if cells else "no cells"
