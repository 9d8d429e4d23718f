"""Load and validate a study configuration: JSON Schema first, then the cross-field rules.

Every problem is reported at once, each naming the offending key (dotted path) and value, before any job
is scheduled. Defaults come from the schema (``default:`` keywords) and are filled in here.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib
import json
import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .activations import ACTIVATIONS
from .devices import cuda_visible

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
SCHEMA_PATH = SCHEMA_DIR / "config.schema.yaml"

# The results of this package, by id: each has a config section of that name with its own schema
# (schemas/<id>.schema.yaml) and cross-field rules (deeplin.<id>.config_rules), a subpackage, a rules file,
# a results folder and a report chapter of the same name.
RESULT_IDS = ("deep_equivalence", "deep_linear", "generative_data", "relu_recovery")


def result_rules(result_id: str):
    """The module with a result's own config rules (``problems``, ``complete``, optional ``check_devices``)."""
    return importlib.import_module(f"deeplin.{result_id}.config_rules")


class ConfigError(ValueError):
    """The configuration is invalid; ``problems`` lists one message per offending key."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid deeplin configuration:\n" + "\n".join(f"  - {p}" for p in problems))


@functools.lru_cache(maxsize=4)
def _cached_schema(activations: tuple[str, ...]) -> dict:
    """The study schema with each result's section schema inserted, read once per activation registry."""
    # The schemas live in the workflow tree (workflow/schemas/); deeplin is installed editable from it.
    schema = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    for result_id in RESULT_IDS:
        section = yaml.safe_load((SCHEMA_DIR / f"{result_id}.schema.yaml").read_text(encoding="utf-8"))
        section.pop("$schema", None)
        rules = result_rules(result_id)
        if hasattr(rules, "adapt_schema"):
            rules.adapt_schema(section)
        schema["properties"][result_id] = {**section, **schema["properties"][result_id]}
    return schema


def _schema() -> dict:
    """The shared cached schema: read-only, for this module's validators (callers get load_schema's copy)."""
    return _cached_schema(tuple(sorted(ACTIVATIONS)))


def load_schema() -> dict:
    """The config schema, with the activation names taken from the registry (one place to add one)."""
    return copy.deepcopy(_schema())  # a private copy: callers may change it without touching the cache


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


def _is_strict_integer(checker: Any, instance: Any) -> bool:
    """JSON Schema counts 2.0 as an integer; depths, widths, seeds and counts must be Python ints."""
    return isinstance(instance, int) and not isinstance(instance, bool)


_StrictValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)
_DefaultingValidator = _with_defaults(_StrictValidator)


def _key(path) -> str:
    """Dotted key with list indices in brackets: models.tanh-L1.width_ratios[0]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<top level>"


def as_mapping(value: Any) -> Mapping:
    """The value if it is a mapping, else an empty one (its type error is the schema's to report)."""
    return value if isinstance(value, Mapping) else {}


def is_number(value: Any) -> bool:
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
    """One message per schema violation, each starting with the dotted key (and its value where it has one)."""
    validator = _DefaultingValidator(schema)
    messages: list[str] = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        key = _key(error.absolute_path)
        if error.validator == "required":
            for name in error.validator_value:
                if isinstance(error.instance, Mapping) and name not in error.instance:
                    where = f"{key}.{name}" if error.absolute_path else name
                    message = f"{where}: required key missing"
                    if message not in messages:  # jsonschema reports each missing key in its own error
                        messages.append(message)
        elif error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            allowed = ", ".join(sorted(error.schema.get("properties", {})))
            for name in extra:
                where = f"{key}.{name}" if error.absolute_path else name
                messages.append(f"{where}: unknown key (allowed here: {allowed})")
            if not extra:
                messages.append(f"{key}: {error.message}")
        elif error.validator == "enum" and error.absolute_path and error.absolute_path[-1] == "activation":
            if isinstance(error.instance, str) and error.instance in ACTIVATIONS:
                continue  # reported by the cross-field rule with the reason
            messages.append(f"{key} = {json.dumps(error.instance, default=str)}: {error.message}")
        elif "propertyNames" in error.relative_schema_path:
            messages.append(f"{key}.{error.instance}: key {error.instance!r} is not allowed: {error.message}")
        else:
            messages.append(f"{key} = {json.dumps(error.instance, default=str)}: {error.message}")
    return messages


def _cross_field_messages(config: Mapping) -> list[str]:
    """Rules a JSON Schema cannot express: finite numbers everywhere, then each result's own rules."""
    messages = _non_finite_messages(config)
    for result_id in RESULT_IDS:
        if isinstance(config.get(result_id), Mapping):
            messages += result_rules(result_id).problems(config[result_id], result_id)
    return messages


def validate_config(
    config: Mapping[str, Any] | Any,
    sources: Iterable[str | Path] = (),
    cli_overrides: Mapping[str, Any] | None = None,
) -> dict:
    """Validated copy of ``config`` with defaults filled in; raises ConfigError listing every problem.

    ``sources`` are the files ``config`` was read from: YAML keeps the last of two equal keys silently, so
    they are re-read here to report duplicate keys as well. ``cli_overrides`` are the values given on the
    command line (Snakemake's ``--config``, already merged into ``config``): Snakemake parses a nested value
    such as ``sampler={"chains": 4}`` with YAML's base loader, which keeps every scalar a string, so at
    those paths (and only there) a string that reads as the schema's integer, number or boolean is
    converted. The same string in a config file stays an error.
    """
    messages = [m for source in sources for m in find_duplicate_keys(source)]
    if not isinstance(config, Mapping):
        value = json.dumps(config, default=str)
        messages.append(f"<top level> = {value}: the config must be a mapping, got {type(config).__name__}")
        raise ConfigError(messages)
    config = copy.deepcopy(dict(config))
    if cli_overrides:
        _convert_cli_strings(config, cli_overrides, _schema())
    messages += _schema_messages(config, _schema())
    messages += _cross_field_messages(config)
    if messages:
        raise ConfigError(messages)
    for result_id in RESULT_IDS:
        if result_id in config:
            result_rules(result_id).complete(config[result_id])
    return config


def _subschema(schema: Mapping, path: tuple) -> Mapping:
    """The schema that applies at ``path`` (properties, then additionalProperties, list items); {} if none."""
    for part in path:
        if isinstance(part, int):
            items = schema.get("items")
            schema = items if isinstance(items, Mapping) else {}
        else:
            extra = schema.get("additionalProperties")
            schema = schema.get("properties", {}).get(part, extra if isinstance(extra, Mapping) else {})
    return schema


_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NOT_CONVERTED = object()


def _from_cli_string(text: str, types: Any) -> Any:
    """``text`` as the first schema type it reads as (integer, number, boolean); else _NOT_CONVERTED."""
    types = [types] if isinstance(types, str) else list(types or [])
    if "string" in types:
        return _NOT_CONVERTED  # a string is valid here as it stands
    stripped = text.strip()
    for kind in types:
        if kind in ("integer", "number") and _INTEGER.fullmatch(stripped):
            return int(stripped)
        if kind == "number" and _NUMBER.fullmatch(stripped):
            return float(stripped)
        if kind == "boolean" and stripped.lower() in ("true", "false"):
            return stripped.lower() == "true"
    return _NOT_CONVERTED


def _has(container: Any, part: Any) -> bool:
    """Whether ``container[part]`` exists (a key of a mapping or an index of a list)."""
    if isinstance(container, Mapping):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container)


def _convert_cli_strings(config: dict, overrides: Mapping[str, Any], schema: Mapping) -> None:
    """Convert, in place, the command-line strings in ``config`` that read as their schema type."""

    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))
        elif isinstance(value, str) and path:
            converted = _from_cli_string(value, _subschema(schema, path).get("type"))
            parent: Any = config
            for part in path[:-1]:
                parent = parent[part] if _has(parent, part) else None
            # Command-line values win Snakemake's merge: anything else here is not the override's value.
            if converted is not _NOT_CONVERTED and _has(parent, path[-1]) and parent[path[-1]] == value:
                parent[path[-1]] = converted

    walk(overrides, ())


def _present_only(schema: Mapping, present: Iterable[str]) -> dict:
    """``schema`` with its properties cut to the ``present`` keys and nothing required (a slice's schema)."""
    properties = schema.get("properties", {})
    return {**schema, "required": [], "properties": {k: properties[k] for k in present if k in properties}}


def _unknown_keys(data: Mapping, schema: Mapping, prefix: str) -> list[str]:
    allowed = sorted(schema.get("properties", {}))
    return [
        f"{prefix}{key}: unknown key (allowed here: {', '.join(allowed)})"
        for key in data
        if key not in allowed
    ]


def validate_slice(data: Mapping[str, Any] | Any) -> dict:
    """A part of a study config (the settings one step reads), validated with the schema's defaults filled in.

    ``data`` has the shape of a config but only some of its sections, and of a result's section only some
    keys, e.g. ``{"deep_equivalence": {"sampler": {...}, "analysis": {...}}}``: each one present is checked
    against its schema and the result's cross-field rules, and nothing absent is added or required.
    """
    if not isinstance(data, Mapping):
        raise ConfigError([f"<top level> = {json.dumps(data, default=str)}: the settings must be a mapping"])
    schema = _schema()
    messages = _unknown_keys(data, schema, "")
    partial = _present_only(schema, data)
    for result_id in RESULT_IDS:
        section = data.get(result_id)
        if isinstance(section, Mapping):
            result_schema = schema["properties"][result_id]
            messages += _unknown_keys(section, result_schema, f"{result_id}.")
            partial["properties"][result_id] = _present_only(result_schema, section)
    data = copy.deepcopy(dict(data))
    if not messages:
        messages += _schema_messages(data, partial)
        messages += _cross_field_messages(data)
    if messages:
        raise ConfigError(messages)
    return data


def _yaml_error_message(path: str | Path, error: yaml.YAMLError) -> str:
    """``FILE:LINE:COLUMN: not valid YAML: problem (context)`` on one line, as compilers write it."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return f"{path}: not valid YAML: {' '.join(str(error).split())}"
    mark = error.problem_mark or error.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    text = f"{where}: not valid YAML: {error.problem or error.context}"
    if error.context and error.problem:
        context = error.context_mark
        started = ""
        if context and context != mark:
            started = f" at line {context.line + 1}, column {context.column + 1}"
        text += f" ({error.context}{started})"
    return " ".join(text.split())


def read_config_file(path: str | Path) -> Any:
    """The YAML (or JSON) data of a config file; unreadable files and syntax errors raise ConfigError.

    Syntax errors name the file, line and column (Snakemake reports only that a file "is not valid JSON or
    YAML"), so a study can be checked with ``deeplin check-config`` before it is given to Snakemake.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such config file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a config file"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the config file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([_yaml_error_message(path, exc)]) from None


def load_config(path: str | Path) -> dict:
    """Read a YAML file and validate it, duplicate keys included (plain YAML loading keeps the last one)."""
    data = read_config_file(path)
    if not isinstance(data, Mapping):
        raise ConfigError([f"{path}: the config must be a mapping, got {type(data).__name__}"])
    return validate_config(data, sources=[path])


def _key_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    """A mapping key as the YAML loader would build it (so 'a' and "a" are the same key)."""
    if isinstance(node, yaml.ScalarNode):
        try:
            value = loader.construct_object(node, deep=True)
        except yaml.YAMLError:
            return (node.tag, node.value)  # a tag the safe loader cannot build: compare it as written
        return value if isinstance(value, Hashable) else (node.tag, node.value)
    return (node.tag, id(node))  # complex keys are never ours; compare them by identity


def find_duplicate_keys(path: str | Path) -> list[str]:
    """One message per repeated mapping key in a YAML or JSON file, at any depth, naming both places.

    Snakemake (like yaml.safe_load and json.load) keeps the last of two equal keys without a word, so a
    second ``tanh-L1:`` silently replaces the first model; this finds them before any job is scheduled.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        found: list[tuple[int, str]] = []  # (line, message), reported in file order
        seen: set[int] = set()  # aliases repeat a node; visit each once

        def walk(node: yaml.Node | None, where: tuple) -> None:
            if node is None or id(node) in seen:
                return
            seen.add(id(node))
            if isinstance(node, yaml.MappingNode):
                first: dict[Any, tuple[int, int]] = {}
                for key_node, value_node in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue  # `<<: *base` followed by overrides is the point of merge keys
                    name = _key_value(loader, key_node)
                    mark = key_node.start_mark
                    line, column = mark.line + 1, mark.column + 1
                    label = key_node.value if isinstance(key_node, yaml.ScalarNode) else f"<{key_node.tag}>"
                    if name in first:
                        first_line, first_column = first[name]
                        key = _key((*where, str(label)))
                        why = "a YAML loader silently keeps only the last"
                        at = f"{path}:{line}:{column} (first at line {first_line}, column {first_column})"
                        found.append((line, f"{key}: duplicate key at {at}; {why}"))
                    else:
                        first[name] = (line, column)
                    walk(value_node, (*where, str(label)))
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    walk(item, (*where, index))

        walk(root, ())
    except yaml.YAMLError:
        return []  # not YAML that PyYAML reads (Snakemake loaded it as JSON or reports the syntax itself)
    finally:
        loader.dispose()
    return [message for _, message in sorted(found)]


def check_devices(config: Mapping[str, Any], cuda_available: Callable[[], bool | None] | None = None) -> None:
    """Refuse, before any job is scheduled, a device setting that this host cannot honour (each result's rule).

    Run after validate_config (defaults filled in). ``cuda_available`` is injectable for tests; the default
    asks torch (deeplin.devices.cuda_visible), imported only when a result needs to know.
    """
    messages = []
    for result_id in RESULT_IDS:
        rules = result_rules(result_id)
        if isinstance(config.get(result_id), Mapping) and hasattr(rules, "device_problems"):
            messages += rules.device_problems(config[result_id], result_id, cuda_available or cuda_visible)
    if messages:
        raise ConfigError(messages)


def section_hash(section: Any) -> str:
    """Short SHA-256 of a config section's canonical JSON: provenance of what it produced."""
    canonical = json.dumps(section, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def resource_keys(result_id: str, section: str) -> frozenset[str]:
    """The keys of ``<result_id>.<section>`` that change no number (``x-resource: true`` in the schema)."""
    properties = _schema()["properties"][result_id]["properties"][section]["properties"]
    return frozenset(name for name, spec in properties.items() if spec.get("x-resource"))


def settings_json(settings: Mapping[str, Any]) -> str:
    """A step's settings as the canonical JSON a rule passes on the command line (stable bytes, so that
    Snakemake's params trigger reruns exactly when a setting changes)."""
    return json.dumps(settings, sort_keys=True, separators=(",", ":"))
