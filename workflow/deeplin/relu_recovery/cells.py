"""One cell (d, n/d) of the recovery grid: every trial's instance, patterns, certificate and both programs'
outcomes, written to one JSON file with its provenance record."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..config import section_hash
from ..io import provenance, write_json
from ..seeding import derived_seed
from . import patterns as pat
from .grid import sample_count
from .instances import draw_instance, planted_pattern
from .programs import distance, recovered, solve_program
from .theory import certified, isometry_certificate, wendel_probability

log = logging.getLogger("deeplin.relu_recovery.cells")

RESULT_ID = "relu_recovery"


def trial_seed(seed: int, d: int, n: int, trial: int, purpose: str) -> int:
    """The seed of one random stream of one trial (stable across grids: adding a cell or a trial changes no
    other). The data, the random direction and the patterns are shared by every model and program of the
    trial, so that the programs are compared on the same instance."""
    return derived_seed(
        RESULT_ID, f"seed={int(seed)}", f"d={int(d)}", f"n={int(n)}", f"trial={trial}", purpose
    )


def pattern_budget(n: int, settings: Mapping) -> int:
    """Sampled directions per instance: max(factor · n, minimum)."""
    return max(int(settings["pattern_factor"] * n), int(settings["min_patterns"]))


def programs_at(d: int, settings: Mapping) -> list[str]:
    """The programs solved at dimension d: the exact one only up to exact_max_dim (its cost grows fastest)."""
    return [p for p in settings["programs"] if p != "exact" or d <= settings["exact_max_dim"]]


def run_trial(d: int, n: int, trial: int, settings: Mapping, solve=solve_program) -> list[dict]:
    """Every (model, direction, noise level, program) outcome of one trial, as flat records."""
    seed = settings["seed"]

    def stream(purpose: str) -> np.random.Generator:
        """A fresh generator of the trial's stream ``purpose``: every model and direction starts it anew, so
        that they all see the same X, noise draw and pattern directions."""
        return np.random.default_rng(trial_seed(seed, d, n, trial, purpose))

    records = []
    for direction in settings["directions"]:
        for model in settings["models"]:
            instance = draw_instance(n, d, model, direction, stream("data"), stream("noise"))
            x, w = instance.x, instance.w
            masks = pat.sample_patterns(x, pattern_budget(n, settings), stream("patterns"))
            all_ones = pat.has_all_ones(x)
            if all_ones:
                masks, _ = pat.with_pattern(masks, np.ones(n, dtype=np.int8))
            skip = model == "linear_skip"
            planted = None
            if not skip:
                masks, planted = pat.with_pattern(masks, planted_pattern(x, w))
            certificate = isometry_certificate(x, masks, w, planted)
            for noise in settings["noise_levels"]:
                y = instance.labels(noise)
                for program in programs_at(d, settings):
                    solution = solve(x, y, masks, program, skip, settings["solver"])
                    ok = solution.solved
                    records.append(
                        {
                            "model": model,
                            "direction": direction,
                            "noise": float(noise),
                            "program": program,
                            "d": d,
                            "n": n,
                            "trial": trial,
                            "status": solution.status,
                            "solver": solution.solver,
                            "solved": ok,
                            "recovered": recovered(solution, w, skip, planted, settings["recovery_atol"])
                            if ok
                            else None,
                            "distance": distance(solution, w, skip, planted) if ok else None,
                            "objective": solution.objective if ok else None,
                            "seconds": solution.seconds,
                            "patterns": int(masks.shape[1]),
                            "certificate": certificate if math.isfinite(certificate) else None,
                            "certified": certified(certificate),
                            "all_ones": all_ones,
                        }
                    )
    return records


def run_cell(settings: Mapping, d: int, ratio: float, out: str | Path, solve=solve_program) -> list[dict]:
    """All trials of the cell (d, n/d); writes the records, Wendel's probability and provenance to ``out``."""
    import cvxpy  # noqa: F401  (a few seconds of import, kept out of the first solve's time)

    n = sample_count(d, ratio)
    start = time.perf_counter()
    records = []
    for trial in range(settings["trials"]):
        records.extend(run_trial(d, n, trial, settings, solve))
        log.info(
            "relu_recovery d=%d n=%d: trial %d of %d (%.1f s)",
            d,
            n,
            trial + 1,
            settings["trials"],
            time.perf_counter() - start,
        )
    failures = sum(not r["solved"] for r in records)
    record = provenance(section_hash({"d": int(d), "ratio": float(ratio), **settings}))
    write_json(
        out,
        {
            "d": int(d),
            "ratio": float(ratio),
            "n": n,
            "wendel_all_ones": wendel_probability(n, d),
            "records": records,
            "seconds": time.perf_counter() - start,
            "provenance": record,
        },
    )
    log.info(
        "relu_recovery d=%d n=%d: %d solves (%d solver failures) in %.1f s",
        d,
        n,
        len(records),
        failures,
        time.perf_counter() - start,
    )
    return records
