"""One record per simulation point: its parameters plus the deep-posterior and GLM-twin results (the
aggregation reads only these)."""

from __future__ import annotations

import json
from pathlib import Path

from ..config import section_hash
from ..io import provenance, write_json
from .data import load_meta


def merge_metrics(data_path: str, posterior_path: str, twin_path: str, out: str) -> dict:
    """The point's parameters plus the deep-posterior and GLM-twin metrics, in one record."""
    meta = load_meta(data_path)
    record = {
        "model_name": meta["model_name"],
        **{k: meta["model"][k] for k in ("activation", "depth", "readout", "noise")},
        "width": meta["width"],
        "hidden_widths": meta["hidden_widths"],
        "alpha": meta["alpha"],
        "n": meta["n"],
        "seed": meta["seed"],
        "test_size": meta["test_size"],
        "eta0": meta["eta0"],
        "gamma0": meta["gamma0"],
        "posterior": json.loads(Path(posterior_path).read_text()),
        "glm_twin": json.loads(Path(twin_path).read_text()),
    }
    sources = {
        "data": meta["provenance"]["config_hash"],
        "posterior": record["posterior"]["provenance"]["config_hash"],
        "glm_twin": record["glm_twin"]["provenance"]["config_hash"],
    }
    record["provenance"] = provenance(
        section_hash(sources), device=record["posterior"]["provenance"]["device"]
    )
    write_json(out, record)
    return record
