"""Cross-field rules of the `mutual_information` and `quadratic` sub-sections (called from config_rules)."""

from __future__ import annotations

from collections.abc import Mapping

from ..config import as_mapping, is_number

# The I-MMSE ladder needs a Gaussian output channel (the twin: exact log-det for linear, GAMP for tanh);
# the quadratic regime's table holds squared errors.
MI_READOUTS = ("linear", "tanh")
QUADRATIC_READOUTS = ("linear", "tanh")


def _listed_models(section: Mapping, key: str, prefix: str, readouts: tuple[str, ...]) -> list[str]:
    messages = []
    models = as_mapping(section.get("models"))
    listed = as_mapping(section.get(key)).get("models")
    for i, name in enumerate(listed if isinstance(listed, list) else []):
        if not isinstance(name, str):
            continue  # a type error, reported by the schema
        where = f"{prefix}.{key}.models[{i}] = {name!r}"
        if name not in models:
            known = ", ".join(models) if models else "none"
            messages.append(f"{where}: no such model (models: {known})")
            continue
        model = as_mapping(models[name])
        readout, noise = model.get("readout"), model.get("noise")
        if isinstance(readout, str) and readout not in readouts:
            messages.append(
                f"{where}: readout {readout!r} is not supported here (only {', '.join(readouts)}"
                + (
                    ": the I-MMSE ladder needs a Gaussian output channel)"
                    if key == "mutual_information"
                    else ": the regime's table holds squared errors)"
                )
            )
        if is_number(noise) and noise <= 0:
            messages.append(f"{where}: needs noise > 0 (a Gaussian likelihood needs a positive variance)")
    return messages


def problems(section: Mapping, prefix: str) -> list[str]:
    """Every problem of the two sub-sections (absent sub-sections, or a slice without models: none)."""
    if "models" not in section:
        return []
    return _listed_models(section, "mutual_information", prefix, MI_READOUTS) + _listed_models(
        section, "quadratic", prefix, QUADRATIC_READOUTS
    )
