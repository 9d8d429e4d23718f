"""The theory step's files: one model's curve (CSV, full precision) and its layer coefficients (JSON)."""

from __future__ import annotations

import csv
import io
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from ..config import section_hash
from ..io import atomic_write, provenance, write_json
from .theory import CURVE_COLUMNS, alpha_grid, theory_curve

log = logging.getLogger("deeplin.deep_equivalence.theory")


def _cell(value) -> str:
    """CSV cell: shortest round-trip repr for floats (full precision), empty for missing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def curve_csv(rows: list[dict]) -> str:
    """The curve's rows as CSV text with the CURVE_COLUMNS header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in CURVE_COLUMNS])
    return buffer.getvalue()


def write_theory(
    model: Mapping, theory: Mapping, curve_out: str | Path | None, coefficients_out: str | Path | None
) -> None:
    """Solve one model's theory over the ``theory`` section's α grid; write the curve (stdout without a path)."""
    alphas = alpha_grid(
        theory["alpha_min"], theory["alpha_max"], theory["alpha_num"], theory["spacing"]
    ).tolist()
    inputs = {key: model[key] for key in ("activation", "depth", "readout", "noise")}
    inputs.update(alphas=alphas, scan_points=theory["scan_points"])
    start = time.perf_counter()
    coefficients, rows = theory_curve(
        model["activation"], model["depth"], model["readout"], model["noise"], alphas, theory["scan_points"]
    )
    seconds = time.perf_counter() - start
    log.info(
        "theory %s L=%d readout=%s noise=%g: %d alphas in %.3f s (eta0=%.6f gamma0=%.6f)",
        model["activation"],
        model["depth"],
        model["readout"],
        model["noise"],
        len(alphas),
        seconds,
        coefficients.eta0,
        coefficients.gamma0,
    )
    text = curve_csv(rows)
    if curve_out:
        with atomic_write(curve_out) as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    if coefficients_out:
        record = coefficients.to_dict()
        record["readout"] = model["readout"]
        record["noise"] = model["noise"]
        record["identity_residual"] = coefficients.eta0**2 + coefficients.gamma0 - coefficients.sigma_L
        record["provenance"] = provenance(section_hash(inputs))
        record["provenance"]["seconds"] = round(seconds, 6)
        record["max_roots"] = max(r["n_roots"] for r in rows)
        write_json(coefficients_out, record)
