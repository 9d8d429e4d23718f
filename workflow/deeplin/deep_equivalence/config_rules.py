"""The deep-equivalence section's rules that its JSON Schema cannot express, and its filled-in defaults.

deeplin.config calls these after the schema: ``problems`` returns one message per offending key, each naming
the dotted key (under ``prefix``, the section's name) and its value; ``complete`` fills in what the schema's
``default`` keywords cannot (defaults that depend on another key); ``device_problems`` refuses a CUDA request
this host cannot honour before any job is scheduled.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..activations import ACTIVATIONS, get_readout, non_odd_message
from ..config import as_mapping, is_number
from .mi_config_rules import problems as mi_problems


def adapt_schema(schema: dict) -> None:
    """Allow exactly the registry's activation names (one place to add one: deeplin.activations)."""
    model = schema["properties"]["models"]["additionalProperties"]
    model["properties"]["activation"]["enum"] = sorted(ACTIVATIONS)


def _model_problems(models: Mapping, prefix: str) -> list[str]:
    messages = []
    # Names become folder names: two that differ only in case share a folder on macOS and Windows.
    seen: dict[str, str] = {}
    for name in models:
        if isinstance(name, str) and name.lower() in seen:
            messages.append(
                f"{prefix}.models.{name}: differs from {prefix}.models.{seen[name.lower()]} only in "
                "case; result folders would collide on case-insensitive file systems"
            )
        seen.setdefault(str(name).lower(), name)
    for name, model in models.items():
        if not isinstance(model, Mapping):
            continue
        key = f"{prefix}.models.{name}"
        activation = model.get("activation")
        act = ACTIVATIONS.get(activation) if isinstance(activation, str) else None  # else: the schema's
        # The equivalence theorem needs odd activations (docs/deep_equivalence.md, 'Equivalence theorem').
        if act is not None and not act.odd:
            messages.append(f"{key}.activation = {act.name!r}: {non_odd_message(act.name)}")
        depth, ratios = model.get("depth"), model.get("width_ratios")
        if isinstance(depth, int) and isinstance(ratios, list) and len(ratios) != depth:
            messages.append(
                f"{key}.width_ratios = {ratios}: needs one ratio per hidden layer, "
                f"i.e. {depth} ({key}.depth = {depth}), got {len(ratios)}"
            )
    return messages


def _simulated_model_problems(section: Mapping, prefix: str) -> list[str]:
    messages = []
    models = as_mapping(section.get("models"))
    simulated = as_mapping(section.get("simulation")).get("models")
    for i, name in enumerate(simulated if isinstance(simulated, list) else []):
        if not isinstance(name, str):
            continue  # a type error, reported by the schema
        if name not in models:
            known = ", ".join(models) if models else "none"
            messages.append(f"{prefix}.simulation.models[{i}] = {name!r}: no such model (models: {known})")
            continue
        noise = as_mapping(models[name]).get("noise")
        if is_number(noise) and noise == 0:  # negative: reported by the schema
            why = (
                "the sign readout's probit likelihood needs noise inside the sign"
                if models[name].get("readout") == "sign"
                else "a Gaussian likelihood with zero variance has no posterior density to sample"
            )
            messages.append(
                f"{prefix}.models.{name}.noise = {noise}: model {name!r} is simulated ({prefix}.simulation.models), "
                f"which needs noise > 0: {why}"
            )
    return messages


def problems(section: Mapping[str, Any], prefix: str) -> list[str]:
    """Every cross-field problem of the section (or of a slice of it: absent keys are not checked)."""
    messages = _model_problems(as_mapping(section.get("models")), prefix)
    theory = as_mapping(section.get("theory"))
    lo, hi = theory.get("alpha_min"), theory.get("alpha_max")
    if is_number(lo) and is_number(hi) and lo > hi:
        messages.append(f"{prefix}.theory.alpha_min = {lo}: must not exceed {prefix}.theory.alpha_max = {hi}")
    if "simulation" in section and "models" in section:  # a slice without models has nothing to check against
        messages += _simulated_model_problems(section, prefix)
    chains = as_mapping(section.get("sampler")).get("chains")
    if is_number(chains) and isinstance(chains, int) and chains >= 2 and chains % 2:
        messages.append(
            f"{prefix}.sampler.chains = {chains}: must be even (half the chains start at the teacher, half from "
            "the prior: see docs/deep_equivalence.md, 'Nishimori identity and teacher-started chains')"
        )
    # the mutual-information and quadratic-regime sub-sections (deeplin.deep_equivalence.mi_config_rules)
    messages += mi_problems(section, prefix)
    return messages


def complete(section: dict) -> None:
    """Defaults that depend on another key: width_ratios is one 1.0 per hidden layer."""
    for model in section["models"].values():
        model.setdefault("width_ratios", [1.0] * model["depth"])
        get_readout(model["readout"])


def device_problems(
    section: Mapping[str, Any], prefix: str, cuda_available: Callable[[], bool | None]
) -> list[str]:
    """``sampler.device = 'cuda'`` when the posterior jobs run on this host and it has no CUDA device.

    Otherwise every posterior job would fail at its start. With ``sampler.gpus`` >= 1 the jobs get GPUs from
    a cluster scheduler and cannot be checked here; each job checks its own device when it starts
    (deeplin.devices.resolve_device).
    """
    sampler = as_mapping(section.get("sampler"))
    simulated = as_mapping(section.get("simulation")).get("models")
    if sampler.get("device") != "cuda" or sampler.get("gpus", 0) or not simulated:
        return []
    if cuda_available() is not False:
        return []
    message = (
        f"{prefix}.sampler.device = 'cuda': no CUDA device is visible here (torch.cuda.is_available() is "
        f"False), and with {prefix}.sampler.gpus = 0 the posterior jobs run on this machine. Use `device: auto`, "
        "which falls back to the CPU (each job logs the device it runs on), or `device: cpu`; or set "
        f"{prefix}.sampler.gpus >= 1 to request GPU jobs from a cluster scheduler (e.g. --profile "
        "profiles/slurm), whose device each job checks when it starts"
    )
    return [message]


def summary(section: Mapping[str, Any]) -> str:
    """What the section asks for, in a few words (for `deeplin check-config`)."""
    simulated = len(section["simulation"]["models"])
    return f"{len(section['models'])} models, {simulated} simulated"
