"""deeplin.config: every schema rule and cross-field rule rejects with a message naming the dotted key."""

from __future__ import annotations

import copy
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from deeplin.config import (
    RESULT_IDS,
    ConfigError,
    check_devices,
    find_duplicate_keys,
    load_config,
    load_schema,
    resource_keys,
    section_hash,
    settings_json,
    validate_config,
    validate_slice,
)

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config.yaml"
BASE = yaml.safe_load(CONFIG_PATH.read_text())
D = "deep_equivalence"  # the result's section: every one of its keys is named under it
MODEL = BASE[D]["models"]["tanh-L1"]  # a valid depth-1 model, reused for name tests
M = "deep_equivalence.models.tanh-L1"


def mutated(path: tuple, value) -> dict:
    """Deep copy of the shipped config with the item at ``path`` set to ``value``."""
    cfg = copy.deepcopy(BASE)
    target = cfg
    for part in path[:-1]:
        target = target.setdefault(part, {})  # sections left to their defaults (analysis, plots)
    target[path[-1]] = copy.deepcopy(value)
    return cfg


def problems(cfg: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg)
    assert exc.value.problems, "ConfigError without problems"
    for p in exc.value.problems:  # every problem is also in the exception text
        assert p in str(exc.value)
    return exc.value.problems


def assert_named(cfg: dict, *needles: str) -> None:
    """One single problem message contains every needle (the dotted key first, then the value)."""
    found = problems(cfg)
    assert any(all(n in p for n in needles) for p in found), f"{needles} not in one of {found}"


# (path, value, needles): needles[0] is the dotted key the message must name.
INVALID = [
    # unknown keys at every level
    (("colour",), "blue", ["colour", "unknown key"]),
    ((D, "models", "tanh-L1", "colour"), "blue", [f"{M}.colour", "unknown key"]),
    ((D, "theory", "alpha_steps"), 3, ["deep_equivalence.theory.alpha_steps", "unknown key"]),
    ((D, "simulation", "width"), [16], ["deep_equivalence.simulation.width", "unknown key"]),
    ((D, "sampler", "leapfrog_stepz"), 16, ["deep_equivalence.sampler.leapfrog_stepz", "unknown key"]),
    # models
    ((D, "models"), {}, ["deep_equivalence.models", "empty"]),
    ((D, "models", "a"), MODEL, ["deep_equivalence.models", "'a'", "too short"]),
    ((D, "models", "a/b"), MODEL, ["deep_equivalence.models", "a/b"]),
    ((D, "models", "erf-L2-tanhout"), 5, ["deep_equivalence.models.erf-L2-tanhout", "5", "object"]),
    ((D, "models", "tanh-L1", "activation"), "softplus", [f"{M}.activation", "softplus"]),
    (
        (D, "models", "tanh-L1", "activation"),
        "relu",
        [f"{M}.activation", "relu", "not odd", "odd activations"],
    ),
    ((D, "models", "tanh-L1", "depth"), 0, [f"{M}.depth", "0"]),
    ((D, "models", "tanh-L1", "depth"), 1.5, [f"{M}.depth", "1.5"]),
    ((D, "models", "tanh-L1", "depth"), "2", [f"{M}.depth", "2", "integer"]),
    ((D, "models", "tanh-L1", "readout"), "relu", [f"{M}.readout", "relu"]),
    ((D, "models", "tanh-L1", "noise"), -0.1, [f"{M}.noise", "-0.1"]),
    ((D, "models", "tanh-L1", "noise"), "high", [f"{M}.noise", "high"]),
    ((D, "models", "tanh-L1", "width_ratios"), [1.0, 1.0], [f"{M}.width_ratios", "depth"]),
    ((D, "models", "tanh-L2", "width_ratios"), [1.0], [f"{D}.models.tanh-L2.width_ratios", "depth"]),
    ((D, "models", "tanh-L1", "width_ratios"), [], [f"{M}.width_ratios"]),
    ((D, "models", "tanh-L1", "width_ratios"), [0], [f"{M}.width_ratios", "0"]),
    # theory
    ((D, "theory", "alpha_min"), 0, ["deep_equivalence.theory.alpha_min", "0"]),
    ((D, "theory", "alpha_max"), 0.01, [f"{D}.theory.alpha_max", "0.01", f"{D}.theory.alpha_min"]),
    ((D, "theory"), {"alpha_max": 0.01}, [f"{D}.theory.alpha_max", "0.01"]),  # against the default alpha_min
    ((D, "theory", "alpha_num"), 0, ["deep_equivalence.theory.alpha_num", "0"]),
    ((D, "theory", "spacing"), "cubic", ["deep_equivalence.theory.spacing", "cubic"]),
    ((D, "theory", "scan_points"), 2, ["deep_equivalence.theory.scan_points", "2"]),
    # simulation
    ((D, "simulation", "models"), ["tanh-L1", "nope"], ["deep_equivalence.simulation.models[1]", "nope"]),
    ((D, "simulation", "models"), ["tanh-L1", "tanh-L1"], [f"{D}.simulation.models", "tanh-L1", "unique"]),
    ((D, "simulation", "widths"), [1], ["deep_equivalence.simulation.widths", "1"]),
    ((D, "simulation", "widths"), [16.5], ["deep_equivalence.simulation.widths", "16.5"]),
    ((D, "simulation", "widths"), [], ["deep_equivalence.simulation.widths"]),
    ((D, "simulation", "alphas"), [0], ["deep_equivalence.simulation.alphas", "0"]),
    ((D, "simulation", "alphas"), [], ["deep_equivalence.simulation.alphas"]),
    ((D, "simulation", "seeds"), 0, ["deep_equivalence.simulation.seeds", "0"]),
    ((D, "simulation", "test_size"), 0, ["deep_equivalence.simulation.test_size", "0"]),
    # sampler
    ((D, "sampler", "chains"), 1, ["deep_equivalence.sampler.chains", "1"]),
    ((D, "sampler", "chains"), 7, ["deep_equivalence.sampler.chains", "7", "even"]),
    ((D, "sampler", "warmup"), 0, ["deep_equivalence.sampler.warmup", "0"]),
    ((D, "sampler", "target_accept"), 1.0, ["deep_equivalence.sampler.target_accept", "1.0"]),
    ((D, "sampler", "dtype"), "float16", ["deep_equivalence.sampler.dtype", "float16"]),
    ((D, "sampler", "device"), "tpu", ["deep_equivalence.sampler.device", "tpu"]),
    ((D, "sampler", "points_per_job"), 0, ["deep_equivalence.sampler.points_per_job", "0"]),
    ((D, "sampler", "points_per_job"), 2.5, ["deep_equivalence.sampler.points_per_job", "2.5"]),
    # analysis (flagging rule and intervals) and plots
    ((D, "analysis", "max_rhat"), 0.9, ["deep_equivalence.analysis.max_rhat", "0.9"]),
    ((D, "analysis", "min_rhat_fraction"), 1.5, ["deep_equivalence.analysis.min_rhat_fraction", "1.5"]),
    ((D, "analysis", "max_divergences"), -1, ["deep_equivalence.analysis.max_divergences", "-1"]),
    ((D, "analysis", "min_accept_rate"), 2, ["deep_equivalence.analysis.min_accept_rate", "2"]),
    ((D, "analysis", "exclude_flagged"), "yes", [f"{D}.analysis.exclude_flagged", "yes", "boolean"]),
    ((D, "analysis", "confidence"), 1.0, ["deep_equivalence.analysis.confidence", "1.0"]),
    ((D, "analysis", "rhat"), 1.01, ["deep_equivalence.analysis.rhat", "unknown key"]),
    (("plots", "dpi"), 10, ["plots.dpi", "10"]),
    (("plots", "context"), "huge", ["plots.context", "huge"]),
    (("plots", "palette"), "rainbow", ["plots.palette", "rainbow"]),
    (("plots", "format"), "svg", ["plots.format", "unknown key"]),
]


@pytest.mark.parametrize(
    "path, value, needles", INVALID, ids=[f"{'.'.join(p)}={v!r}"[:60] for p, v, _ in INVALID]
)
def test_invalid_value_is_rejected_naming_key(path, value, needles):
    assert_named(mutated(path, value), *needles)


@pytest.mark.parametrize("name", ["tanh-L1", "tanh-L2-sign", "erf-L2-tanhout"])  # linear, sign, tanh
def test_zero_noise_on_simulated_model_is_rejected(name):
    cfg = mutated((D, "models", name, "noise"), 0)
    cfg[D]["simulation"]["models"] = [name]
    assert_named(cfg, f"deep_equivalence.models.{name}.noise", "noise > 0")
    if cfg[D]["models"][name]["readout"] == "sign":
        assert_named(cfg, f"deep_equivalence.models.{name}.noise", "sign")


# ---- robustness: wrong container types, non-finite numbers, key naming ----

CRASHES = [
    ((D, "models", "tanh-L1"), 5, f"{D}.models.tanh-L1"),  # a simulated model that is not a mapping
    ((D, "models"), [MODEL], f"{D}.models"),
    ((D, "theory"), 5, f"{D}.theory"),
    ((D, "simulation"), 5, f"{D}.simulation"),
    ((D, "sampler"), 5, f"{D}.sampler"),
    ((D,), 5, D),
    (("plots",), 5, "plots"),
    ((D, "simulation", "models"), [["tanh-L1"]], "deep_equivalence.simulation.models"),
]


@pytest.mark.parametrize(
    "path, value, key", CRASHES, ids=[f"{'.'.join(p)}={v!r}"[:40] for p, v, _ in CRASHES]
)
def test_wrong_container_type_is_a_config_error(path, value, key):
    assert_named(mutated(path, value), key)


NANS = [(D, "models", "tanh-L1", "noise"), (D, "sampler", "target_accept"), (D, "theory", "alpha_min")]


@pytest.mark.parametrize("path", NANS, ids=[".".join(p) for p in NANS])
def test_nan_is_rejected(path):
    assert_named(mutated(path, math.nan), ".".join(path))


def test_bad_model_name_message_names_the_key():
    found = problems(mutated((D, "models", "a/b"), MODEL))
    assert any("deep_equivalence.models.a/b" in p or "key 'a/b'" in p for p in found), found
    assert not any(p.startswith(f'{D}.models = "a/b"') for p in found), found


def test_list_items_are_named_with_brackets_like_cross_field_rules():
    assert_named(mutated((D, "simulation", "widths"), [16, 1]), "deep_equivalence.simulation.widths[1]")


def test_string_simulation_models_is_one_problem():
    found = problems(mutated((D, "simulation", "models"), "tanh-L1"))
    assert len(found) == 1 and "deep_equivalence.simulation.models" in found[0], found


# ---- valid configurations ----


def test_shipped_config_is_valid():
    cfg = validate_config(copy.deepcopy(BASE))
    assert list(cfg[D]["models"]) == list(BASE[D]["models"])
    assert cfg[D]["simulation"]["models"] == BASE[D]["simulation"]["models"]


def test_defaults_are_filled_from_schema():
    cfg = copy.deepcopy(BASE)
    del cfg[D]["theory"], cfg[D]["sampler"], cfg[D]["simulation"]
    del cfg[D]["models"]["tanh-L1"]["width_ratios"], cfg[D]["models"]["tanh-L2"]["width_ratios"]
    out = validate_config(cfg)
    theory = {"alpha_min": 0.05, "alpha_max": 8.0, "alpha_num": 80, "spacing": "log", "scan_points": 48}
    assert out[D]["theory"] == theory
    assert out[D]["sampler"]["dtype"] == "float64" and out[D]["sampler"]["chains"] == 8
    assert out[D]["sampler"]["device"] == "auto" and out[D]["sampler"]["target_accept"] == 0.8
    assert out[D]["simulation"]["models"] == [] and out[D]["simulation"]["seeds"] == 2
    assert out[D]["models"]["tanh-L1"]["width_ratios"] == [1.0]
    assert out[D]["models"]["tanh-L2"]["width_ratios"] == [1.0, 1.0]


def test_partial_section_keeps_given_values():
    out = validate_config(mutated((D, "theory"), {"alpha_num": 7}))
    assert out[D]["theory"]["alpha_num"] == 7 and out[D]["theory"]["alpha_max"] == 8.0


@pytest.mark.parametrize("valid", [True, False])
def test_validation_does_not_mutate_input(valid):
    cfg = copy.deepcopy(BASE)
    del cfg[D]["theory"], cfg[D]["models"]["tanh-L1"]["width_ratios"]
    if not valid:
        cfg[D]["sampler"]["chains"] = 7
    before = copy.deepcopy(cfg)
    if valid:
        validate_config(cfg)
    else:
        problems(cfg)
    assert cfg == before


def test_all_problems_reported_at_once():
    cfg = mutated((D, "sampler", "leapfrog_stepz"), 16)
    cfg[D]["models"]["tanh-L1"]["noise"] = -0.1
    cfg[D]["sampler"]["chains"] = 7
    found = problems(cfg)
    text = "\n".join(found)
    assert len(found) >= 3
    for key in (f"{D}.sampler.leapfrog_stepz", f"{M}.noise", f"{D}.sampler.chains"):
        assert key in text


@pytest.mark.parametrize("name", ["tanh-L2-sign", "erf-L2-tanhout"])
def test_zero_noise_on_unsimulated_model_is_accepted(name):
    assert validate_config(mutated((D, "models", name, "noise"), 0))[D]["models"][name]["noise"] == 0


# ---- command line ----


def run_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deeplin", "check-config", str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_check_config_accepts_shipped_config():
    result = run_check(CONFIG_PATH)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_cli_check_config_rejects_bad_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutated((D, "sampler", "leapfrog_stepz"), 16)))
    result = run_check(bad)
    assert result.returncode == 2
    assert "deep_equivalence.sampler.leapfrog_stepz" in result.stderr


def test_cli_check_config_refuses_a_bad_points_per_job_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutated((D, "sampler", "points_per_job"), 0)))
    result = run_check(bad)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    named = [line for line in result.stderr.splitlines() if "deep_equivalence.sampler.points_per_job" in line]
    assert len(named) == 1 and "0" in named[0], result.stderr


def test_model_names_differing_only_in_case_are_refused():
    cfg = mutated((D, "models", "TANH-L1"), MODEL)
    assert_named(cfg, "deep_equivalence.models.TANH-L1", "deep_equivalence.models.tanh-L1 only in case")


def test_cli_check_config_applies_the_device_check(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible: device cuda is valid here")
    cuda = tmp_path / "cuda.yaml"
    cuda.write_text(yaml.safe_dump(mutated((D, "sampler", "device"), "cuda")))
    result = run_check(cuda)
    assert result.returncode == 2
    assert f"{D}.sampler.device = 'cuda': no CUDA device is visible here" in result.stderr


@pytest.mark.parametrize(
    "study", sorted((CONFIG_PATH.parent / "workflow" / "studies").glob("*.yaml")), ids=lambda p: p.name
)
def test_shipped_studies_are_valid(study):
    config = load_config(study)
    assert config[D]["models"]


# ---- exhaustive bad input, generated from the schema ----
#
# Every key of the schema, at every level, gets values of each wrong kind (string, number, integral float,
# boolean, null, list, mapping), values just past each bound (minimum/maximum; exclusive bounds exactly at
# the bound), string lengths, enums and patterns, empty and duplicated lists, an unknown key in every
# mapping, each required key removed, and bad model names. A key added to the schema later is covered
# without editing this file; a schema keyword the generator does not know fails the coverage test.

MISSING = object()  # the message has no offending value to show (a missing key)
DELETE = object()  # remove the key instead of writing a value
TOP = "<top level>"
MODEL_NAME = "tanh-L2"  # the base config's (simulated) model that stands for models.<name>
UNKNOWN = "zz_unknown_key"
INERT = {"$schema", "title", "description", "default", "x-resource"}  # keywords that constrain nothing
HANDLED = {
    "type",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "enum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "uniqueItems",
    "items",
    "properties",
    "additionalProperties",
    "required",
    "minProperties",
    "propertyNames",
}
WRONG_TYPES: dict[str, list] = {  # per schema type: values of the other kinds a YAML file can hold
    "integer": ["x", 2.5, 2.0, True, None, [2]],  # 2.0 and True: integers to JSON Schema and to Python
    "number": ["x", True, None, [1.0]],
    "string": [5, True, None, ["x"]],
    "boolean": ["yes", 1, None],
    "array": ["x", 5, None, {"a": 1}],
    "object": [5, "x", None, ["x"]],
}
NUMERIC_BOUNDS = {  # keyword -> (rejected case, its offset in steps; accepted edge case, its offset)
    "minimum": ("below-minimum", -1, "at-minimum", 0),
    "maximum": ("above-maximum", +1, "at-maximum", 0),
    "exclusiveMinimum": ("at-exclusive-minimum", 0, "above-exclusive-minimum", +1),
    "exclusiveMaximum": ("at-exclusive-maximum", 0, "below-exclusive-maximum", -1),
}


@dataclass(frozen=True)
class Case:
    """One generated input: write ``write`` at ``path`` of the base config; a message must name ``key``."""

    owner: str  # the schema key whose keyword this exercises ("" = the top level)
    keyword: str  # that keyword, for the coverage check
    case: str  # short name of what is wrong (wrong-type, below-minimum, unknown-key, ...)
    key: str  # the dotted key a message must start with
    path: tuple  # where in the config to write
    write: Any  # what to write there (DELETE removes the key)
    value: Any = MISSING  # the offending value a message must show
    accepted: bool = False  # a value at the edge of the allowed range (must be accepted)

    @property
    def id(self) -> str:
        shown = "" if self.value is MISSING else "=" + json.dumps(self.value)
        return f"{self.key}:{self.case}{shown}"[:90]


def _base_at(path: tuple) -> Any:
    """The base config's value at ``path``, or MISSING."""
    node: Any = BASE
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _valid_item(schema: dict) -> Any:
    """A value an item schema accepts, for lists the base config leaves out."""
    if schema.get("type") == "string":
        return schema["enum"][0] if "enum" in schema else MODEL_NAME
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
    return int(low) + 2 if schema.get("type") == "integer" else float(low) + 1.0


def _violating_string(pattern: str) -> str:
    """A short non-empty string the pattern rejects."""
    for candidate in ("a b", "a/b", "-x", "é", " "):
        if not re.search(pattern, candidate):
            return candidate
    raise AssertionError(f"no candidate violates pattern {pattern!r}")


def _value_cases(
    owner: str, path: tuple, schema: dict, wrap: Callable[[Any], Any] = lambda v: v
) -> list[Case]:
    """Wrong kinds, out-of-range values and edge values for a value schema; ``wrap(v)`` is what is written."""
    cases: list[Case] = []

    def add(keyword: str, case: str, value: Any, accepted: bool = False) -> None:
        cases.append(Case(owner, keyword, case, owner or TOP, path, wrap(value), value, accepted))

    kind = schema.get("type")
    for wrong in WRONG_TYPES.get(kind, []):
        add("type", "wrong-type", wrong)
    for keyword, (bad, bad_steps, edge, edge_steps) in NUMERIC_BOUNDS.items():
        if kind in ("integer", "number") and keyword in schema:
            bound = schema[keyword]
            step = 1 if kind == "integer" else 1e-3 * max(1.0, abs(bound))  # a float step: no integer
            add(keyword, bad, bound + bad_steps * step)
            add(keyword, edge, bound + edge_steps * step, accepted=True)
    if "enum" in schema:
        add("enum", "not-in-enum", "zz-not-an-option")
    if schema.get("minLength", 0) >= 1:
        add("minLength", "too-short", "a" * (schema["minLength"] - 1))
    if "maxLength" in schema:
        add("maxLength", "too-long", "a" * (schema["maxLength"] + 1))
    if "pattern" in schema:
        add("pattern", "pattern-mismatch", _violating_string(schema["pattern"]))
    if kind == "array":
        base = _base_at(path)
        items = list(base) if isinstance(base, list) and base else [_valid_item(schema.get("items", {}))]
        if schema.get("minItems", 0) >= 1:
            add(
                "minItems",
                "empty-list" if schema["minItems"] == 1 else "too-few-items",
                items[: schema["minItems"] - 1],
            )
        if schema.get("uniqueItems"):
            add("uniqueItems", "duplicate-items", [items[0], *items])
        if "items" in schema:  # the item's own cases, at index 0 of an otherwise valid list
            cases += _value_cases(
                f"{owner}[0]", path, schema["items"], lambda v, rest=items[1:]: wrap([v, *rest])
            )
    return cases


def _object_cases(owner: str, path: tuple, schema: dict) -> list[Case]:
    """Unknown key, missing required keys, emptiness and bad entry names of a mapping, then its children."""
    prefix = f"{owner}." if owner else ""
    cases = [c for c in _value_cases(owner, path, {"type": "object"}) if path]  # the top level: below
    extra = schema.get("additionalProperties", True)
    if extra is False:
        cases.append(
            Case(
                owner,
                "additionalProperties",
                "unknown-key",
                f"{prefix}{UNKNOWN}",
                (*path, UNKNOWN),
                1,
                UNKNOWN,
            )
        )
    for name in schema.get("required", []):
        cases.append(Case(owner, "required", "required-missing", f"{prefix}{name}", (*path, name), DELETE))
    if schema.get("minProperties", 0) >= 1:
        cases.append(Case(owner, "minProperties", "empty-mapping", owner, path, {}, {}))
    entry = _base_at((*path, MODEL_NAME))
    for bad in _value_cases(
        owner, path, {k: v for k, v in schema.get("propertyNames", {}).items() if k != "type"}
    ):
        cases.append(
            Case(
                owner,
                f"propertyNames.{bad.keyword}",
                f"name-{bad.case}",
                f"{prefix}{bad.value}",
                (*path, bad.value),
                entry,
                bad.value,
            )
        )
    if isinstance(extra, dict):  # named entries (models.<name>): a new empty one, then an existing one
        first = extra.get("required", ["?"])[0]
        cases.append(
            Case(
                owner,
                "additionalProperties",
                "new-entry-empty",
                f"{prefix}zz-new.{first}",
                (*path, "zz-new"),
                {},
            )
        )
        cases += _node_cases(f"{prefix}{MODEL_NAME}", (*path, MODEL_NAME), extra)
    for name, sub in schema.get("properties", {}).items():
        cases += _node_cases(f"{prefix}{name}", (*path, name), sub)
    return cases


def _node_cases(owner: str, path: tuple, schema: dict) -> list[Case]:
    """Every case for the key at ``path`` and below."""
    if schema.get("type") == "object":
        return _object_cases(owner, path, schema)
    return _value_cases(owner, path, schema)


def schema_keys(schema: dict, owner: str = "") -> dict[str, dict]:
    """Every key of the schema ("" = top, models.<name> as models.tanh-L1, list items as key[0]) -> schema."""
    found = {owner: schema}
    prefix = f"{owner}." if owner else ""
    for name, sub in schema.get("properties", {}).items():
        found.update(schema_keys(sub, f"{prefix}{name}"))
    if isinstance(schema.get("additionalProperties"), dict):
        found.update(schema_keys(schema["additionalProperties"], f"{prefix}{MODEL_NAME}"))
    if isinstance(schema.get("items"), dict):
        found.update(schema_keys(schema["items"], f"{owner}[0]"))
    return found


SCHEMA = load_schema()
GENERATED = _node_cases("", (), SCHEMA) + [  # the top level's wrong kinds: the config is not a mapping
    Case("", "type", "wrong-type", TOP, (), value, value) for value in WRONG_TYPES["object"]
]
BAD = [c for c in GENERATED if not c.accepted]
EDGES = [c for c in GENERATED if c.accepted]
# Edge values that a cross-field rule rejects on purpose: (key, value) -> what the message says instead.
EDGE_REJECTED = {
    (f"{D}.models.{MODEL_NAME}.noise", 0): "noise > 0",  # the model is simulated: its likelihood needs noise
    (f"{D}.theory.alpha_max", 1e-3): f"{D}.theory.alpha_min",  # below the base config's alpha_min
}


def apply(case: Case) -> Any:
    """The base config with the case's value written (or its key removed); the value itself at the top."""
    if not case.path:
        return copy.deepcopy(case.write)
    if case.write is not DELETE:
        cfg = mutated(case.path, case.write)
        if case.accepted and case.path[-1] == "depth":  # one width ratio per hidden layer
            cfg[D]["models"][case.path[2]]["width_ratios"] = [1.0] * case.write
        return cfg
    cfg = copy.deepcopy(BASE)
    parent = cfg
    for part in case.path[:-1]:
        parent = parent[part]
    del parent[case.path[-1]]
    return cfg


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_generated_bad_input_is_rejected_naming_key_and_value(case: Case) -> None:
    found = problems(apply(case))
    named = [p for p in found if p.startswith((f"{case.key} = ", f"{case.key}: "))]
    assert named, f"no message starts with {case.key!r}: {found}"
    if case.value is not MISSING:
        forms = {json.dumps(case.value), repr(case.value), str(case.value)}  # schema: JSON; cross-field: repr
        assert any(form in p for p in named for form in forms), f"{case.value!r} not shown in {named}"


@pytest.mark.parametrize("case", EDGES, ids=[c.id for c in EDGES])
def test_generated_edge_value_is_accepted(case: Case) -> None:
    reason = EDGE_REJECTED.get((case.key, case.value))
    if reason is None:
        validate_config(apply(case))
    else:
        assert_named(apply(case), case.key, reason)


def test_generator_covers_every_schema_key() -> None:
    """Each key of the schema has a case for each keyword that constrains it; unknown keywords fail here."""
    covered: dict[str, set[str]] = {}
    for case in GENERATED:
        covered.setdefault(case.owner, set()).add(case.keyword)
    gaps = []
    for owner, schema in schema_keys(SCHEMA).items():
        unknown = set(schema) - INERT - HANDLED
        assert not unknown, (
            f"{owner or TOP}: the generator does not handle schema keyword(s) {sorted(unknown)}"
        )
        assert schema.get("type") in WRONG_TYPES, f"{owner or TOP}: type {schema.get('type')!r} not generated"
        wanted = set(schema) - INERT - {"properties", "items", "propertyNames"}  # children: their own keys
        wanted |= {f"propertyNames.{k}" for k in schema.get("propertyNames", {}) if k not in INERT | {"type"}}
        if schema.get("additionalProperties", True) is True:
            wanted.discard("additionalProperties")
        if wanted - covered.get(owner, set()):
            gaps.append(f"{owner or TOP}: {sorted(wanted - covered.get(owner, set()))}")
    assert not gaps, "schema keys without generated cases:\n" + "\n".join(gaps)
    leaves = [k for k, s in schema_keys(SCHEMA).items() if s.get("type") != "object"]
    assert {key.split(".")[0] for key in leaves} == set(SCHEMA["properties"]), leaves  # every section walked
    walked = {key.split(".")[1] for key in leaves if key.startswith(f"{D}.")}
    assert walked == set(SCHEMA["properties"][D]["properties"]), leaves  # and every section of the result
    assert {c.owner for c in GENERATED} >= set(leaves)


# ---- explicit bad-input cases that the generator does not make ----

LIST_DUPLICATES = [
    ("widths", [16, 16]),
    ("alphas", [1, 1.0]),  # equal numbers: one results directory (alpha1.0)
    ("alphas", [0.5, 0.50]),
    ("models", ["tanh-L1", "tanh-L1"]),
]


@pytest.mark.parametrize("name, value", LIST_DUPLICATES, ids=[f"{n}={v}" for n, v in LIST_DUPLICATES])
def test_duplicates_inside_simulation_lists_are_rejected(name: str, value: list) -> None:
    assert_named(mutated((D, "simulation", name), value), f"{D}.simulation.{name} = ", "non-unique")


BOOLEANS = [  # YAML `yes`/`true` where a number is meant: bool is an int in Python, not in the schema
    ((D, "models", "tanh-L1", "depth"), True, f"{M}.depth = true"),
    ((D, "models", "tanh-L1", "noise"), True, f"{M}.noise = true"),
    ((D, "models", "tanh-L1", "width_ratios"), [True], f"{M}.width_ratios[0] = true"),
    ((D, "simulation", "widths"), [True, 16], "deep_equivalence.simulation.widths[0] = true"),
    ((D, "simulation", "alphas"), [True], "deep_equivalence.simulation.alphas[0] = true"),
    ((D, "sampler", "chains"), True, "deep_equivalence.sampler.chains = true"),
    (
        (D, "analysis", "exclude_flagged"),
        1,
        f"{D}.analysis.exclude_flagged = 1",
    ),  # and a number for a boolean
]


@pytest.mark.parametrize("path, value, key", BOOLEANS, ids=[k for *_, k in BOOLEANS])
def test_booleans_are_not_numbers(path: tuple, value, key: str) -> None:
    assert_named(mutated(path, value), key, "is not of type")


INTEGRAL_FLOATS = [  # 2.0 is an integer to JSON Schema; accepted before, it broke paths and ranges later
    ((D, "models", "tanh-L2", "depth"), 2.0, "deep_equivalence.models.tanh-L2.depth = 2.0"),
    ((D, "simulation", "widths"), [8.0], "deep_equivalence.simulation.widths[0] = 8.0"),
    ((D, "simulation", "seeds"), 3.0, "deep_equivalence.simulation.seeds = 3.0"),
    ((D, "sampler", "chains"), 7.0, f"{D}.sampler.chains = 7.0"),  # odd, and the evenness rule skipped floats
]


@pytest.mark.parametrize("path, value, key", INTEGRAL_FLOATS, ids=[k for *_, k in INTEGRAL_FLOATS])
def test_integral_floats_are_not_integers(path: tuple, value, key: str) -> None:
    assert_named(mutated(path, value), key, "not of type 'integer'")


@pytest.mark.parametrize("config", [None, 5, "models", [], [{"models": {}}]], ids=repr)
def test_config_that_is_not_a_mapping_is_a_config_error(config) -> None:
    assert_named(config, "<top level> = ", "must be a mapping")


def test_model_entry_that_is_a_list_is_rejected() -> None:
    assert_named(mutated((D, "models", "tanh-L1"), [MODEL]), f"{M} = [", "not of type 'object'")


def test_activation_that_is_a_list_is_a_config_error_not_a_crash() -> None:
    assert_named(mutated((D, "models", "tanh-L1", "activation"), ["tanh"]), f"{M}.activation = [")


def test_missing_required_key_is_named_as_a_dotted_key() -> None:
    cfg = copy.deepcopy(BASE)
    del cfg[D]["models"]["tanh-L2"]["depth"], cfg[D]["models"]["tanh-L2"]["noise"]
    found = problems(cfg)
    assert f"{D}.models.tanh-L2.depth: required key missing" in found
    assert f"{D}.models.tanh-L2.noise: required key missing" in found
    del cfg[D]
    assert problems(cfg) == [f"{D}: required key missing"]


def test_simulation_of_unknown_model_is_rejected() -> None:
    assert_named(
        mutated((D, "simulation", "models"), ["tanh-L3"]),
        f"{D}.simulation.models[0] = 'tanh-L3'",
        "no such model",
    )


def test_width_ratios_of_wrong_length_is_rejected() -> None:
    assert_named(
        mutated((D, "models", "tanh-L2", "width_ratios"), [1.0, 1.0, 1.0]),
        f"{D}.models.tanh-L2.width_ratios = [1.0, 1.0, 1.0]",
        f"{D}.models.tanh-L2.depth = 2",
        "got 3",
    )


def test_sign_readout_with_zero_noise_in_a_simulation_is_rejected() -> None:
    cfg = mutated((D, "models", "tanh-L2-sign", "noise"), 0.0)
    cfg[D]["simulation"]["models"] = ["tanh-L2-sign"]
    assert_named(cfg, f"{D}.models.tanh-L2-sign.noise = 0.0", "simulated", "sign")


def test_empty_simulation_models_means_theory_only() -> None:
    """An empty (or absent) deep_equivalence.simulation.models is a theory-only study, like
    workflow/studies/theory-survey.yaml."""
    cfg = validate_config(mutated((D, "simulation", "models"), []))
    assert cfg[D]["simulation"]["models"] == []
    cfg = copy.deepcopy(BASE)
    del cfg[D]["simulation"]
    assert validate_config(cfg)[D]["simulation"]["models"] == []


@pytest.mark.parametrize("name", ["widths", "alphas"])
def test_empty_simulation_grid_lists_are_rejected_even_for_theory_only(name: str) -> None:
    cfg = mutated((D, "simulation", name), [])
    cfg[D]["simulation"]["models"] = []
    assert_named(cfg, f"{D}.simulation.{name} = []", "non-empty")


def test_load_schema_returns_a_private_copy() -> None:
    """The schema is read once; a caller that changes its copy must not change validation."""
    schema = load_schema()
    section = schema["properties"][D]["properties"]
    section["sampler"]["properties"]["chains"]["minimum"] = 1000
    section["models"]["additionalProperties"]["properties"]["activation"]["enum"].append("zz")
    assert load_schema() != schema
    validate_config(copy.deepcopy(BASE))  # chains = 8 still valid


# ---- duplicate keys (YAML keeps the last of two equal keys without a word) ----

DUPLICATED = """\
deep_equivalence:
  models:
    tanh-L1: {activation: tanh, depth: 1, readout: linear, noise: 0.1}
    tanh-L2:
      activation: tanh
      depth: 2
      readout: linear
      noise: 0.1
    tanh-L1: {activation: erf, depth: 1, readout: linear, noise: 0.2}
  simulation:
    models: [tanh-L1]
    widths: [8]
  sampler: {chains: 4, chains: 6}
  theory:
    alpha_num: 4
    spacing: log
    alpha_num: 5
"""


def test_find_duplicate_keys_names_every_level_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(DUPLICATED)
    found = find_duplicate_keys(path)
    assert [m.split(":")[0] for m in found] == [
        f"{D}.models.tanh-L1",
        f"{D}.sampler.chains",
        f"{D}.theory.alpha_num",
    ]
    assert found[0].startswith(f"{D}.models.tanh-L1: duplicate key at {path}:9:5 (first at line 3, column 5)")
    assert f"{path}:13:24 (first at line 13, column 13)" in found[1]
    assert f"{path}:17:5 (first at line 15, column 5)" in found[2]


def test_load_config_rejects_duplicate_keys_with_the_other_problems(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(DUPLICATED.replace("widths: [8]", "widths: [1]"))
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    text = str(exc.value)
    assert f"{D}.models.tanh-L1: duplicate key at {path}:9:5 (first at line 3, column 5)" in text
    assert f"{D}.simulation.widths[0] = 1" in text  # everything reported at once


def test_validate_config_rereads_its_sources_for_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(DUPLICATED)
    loaded = yaml.safe_load(DUPLICATED)
    assert loaded[D]["models"]["tanh-L1"]["activation"] == "erf"  # the first tanh-L1 is gone without a word
    validate_config(loaded)  # valid on its own: only the file shows the problem
    with pytest.raises(ConfigError) as exc:
        validate_config(loaded, sources=[path])
    assert f"{D}.models.tanh-L1: duplicate key" in str(exc.value)


NOT_DUPLICATES = {
    "different levels": "a: {x: 1}\nb: {x: 1}\n",
    "merge key overrides": "base: &b {x: 1, y: 2}\nc:\n  <<: *b\n  x: 3\n",
    "list of mappings": "l:\n  - {x: 1}\n  - {x: 2}\n",
    "json": '{"models": {"a": 1, "b": 2}}',
    "empty file": "",
    "not yaml": "a: [1,\n",
}


@pytest.mark.parametrize("text", NOT_DUPLICATES.values(), ids=NOT_DUPLICATES.keys())
def test_find_duplicate_keys_accepts_repeats_that_are_not_duplicates(tmp_path: Path, text: str) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(text)
    assert find_duplicate_keys(path) == []


def test_find_duplicate_keys_in_json_and_equal_scalars(tmp_path: Path) -> None:
    path = tmp_path / "study.json"
    path.write_text('{"sampler": {"chains": 4, "chains": 6}}')
    found = find_duplicate_keys(path)[0]
    assert found.startswith(f"sampler.chains: duplicate key at {path}:1:27 (first at line 1, column 14)")
    path.write_text("models:\n  tanh-L1: 1\n  'tanh-L1': 2\n")  # quoted or not, the same key
    found = find_duplicate_keys(path)[0]
    assert found.startswith(f"models.tanh-L1: duplicate key at {path}:3:3 (first at line 2")


@pytest.mark.parametrize(
    "path",
    [CONFIG_PATH, *sorted((CONFIG_PATH.parent / "workflow" / "studies").glob("*.yaml"))],
    ids=lambda p: p.name,
)
def test_shipped_configs_have_no_duplicate_keys(path: Path) -> None:
    assert find_duplicate_keys(path) == []


# ---- sampler.device = 'cuda' where no CUDA device is visible ----


def device_config(device: str, gpus: int = 0, simulated: bool = True) -> dict:
    """The validated base config with the sampler's device and GPU request set."""
    cfg = mutated((D, "sampler", "device"), device)
    cfg[D]["sampler"]["gpus"] = gpus
    if not simulated:
        cfg[D]["simulation"]["models"] = []
    return validate_config(cfg)


def never_asked() -> bool:
    raise AssertionError("the CUDA probe ran although nothing needs it")


def test_cuda_without_a_device_here_is_rejected_with_the_ways_out() -> None:
    with pytest.raises(ConfigError) as exc:
        check_devices(device_config("cuda"), cuda_available=lambda: False)
    (message,) = exc.value.problems
    assert message.startswith(f"{D}.sampler.device = 'cuda': no CUDA device is visible here")
    assert (
        "device: auto" in message
        and "falls back to the CPU" in message
        and f"{D}.sampler.gpus >= 1" in message
    )


@pytest.mark.parametrize(
    "device, gpus, simulated, probe",
    [
        ("cuda", 0, True, lambda: True),  # a GPU is here
        ("cuda", 0, True, lambda: None),  # cannot tell here (no torch, or a CPU-only torch beside a driver)
        ("cuda", 1, True, never_asked),  # GPU jobs from a scheduler: each job checks its own device
        ("cuda", 0, False, never_asked),  # theory only: no job uses the device
        ("auto", 0, True, never_asked),  # falls back to the CPU in the job
        ("cpu", 0, True, never_asked),
    ],
    ids=["cuda-visible", "cannot-tell", "gpu-jobs", "theory-only", "auto", "cpu"],
)
def test_device_check_passes(device: str, gpus: int, simulated: bool, probe) -> None:
    check_devices(device_config(device, gpus, simulated), cuda_available=probe)


def test_device_check_imports_torch_only_for_cuda() -> None:
    """torch takes seconds to import: a config without device cuda must not pay for it before any job."""
    code = (
        "import sys, yaml\n"
        "from deeplin.config import check_devices, validate_config\n"
        f"check_devices(validate_config(yaml.safe_load(open({str(CONFIG_PATH)!r}))))\n"
        "print('torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_load_config_reports_invalid_yaml_with_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("models:\n  a: {activation: tanh\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    (problem,) = exc.value.problems
    assert problem == (
        f"{path}:3:1: not valid YAML: expected ',' or '}}', but got '<stream end>' "
        "(while parsing a flow mapping at line 2, column 6)"
    )


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_load_config_reports_unreadable_files_as_config_errors(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "nonexistent.yaml" if kind == "missing" else tmp_path
    why = "no such config file" if kind == "missing" else "is a directory, not a config file"
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert exc.value.problems == [f"{path}: {why}"]


# ---- command-line overrides (Snakemake's --config): strings that read as the schema's type ----
#
# Snakemake parses `--config 'deep_equivalence={"sampler": {"chains": 4}}'` with YAML's base loader, so every
# nested scalar arrives as a string: {"deep_equivalence": {"sampler": {"chains": "4"}}}. Only those paths are
# converted.


def merged(base: dict, overrides: dict) -> dict:
    """``base`` with ``overrides`` merged in recursively, as Snakemake merges --config into the config files."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        both = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if both else copy.deepcopy(value)
    return out


def overridden(overrides: dict) -> dict:
    """The shipped config with the command-line ``overrides`` merged in."""
    return merged(BASE, overrides)


def test_cli_override_strings_read_as_their_schema_type() -> None:
    overrides = {
        D: {
            "sampler": {
                "chains": "4",
                "target_accept": "0.9",
                "dtype": "float32",
                "checkpoint_seconds": "60",
            },
            "simulation": {"widths": ["8", "16"], "alphas": ["0.5", "1e1"]},
            "analysis": {"exclude_flagged": "false"},
            "models": {"tanh-L1": {"depth": "2", "noise": ".25", "width_ratios": ["1", "0.5"]}},
        },
        "plots": {"dpi": "300"},
    }
    cfg = validate_config(overridden(overrides), cli_overrides=overrides)
    assert cfg[D]["sampler"]["chains"] == 4 and type(cfg[D]["sampler"]["chains"]) is int
    assert cfg[D]["sampler"]["target_accept"] == 0.9 and cfg[D]["sampler"]["dtype"] == "float32"
    assert cfg[D]["sampler"]["checkpoint_seconds"] == 60
    assert cfg[D]["simulation"]["widths"] == [8, 16] and cfg[D]["simulation"]["alphas"] == [0.5, 10.0]
    assert cfg[D]["analysis"]["exclude_flagged"] is False
    model = cfg[D]["models"]["tanh-L1"]
    assert model["depth"] == 2 and model["width_ratios"] == [1, 0.5]
    assert cfg["plots"]["dpi"] == 300


def test_the_same_strings_in_a_config_file_stay_errors(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text(yaml.safe_dump(mutated((D, "sampler", "chains"), "4")))
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert exc.value.problems == [f"{D}.sampler.chains = \"4\": '4' is not of type 'integer'"]
    # Only the paths given on the command line are converted: sampler.chains from the file is not.
    cfg = mutated((D, "sampler", "chains"), "4")
    cfg[D]["sampler"]["warmup"] = "50"
    found = problems_with(cfg, {D: {"sampler": {"warmup": "50"}}})
    assert found == [f"{D}.sampler.chains = \"4\": '4' is not of type 'integer'"]


def problems_with(cfg: dict, overrides: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg, cli_overrides=overrides)
    return exc.value.problems


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            {D: {"sampler": {"chains": "four"}}},
            f"{D}.sampler.chains = \"four\": 'four' is not of type 'integer'",
        ),
        (
            {D: {"sampler": {"chains": "4.0"}}},
            f"{D}.sampler.chains = \"4.0\": '4.0' is not of type 'integer'",
        ),
        ({D: {"sampler": {"chains": "3"}}}, f"{D}.sampler.chains = 3: must be even"),
        (
            {D: {"sampler": {"target_accept": "nan"}}},
            f"{D}.sampler.target_accept = \"nan\": 'nan' is not of type",
        ),
        (
            {D: {"analysis": {"exclude_flagged": "yes"}}},
            f"{D}.analysis.exclude_flagged = \"yes\": 'yes' is not of",
        ),
        (
            {D: {"sampler": {"dtype": "4"}}},
            f"{D}.sampler.dtype = \"4\": '4' is not one of",
        ),  # a string stays one
    ],
    ids=["word", "integral float", "converted then checked", "nan", "yes", "string-typed"],
)
def test_cli_override_strings_that_do_not_read_as_the_type_are_refused(overrides: dict, message: str) -> None:
    found = problems_with(overridden(overrides), overrides)
    assert any(p.startswith(message) for p in found), found


# ---- a step's settings: a slice of the config, validated alone (validate_slice) ----


def slice_problems(data) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        validate_slice(data)
    return exc.value.problems


def test_a_slice_keeps_only_its_sections_and_gets_their_defaults() -> None:
    assert validate_slice({}) == {}
    sampler = validate_slice({D: {"sampler": {"chains": 4}}})
    assert list(sampler) == [D] and list(sampler[D]) == ["sampler"]  # nothing absent is added or required
    assert sampler[D]["sampler"]["chains"] == 4 and sampler[D]["sampler"]["warmup"] == 300  # a default
    whole = copy.deepcopy(BASE)
    whole[D]["sampler"] = {"chains": 4}
    assert sampler[D]["sampler"] == validate_config(whole)[D]["sampler"]  # the defaults a whole config gets
    assert validate_slice({"plots": {}}) == {
        "plots": {"dpi": 200, "context": "paper", "palette": "colorblind"}
    }
    model = {"activation": "tanh", "depth": 2, "readout": "linear", "noise": 0.1}
    models = validate_slice({D: {"models": {"tanh-L2": model}}})
    assert models == {D: {"models": {"tanh-L2": model}}}  # width_ratios is not a schema default: not added


def test_a_slice_is_not_changed_in_place() -> None:
    data = {D: {"sampler": {"chains": 4}}, "plots": {}}
    before = copy.deepcopy(data)
    validate_slice(data)
    assert data == before


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"colour": 1},
            "colour: unknown key (allowed here: deep_equivalence, deep_linear, generative_data, plots, relu_recovery, study)",
        ),
        (
            {D: {"samplers": {}}},
            f"{D}.samplers: unknown key (allowed here: analysis, models, mutual_information, quadratic, "
            "sampler, simulation, theory)",
        ),
        (
            {D: {"sampler": {"chainz": 4}}},
            f"{D}.sampler.chainz: unknown key (allowed here: block_samples, chains, ",
        ),
        ({"plots": {"format": "svg"}}, "plots.format: unknown key (allowed here: context, dpi, palette)"),
    ],
    ids=["top level", "section", "inside a section", "plots"],
)
def test_a_slice_refuses_unknown_keys_naming_them(data: dict, message: str) -> None:
    (problem,) = slice_problems(data)
    assert problem.startswith(message)


@pytest.mark.parametrize(
    "data, message",
    [
        ({D: {"sampler": {"chains": 7}}}, f"{D}.sampler.chains = 7: must be even"),
        (
            {D: {"theory": {"alpha_max": 0.01}}},  # against the filled-in default alpha_min
            f"{D}.theory.alpha_min = 0.05: must not exceed {D}.theory.alpha_max = 0.01",
        ),
        (
            {
                D: {
                    "models": {
                        "tanh-L2": {
                            "activation": "tanh",
                            "depth": 2,
                            "readout": "linear",
                            "noise": 0.1,
                            "width_ratios": [1.0],
                        }
                    }
                }
            },
            f"{D}.models.tanh-L2.width_ratios = [1.0]: needs one ratio per hidden layer, i.e. 2",
        ),
        (
            {
                D: {
                    "models": {
                        "tanh-L2": {"activation": "relu", "depth": 2, "readout": "linear", "noise": 0.1}
                    }
                }
            },
            f"{D}.models.tanh-L2.activation = 'relu': ",
        ),
        (
            {D: {"sampler": {"target_accept": math.nan}}},
            f"{D}.sampler.target_accept = nan: must be a finite number",
        ),
        ({D: {"sampler": {"chains": 1.0}}}, f"{D}.sampler.chains = 1.0: 1.0 is not of type 'integer'"),
        ({D: {"sampler": 5}}, f"{D}.sampler = 5: 5 is not of type 'object'"),
        ({D: 5}, f"{D} = 5: 5 is not of type 'object'"),
        ({"plots": {"dpi": 10}}, "plots.dpi = 10: 10 is less than the minimum of 50"),
        ([1], "<top level> = [1]: the settings must be a mapping"),
    ],
    ids=[
        "even chains",
        "alpha range",
        "width ratios",
        "odd activation",
        "nan",
        "integer",
        "section type",
        "result type",
        "plots",
        "not a mapping",
    ],
)
def test_a_slice_gets_the_schema_and_the_cross_field_rules(data, message: str) -> None:
    found = slice_problems(data)
    assert any(p.startswith(message) for p in found), found


def test_a_model_in_a_slice_is_a_whole_model() -> None:
    """Only sections may be left out: a model given is checked with all its required keys."""
    found = slice_problems({D: {"models": {"tanh-L2": {"activation": "tanh"}}}})
    assert found == [
        f"{D}.models.tanh-L2.{key}: required key missing" for key in ("depth", "readout", "noise")
    ]


def test_the_shipped_config_is_a_valid_slice_of_itself() -> None:
    config = validate_config(copy.deepcopy(BASE))
    assert validate_slice(config) == config


# ---- resource keys, canonical settings and section hashes ----


def test_resource_keys_are_the_sampler_settings_that_change_no_number() -> None:
    assert resource_keys(D, "sampler") == {"gpus", "gpu_model", "checkpoint_seconds", "points_per_job"}
    for section in ("theory", "simulation", "analysis"):
        assert resource_keys(D, section) == frozenset()
    sampler = SCHEMA["properties"][D]["properties"]["sampler"]["properties"]
    assert all(
        sampler[key]["x-resource"] is True and "default" in sampler[key]
        for key in resource_keys(D, "sampler")
    )


def test_every_result_has_its_section_schema_and_rules() -> None:
    assert RESULT_IDS == (D, "deep_linear", "generative_data", "relu_recovery")
    assert set(SCHEMA["properties"]) == {"study", "plots", *RESULT_IDS} and SCHEMA["required"] == [D]


def test_settings_json_and_section_hash_ignore_key_order() -> None:
    a, b = {"x": 1, "y": [1.5, "z"]}, {"y": [1.5, "z"], "x": 1}
    assert settings_json(a) == settings_json(b) == '{"x":1,"y":[1.5,"z"]}'
    assert section_hash(a) == section_hash(b) != section_hash({"x": 2, "y": [1.5, "z"]})
    assert len(section_hash(a)) == 16
