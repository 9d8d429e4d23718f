"""One point's mutual information per sample from its ladder of posterior runs (docs/deep_equivalence.md,
'Mutual information at finite size').

Per rung s_k the posterior step reports, on the training points, the mean posterior variance Var_μ (ddof = 1)
with its draw bias Var_μ/ESS_μ, and the teacher-based squared error with that bias removed. The in-sample mmse
is then estimated two ways:
- posterior variance (Nishimori identity, the headline): Var/(1 − 1/ESS) ≈ Var + Var/ESS (to first order in
  1/ESS: the sample variance of correlated draws underestimates the variance by the factor 1 − 1/ESS);
- teacher-based: (U* − Ū)² − Var/ESS (E(U* − Ū_M)² = mmse + Var/ESS).
I/n is Σ_k W_k m(s_k) (deeplin.deep_equivalence.mutual_information). Next to it: the finite-size GLM twin on the
same inputs (exact log-det for the linear readout; for tanh the same ladder on GAMP's in-sample mmse,
deeplin.deep_equivalence.mi_gamp), the asymptotic GLM theory at this α (Barbier et al. 2019 adapted,
Camilli et al. 2025), and the quadrature error stated as the difference between the K-rung and the K/2-rung
ladders on the twin's curve (exact, or GAMP's).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..config import section_hash
from ..io import PROVENANCE_KEY, provenance, write_json
from .data import load_meta, load_point
from .mi_gamp import twin_curve as gamp_twin_curve
from .mi_gamp import twin_training_draw
from .mi_grid import model_ladder, prior_variance
from .mutual_information import (
    coarse_ladder,
    twin_covariance_eigenvalues,
    twin_mi_exact,
    twin_mmse,
)
from .theory import theory_curve

log = logging.getLogger("deeplin.deep_equivalence.mi_point")

SNR_LABEL_RTOL = 1e-12  # a rung's s_k, read back from its file, against the ladder's


def _rung_mmse(record: Mapping) -> tuple[float, float]:
    """(posterior-variance, teacher-based) in-sample mmse of one rung's posterior record."""
    return record["error_nishimori"] + record["draw_bias"], record["error_corrected"]


def _twin_curves(
    data, meta: Mapping, snr: np.ndarray, coarse_snr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """The GLM twin's in-sample mmse at the rungs and at the coarse ladder's rungs, and its exact I/n if known.

    Linear readout: the exact curve tr[C(I + sC)⁻¹]/n and log-det on the point's inputs. Other Gaussian readouts:
    GAMP on the twin's own teacher and noise, rescaled per rung (deeplin.deep_equivalence.mi_gamp); then no
    closed form (None).
    """
    model, eta0, gamma0 = meta["model"], meta["eta0"], meta["gamma0"]
    if model["readout"] == "linear":
        eig = twin_covariance_eigenvalues(data.x_train, eta0, gamma0)
        return twin_mmse(eig, snr), twin_mmse(eig, coarse_snr), twin_mi_exact(eig, model["noise"])
    h, z = twin_training_draw(data, meta)
    fine, rough = (
        np.array([r.mmse for r in gamp_twin_curve(data.x_train, h, z, model["readout"], eta0, gamma0, s)])
        for s in (snr, coarse_snr)
    )
    return fine, rough, None


def mi_point(settings: Mapping, data_path: str, rung_dirs: Sequence[str], out: str) -> dict:
    """Combine a point's rung posteriors (``rung_dirs``, each with data.npz and posterior.json) into mi.json."""
    rungs = settings["rungs"]
    data, meta = load_point(data_path)
    model = meta["model"]
    ladder = model_ladder(model, rungs)
    by_snr = {}
    records = []
    for folder in rung_dirs:
        snr = load_meta(Path(folder) / "data.npz")["snr"]
        by_snr[snr] = json.loads((Path(folder) / "posterior.json").read_text(encoding="utf-8"))
    for s in ladder.snr:
        match = [key for key in by_snr if math.isclose(key, s, rel_tol=SNR_LABEL_RTOL)]
        if len(match) != 1:
            raise ValueError(f"no rung at s = {s!r} among {sorted(by_snr)}")
        records.append(by_snr[match[0]])
    posterior, teacher = (np.array(v) for v in zip(*(_rung_mmse(r) for r in records), strict=True))
    coarse = coarse_ladder(ladder)
    twin_curve, coarse_curve, mi_twin = _twin_curves(data, meta, ladder.snr, coarse.snr)
    twin_quadrature = ladder.integrate(twin_curve)
    quadrature_error = abs(twin_quadrature - coarse.integrate(coarse_curve))
    if mi_twin is None:  # GAMP I-MMSE: the twin's I/n is the ladder's integral of its curve
        mi_twin = twin_quadrature
    _, theory = theory_curve(
        model["activation"], model["depth"], model["readout"], model["noise"], [meta["alpha"]]
    )
    mi_theory = theory[0]["mutual_information"]
    record = {
        "model": meta["model_name"],
        "width": meta["width"],
        "alpha": meta["alpha"],
        "seed": meta["seed"],
        "n": meta["n"],
        "activation": model["activation"],
        "depth": model["depth"],
        "readout": model["readout"],
        "noise": model["noise"],
        "rungs": rungs,
        "snr": ladder.snr.tolist(),
        "weights": ladder.weights.tolist(),
        "mmse_posterior": posterior.tolist(),
        "mmse_teacher": teacher.tolist(),
        "mmse_twin": twin_curve.tolist(),
        "prior_variance": prior_variance(model),
        "mi_deep": ladder.integrate(teacher),
        "mi_deep_nishimori": ladder.integrate(posterior),
        "mi_glm_twin": mi_twin,
        "mi_glm_twin_quadrature": twin_quadrature,
        "mi_glm_twin_method": "log-det" if model["readout"] == "linear" else "gamp-i-mmse",
        "mi_theory": math.nan if mi_theory is None else mi_theory,
        "quadrature_error": quadrature_error,
        "rungs_passing": int(sum(bool(r["passes_diagnostics"]) for r in records)),
        "rhat_max": max(r["rhat_max"] for r in records),
        "seconds": float(sum(r["seconds"] for r in records)),
        "n_gradients": int(sum(r["n_gradients"] for r in records)),
    }
    hashes = [r[PROVENANCE_KEY]["config_hash"] for r in records]
    record[PROVENANCE_KEY] = provenance(
        section_hash(
            {"data": meta[PROVENANCE_KEY]["config_hash"], "rungs": hashes, "settings": dict(settings)}
        )
    )
    write_json(out, record)
    log.info(
        "mutual information %s d0=%d alpha=%g seed=%d: I/n deep %.5g (teacher-based %.5g), twin %.5g, "
        "theory %.5g, quadrature error %.2g; %d of %d rungs pass diagnostics; %.1f s of sampling",
        record["model"],
        record["width"],
        record["alpha"],
        record["seed"],
        record["mi_deep_nishimori"],
        record["mi_deep"],
        mi_twin,
        record["mi_theory"],
        quadrature_error,
        record["rungs_passing"],
        rungs,
        record["seconds"],
    )
    return record
