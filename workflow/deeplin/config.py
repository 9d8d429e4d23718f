"""Load and validate a study configuration: JSON Schema first, then the cross-field rules.

Every problem is reported at once, each naming the offending key (dotted path) and value, before any job
is scheduled. Defaults come from the schema (``default:`` keywords) and are filled in here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .activations import ACTIVATIONS, get_readout, non_odd_message

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` lists one message per offending key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "invalid deeplin configuration:\n" + "\n".join(f"  - {p}" for p in problems)
        )


def load_schema() -> dict:
    """The config schema, with the activation names taken from the registry (one place to add one)."""
    # The schema lives in the workflow tree (SPEC §2.1); deeplin is installed editable from it.
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    model = schema["properties"]["models"]["additionalProperties"]
    model["properties"]["activation"]["enum"] = sorted(ACTIVATIONS)
    return schema


def _with_defaults(validator_class):
    """A validator that writes schema ``default`` values into the instance as it validates."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_DefaultingValidator = _with_defaults(jsonschema.Draft202012Validator)


def _key(path) -> str:
    """Dotted key with list indices in brackets: models.tanh-L1.width_ratios[0]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<top level>"


def _mapping(value: Any) -> Mapping:
    """The value if it is a mapping, else an empty one (its type error is the schema's to report)."""
    return value if isinstance(value, Mapping) else {}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _non_finite_messages(value: Any, path: tuple = ()) -> list[str]:
    """NaN and ±inf compare false with every bound, so JSON Schema ranges cannot catch them."""
    if isinstance(value, float) and not math.isfinite(value):
        return [f"{_key(path)} = {value}: must be a finite number"]
    if isinstance(value, Mapping):
        return [m for k, v in value.items() for m in _non_finite_messages(v, (*path, k))]
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in _non_finite_messages(v, (*path, i))]
    return []


def _schema_messages(config: dict, schema: dict) -> list[str]:
    validator = _DefaultingValidator(schema)
    messages = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        key = _key(error.absolute_path)
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            allowed = ", ".join(sorted(error.schema.get("properties", {})))
            for name in extra:
                where = f"{key}.{name}" if error.absolute_path else name
                messages.append(f"{where}: unknown key (allowed here: {allowed})")
            if not extra:
                messages.append(f"{key}: {error.message}")
        elif error.validator == "enum" and error.absolute_path and error.absolute_path[-1] == "activation":
            if error.instance in ACTIVATIONS:
                continue  # reported by the cross-field rule with the reason
            messages.append(f"{key} = {error.instance!r}: {error.message}")
        elif "propertyNames" in error.relative_schema_path:
            messages.append(f"{key}.{error.instance}: key {error.instance!r} is not allowed: {error.message}")
        else:
            messages.append(f"{key} = {json.dumps(error.instance, default=str)}: {error.message}")
    return messages


def _cross_field_messages(config: dict) -> list[str]:
    """Rules a JSON Schema cannot express (issue #2 §3, SPEC §1.2)."""
    messages = _non_finite_messages(config)
    models = _mapping(config.get("models"))
    for name, model in models.items():
        if not isinstance(model, Mapping):
            continue
        act = ACTIVATIONS.get(model.get("activation"))
        if act is not None and not act.odd:
            messages.append(f"models.{name}.activation = {act.name!r}: {non_odd_message(act.name)}")
        depth, ratios = model.get("depth"), model.get("width_ratios")
        if isinstance(depth, int) and isinstance(ratios, list) and len(ratios) != depth:
            messages.append(
                f"models.{name}.width_ratios = {ratios}: needs one ratio per hidden layer, "
                f"i.e. {depth} (models.{name}.depth = {depth}), got {len(ratios)}"
            )
    theory = _mapping(config.get("theory"))
    lo, hi = theory.get("alpha_min"), theory.get("alpha_max")
    if _is_number(lo) and _is_number(hi) and lo > hi:
        messages.append(f"theory.alpha_min = {lo}: must not exceed theory.alpha_max = {hi}")
    simulated = _mapping(config.get("simulation")).get("models")
    for i, name in enumerate(simulated if isinstance(simulated, list) else []):
        if not isinstance(name, str):
            continue  # a type error, reported by the schema
        if name not in models:
            known = ", ".join(models) if models else "none"
            messages.append(f"simulation.models[{i}] = {name!r}: no such model (models: {known})")
            continue
        noise = _mapping(models[name]).get("noise")
        if _is_number(noise) and noise == 0:  # negative: reported by the schema
            readout = models[name].get("readout")
            why = (
                "the sign readout's probit likelihood needs noise inside the sign"
                if readout in ("sign",)
                else "a Gaussian likelihood with zero variance has no posterior density to sample"
            )
            messages.append(
                f"models.{name}.noise = {noise}: model {name!r} is simulated (simulation.models), "
                f"which needs noise > 0: {why}"
            )
    chains = _mapping(config.get("sampler")).get("chains")
    if _is_number(chains) and isinstance(chains, int) and chains >= 2 and chains % 2:
        messages.append(
            f"sampler.chains = {chains}: must be even (half the chains start at the teacher, half from "
            "the prior, SPEC §1.4)"
        )
    return messages


def validate_config(config: Mapping[str, Any]) -> dict:
    """Validated copy of ``config`` with defaults filled in; raises ConfigError listing every problem."""
    config = copy.deepcopy(dict(config))
    messages = _schema_messages(config, load_schema())
    messages += _cross_field_messages(config)
    if messages:
        raise ConfigError(messages)
    for model in config["models"].values():
        model.setdefault("width_ratios", [1.0] * model["depth"])
        get_readout(model["readout"])
    return config


def section_with_defaults(name: str, section: Mapping[str, Any]) -> dict:
    """One top-level section validated alone, defaults filled in (for CLI steps that take a section as JSON)."""
    section = copy.deepcopy(dict(section))
    messages = _schema_messages({name: section}, {"type": "object", "properties": {
        name: load_schema()["properties"][name]}})  # fmt: skip
    messages += _non_finite_messages(section, (name,))
    if messages:
        raise ConfigError(messages)
    return section


def load_config(path: str | Path) -> dict:
    """Read a YAML file and validate it."""
    with open(path) as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, Mapping):
        raise ConfigError([f"{path}: the config must be a mapping, got {type(data).__name__}"])
    return validate_config(data)


def section_hash(section: Any) -> str:
    """Short SHA-256 of a config section's canonical JSON: provenance of what it produced."""
    canonical = json.dumps(section, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
