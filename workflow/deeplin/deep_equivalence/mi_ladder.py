"""The data of one rung of the mutual-information ladder (docs/deep_equivalence.md, 'Mutual information at
finite size').

A rung at signal-to-noise ratio s keeps the base point's teacher, inputs and noise draw Z and rescales the
noise: Y_s = U + Z/√s with U = f(h) the teacher's clean training outputs, so that the base labels are the rung
at s = 1/Δ (Y = U + √Δ Z). The rung's "test set" is its training set: the posterior step then reports the
posterior variance and the teacher-based error *on the training points*, the in-sample mmse that the I-MMSE
identity integrates (Guo, Shamai, Verdú 2005, Theorem 2). Its model's noise is 1/s, the likelihood the student
uses at that rung.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from ..config import section_hash
from ..io import PROVENANCE_KEY, provenance
from .data import load_point, save_point
from .teacher import PointData, clean_output, deep_forward

log = logging.getLogger("deeplin.deep_equivalence.mi_ladder")

# The rung records' keys beyond the base point's metadata.
RUNG_KEYS = ("snr", "base_noise", "base_config_hash")


def training_outputs(data: PointData, model: dict) -> np.ndarray:
    """U = f(h) on the training inputs, recomputed from the stored teacher exactly as the labels were made."""
    h = deep_forward(data.x_train, data.weights, data.readout_weights, model["activation"])
    return clean_output(h, model["readout"])


def noise_draw(data: PointData, model: dict) -> np.ndarray:
    """The base labels' standard normal noise Z = (Y − U)/√Δ."""
    return (data.y_train - training_outputs(data, model)) / math.sqrt(model["noise"])


def rung_point(data: PointData, meta: dict, snr: float) -> tuple[PointData, dict]:
    """The rung at ``snr``: labels U + Z/√snr, likelihood noise 1/snr, test set = training set."""
    model = meta["model"]
    if model["readout"] not in ("linear", "tanh"):
        raise ValueError(
            f"the I-MMSE ladder needs a Gaussian output channel, not readout {model['readout']!r}"
        )
    if not (snr > 0 and math.isfinite(snr)):
        raise ValueError(f"snr must be finite and > 0, got {snr}")
    u = training_outputs(data, model)
    z = (data.y_train - u) / math.sqrt(model["noise"])
    y = u + z / math.sqrt(snr)
    empty = np.empty(0)
    rung = PointData(
        x_train=data.x_train,
        y_train=y,
        x_test=data.x_train,
        y_test=y,
        clean_test=u,
        h_test=deep_forward(data.x_train, data.weights, data.readout_weights, model["activation"]),
        weights=data.weights,
        readout_weights=data.readout_weights,
        glm_v=data.glm_v,
        glm_y_train=data.glm_y_train,
        glm_y_test=empty,  # the rung has no test set of its own
        glm_clean_test=empty,
    )
    base_hash = meta[PROVENANCE_KEY]["config_hash"]
    rung_meta = {key: value for key, value in meta.items() if key != PROVENANCE_KEY}
    rung_meta.update(
        model={**model, "noise": 1.0 / snr},
        test_size=int(data.x_train.shape[0]),
        snr=float(snr),
        base_noise=float(model["noise"]),
        base_config_hash=base_hash,
    )
    rung_meta[PROVENANCE_KEY] = provenance(section_hash({"base": base_hash, "snr": float(snr)}))
    return rung, rung_meta


def write_rung(data_path: str, snr: float, out: str, log_path: str | None = None) -> dict:
    """Read the base point, write its rung at ``snr`` (npz as the base data); returns the rung's metadata.
    The line it logs also goes to ``log_path`` when given (the rule calls this in Snakemake's process: a rung
    is a rescaling, cheaper than starting a job)."""
    data, meta = load_point(data_path)
    rung, rung_meta = rung_point(data, meta, snr)
    save_point(out, rung, rung_meta)
    line = (
        f"rung {meta['model_name']} d0={meta['width']:d} alpha={meta['alpha']:g} seed={meta['seed']:d}: "
        f"s={snr:.6g} (likelihood noise {1.0 / snr:.6g}), n={rung_meta['n']:d}"
    )
    log.info("%s", line)
    if log_path is not None:
        Path(log_path).write_text(line + "\n")
    return rung_meta
