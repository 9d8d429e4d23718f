"""Synthetic metrics.json files with known means and a known gap-vs-width slope (aggregation and figures)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from deeplin.config import validate_slice
from deeplin.diagnostics import failed_checks

THEORY = 0.12
WIDTHS = (32, 64, 128)
OFFSETS = np.array([-2e-3, -1e-3, 0.0, 1e-3, 2e-3])  # per-seed spread: zero mean, known SE
GAP_SCALE = 0.4  # deep - theory = 0.4 / sqrt(d0): slope exactly -1/2


def analysis(**values) -> dict:
    """The deep_equivalence.analysis settings: ``values`` with the schema's defaults filled in."""
    return validate_slice({"deep_equivalence": {"analysis": values}})["deep_equivalence"]["analysis"]


def metrics_record(width: int, seed: int, deep: float, **posterior_overrides) -> dict:
    posterior = {
        "error_corrected": deep,
        "error_raw": deep + 1e-3,
        "error_nishimori": deep - 5e-4,
        "teacher_half_error_corrected": deep,
        "prior_half_error_corrected": deep,
        "theory_error": THEORY,
        "rhat_max": 1.004,
        "potential_rhat": 1.001,
        "rhat_fraction_ok": 1.0,
        "ess_bulk_median": 2000.0,
        "divergences": 0,
        "accept_rate": 0.85,
        "accept_rate_min": 0.8,
        "seconds": 1.0,
        "dtype": "float64",
        "step_sizes": [0.1, 0.1],  # lists are not table columns
    }
    posterior.update(posterior_overrides)
    # the verdict a posterior job records, under the schema's default thresholds
    failed = failed_checks(posterior, analysis())
    posterior.update(flagged_by=";".join(failed), passes_diagnostics=not failed)
    return {
        "model_name": "tanh-L1",
        "activation": "tanh",
        "depth": 1,
        "readout": "linear",
        "noise": 0.1,
        "width": width,
        "hidden_widths": [width],
        "alpha": 2.0,
        "n": 2 * width,
        "seed": seed,
        "test_size": 100,
        "eta0": 0.6,
        "gamma0": 0.03,
        "posterior": posterior,
        "glm_twin": {
            "glm_error": THEORY + 0.5 * (deep - THEORY),
            "glm_estimator_on_deep_error": deep + 1e-4,
            "glm_method": "conjugate",
        },
    }


def write_study(directory: Path, flagged_error: float | None = None) -> list[Path]:
    paths = []
    for width in WIDTHS:
        for seed, offset in enumerate(OFFSETS):
            deep = THEORY + GAP_SCALE / math.sqrt(width) + offset
            paths.append(directory / f"d{width}s{seed}.json")
            paths[-1].write_text(json.dumps(metrics_record(width, seed, deep)))
    if flagged_error is not None:  # a sixth seed at width 64 whose chains did not mix
        paths.append(directory / "flagged.json")
        record = metrics_record(64, 5, flagged_error, rhat_max=1.3, rhat_fraction_ok=0.4)
        paths[-1].write_text(json.dumps(record))
    return paths
