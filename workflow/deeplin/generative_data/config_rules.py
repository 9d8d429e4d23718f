"""The generative-data section's rules that its JSON Schema cannot express (deeplin.config calls them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def problems(section: Mapping[str, Any], prefix: str) -> list[str]:
    """Every cross-field problem of the section: none so far (D = round(δN) is at least 1, and a sparse
    control with more nonzeros than N is skipped at that N), kept so that the section follows the results'
    common protocol."""
    return []


def complete(section: dict) -> None:
    """Nothing to fill in: no default of this section depends on another key."""


def summary(section: Mapping[str, Any]) -> str:
    """What the section asks for, in a few words (for `deeplin check-config`)."""
    generators = len(section["generators"])
    if not generators:
        return "no generators"
    ridge = section["ridge"]
    points = generators * len(ridge["lambdas"]) * len(ridge["alphas"])
    return f"{generators} generators, {generators * len(section['sgd']['widths'])} SGD runs, {points} ridge points"
