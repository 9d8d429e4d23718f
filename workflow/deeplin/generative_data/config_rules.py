"""The generative-data section's rules that its JSON Schema cannot express (deeplin.config calls them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _as(value: Any, kind: type, default: Any) -> Any:
    return value if isinstance(value, kind) and not isinstance(value, bool) else default


def problems(section: Mapping[str, Any], prefix: str) -> list[str]:
    """A sparse control with more nonzeros than the smallest SGD width; a latent dimension below 1."""
    messages = []
    sgd = _as(section.get("sgd"), Mapping, {})
    fields = _as(section.get("fields"), Mapping, {})
    widths = [w for w in _as(sgd.get("widths"), list, []) if isinstance(w, int)]
    counts = [n for n in _as(fields.get("sparse_nonzeros"), list, []) if isinstance(n, int)]
    if widths and counts and max(counts) > min(widths):
        messages.append(
            f"{prefix}.fields.sparse_nonzeros = {counts}: each must be <= the smallest sgd width {min(widths)}"
        )
    ratio = section.get("latent_ratio")
    ridge = _as(section.get("ridge"), Mapping, {})
    for key, width in [("sgd.widths", w) for w in widths] + [("ridge.width", ridge.get("width"))]:
        if isinstance(width, int) and isinstance(ratio, (int, float)) and round(ratio * width) < 1:
            messages.append(f"{prefix}.{key} = {width}: latent_ratio·N must round to >= 1")
    return messages


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
