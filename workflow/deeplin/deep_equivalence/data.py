"""One simulation point's data (docs/deep_equivalence.md, 'Finite-size simulations'): the deep teacher, its
training and test sets, and the equivalent GLM's labels on the same inputs, in one npz with a metadata record.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ..config import section_hash
from ..io import PROVENANCE_KEY, atomic_write, provenance, provenance_entry
from .layers import layer_coefficients
from .teacher import PointData, make_point

log = logging.getLogger("deeplin.deep_equivalence.data")


def save_point(path: str | Path, data: PointData, meta: dict) -> None:
    """Compressed npz with a JSON metadata record and the provenance entry; inputs in float32 (exactly the
    values used)."""
    arrays = data.to_arrays()
    for key in ("x_train", "x_test"):
        arrays[key] = arrays[key].astype(np.float32)
    record = {key: value for key, value in meta.items() if key != PROVENANCE_KEY}
    with atomic_write(path, "wb") as handle:
        np.savez_compressed(
            handle,
            meta=np.array(json.dumps(record, sort_keys=True)),
            **{PROVENANCE_KEY: provenance_entry(meta[PROVENANCE_KEY])},
            **arrays,
        )


def _meta(archive) -> dict:
    meta = json.loads(str(archive["meta"]))
    meta[PROVENANCE_KEY] = json.loads(str(archive[PROVENANCE_KEY]))
    return meta


def load_meta(path: str | Path) -> dict:
    """The point's metadata record, its provenance included (without loading the arrays)."""
    with np.load(path) as archive:
        return _meta(archive)


def load_point(path: str | Path) -> tuple[PointData, dict]:
    """Inverse of save_point: the arrays and the metadata record, its provenance included."""
    with np.load(path) as archive:
        meta = _meta(archive)
        data = PointData.from_arrays(
            {k: archive[k] for k in archive.files if k not in ("meta", PROVENANCE_KEY)}
        )
    return data, meta


def make_data(
    model_name: str, model: dict, width: int, alpha: float, seed: int, test_size: int, out: str
) -> dict:
    """Teacher + data for one point, written to ``out`` (npz); returns the metadata record."""
    coefficients = layer_coefficients(model["activation"], model["depth"])
    data = make_point(
        model_name, model, width, alpha, seed, test_size, coefficients.eta0, coefficients.gamma0
    )
    meta = {
        "model_name": model_name,
        "model": model,
        "width": int(width),
        "alpha": float(alpha),
        "seed": int(seed),
        "n": int(data.x_train.shape[0]),
        "test_size": int(test_size),
        "hidden_widths": [int(w.shape[0]) for w in data.weights],
        "eta0": coefficients.eta0,
        "gamma0": coefficients.gamma0,
        "provenance": provenance(
            section_hash(
                {"model": model, "width": width, "alpha": alpha, "seed": seed, "test_size": test_size}
            )
        ),
    }
    save_point(out, data, meta)
    log.info(
        "data %s d0=%d alpha=%g seed=%d: n=%d, hidden %s",
        model_name,
        width,
        alpha,
        seed,
        meta["n"],
        meta["hidden_widths"],
    )
    return meta
