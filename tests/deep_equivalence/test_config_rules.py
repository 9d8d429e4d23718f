"""The section's cross-field rules (deeplin.deep_equivalence.config_rules) called directly: messages name the
key under the prefix they are given, a slice is checked only where it has keys, and `complete` fills in the
defaults that depend on another key. (Through the whole config: tests/common/test_config.py.)"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from deeplin.activations import ACTIVATIONS
from deeplin.deep_equivalence import config_rules

SECTION = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text())[
    "deep_equivalence"
]
MODEL = {"activation": "tanh", "depth": 2, "readout": "linear", "noise": 0.1}


def test_the_shipped_section_and_an_empty_slice_have_no_problem() -> None:
    assert config_rules.problems(SECTION, "deep_equivalence") == []
    assert config_rules.problems({}, "deep_equivalence") == []


def test_messages_name_the_key_under_the_given_prefix() -> None:
    (message,) = config_rules.problems({"sampler": {"chains": 3}}, "some.prefix")
    assert message.startswith("some.prefix.sampler.chains = 3: must be even")
    (message,) = config_rules.problems({"theory": {"alpha_min": 2.0, "alpha_max": 1.0}}, "p")
    assert message == "p.theory.alpha_min = 2.0: must not exceed p.theory.alpha_max = 1.0"


def test_a_slice_is_checked_only_where_it_has_keys() -> None:
    """A model without noise is fine in the theory's slice; simulated, its likelihood has no density."""
    quiet = {"models": {"tanh-L2": {**MODEL, "noise": 0}}}
    assert config_rules.problems(quiet, "d") == []
    simulated = {**quiet, "simulation": {"models": ["tanh-L2"]}}
    (message,) = config_rules.problems(simulated, "d")
    assert message.startswith(
        "d.models.tanh-L2.noise = 0: model 'tanh-L2' is simulated (d.simulation.models)"
    )
    # half-given or wrongly typed parts are the schema's to report, never a crash here
    assert config_rules.problems({"models": 5, "theory": [], "sampler": {"chains": "4"}}, "d") == []


def test_complete_fills_one_width_ratio_per_hidden_layer() -> None:
    section = {"models": {"a2": dict(MODEL), "b3": {**MODEL, "depth": 3, "width_ratios": [1.0, 0.5, 2.0]}}}
    before = copy.deepcopy(section)
    config_rules.complete(section)
    assert section["models"]["a2"]["width_ratios"] == [1.0, 1.0]
    assert section["models"]["b3"] == before["models"]["b3"]  # given ratios are kept


def test_the_schema_allows_exactly_the_registry_activations() -> None:
    schema = {"properties": {"models": {"additionalProperties": {"properties": {"activation": {}}}}}}
    config_rules.adapt_schema(schema)
    enum = schema["properties"]["models"]["additionalProperties"]["properties"]["activation"]["enum"]
    assert enum == sorted(ACTIVATIONS)  # non-odd ones too: the rule above refuses them with the reason
