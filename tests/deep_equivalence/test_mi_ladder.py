"""The rungs of the mutual-information ladder and a point's I/n from them (deeplin.deep_equivalence.mi_ladder,
mi_grid, mi_point): a rung is the base data with the noise rescaled, and the point's plumbing reproduces the
exact twin when fed the twin's own mmse."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from deeplin.deep_equivalence import config_rules
from deeplin.deep_equivalence.data import load_point, make_data
from deeplin.deep_equivalence.layers import layer_coefficients
from deeplin.deep_equivalence.mi_grid import model_ladder, prior_variance, rung_points, snr_labels
from deeplin.deep_equivalence.mi_ladder import noise_draw, training_outputs, write_rung
from deeplin.deep_equivalence.mi_point import mi_point
from deeplin.deep_equivalence.mutual_information import twin_covariance_eigenvalues, twin_mmse
from deeplin.deep_equivalence.teacher import deep_forward
from deeplin.io import PROVENANCE_KEY, provenance

MODEL = {"activation": "tanh", "depth": 2, "readout": "linear", "noise": 0.1, "width_ratios": [1.0, 1.0]}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    folder = tmp_path_factory.mktemp("point")
    make_data("tanh-L2", MODEL, 6, 2.0, 0, 20, str(folder / "data.npz"))
    return folder


def test_a_rung_is_the_base_data_with_the_noise_rescaled(base, tmp_path):
    data, meta = load_point(base / "data.npz")
    z = noise_draw(data, meta["model"])
    for snr in (0.05, 3.0, 10.0):
        rung_meta = write_rung(str(base / "data.npz"), snr, str(tmp_path / f"{snr}.npz"))
        rung, stored = load_point(tmp_path / f"{snr}.npz")
        # same teacher, inputs and Z; labels U + Z/√s; the rung's test set is its training set
        assert all(np.array_equal(a, b) for a, b in zip(rung.weights, data.weights, strict=True))
        assert np.array_equal(rung.readout_weights, data.readout_weights)
        assert np.array_equal(rung.x_train, data.x_train) and np.array_equal(rung.x_test, data.x_train)
        u = training_outputs(data, meta["model"])
        np.testing.assert_allclose((rung.y_train - u) * math.sqrt(snr), z, rtol=0, atol=1e-12)
        np.testing.assert_allclose(rung.clean_test, u, rtol=0, atol=0)
        assert stored["model"]["noise"] == pytest.approx(1 / snr) and stored["snr"] == snr
        assert stored["test_size"] == meta["n"] and rung_meta["base_noise"] == MODEL["noise"]
        assert stored[PROVENANCE_KEY]["config_hash"] != meta[PROVENANCE_KEY]["config_hash"]
    # at s = 1/Δ the rung's labels are the base labels; Z is standard normal-looking (power: a wrong √Δ
    # scale would make its spread 0.1 or 10)
    rung, _ = load_point(tmp_path / "10.0.npz")
    np.testing.assert_allclose(rung.y_train, data.y_train, rtol=0, atol=1e-12)
    assert 0.4 < z.std() < 2.0


def test_rung_data_refuse_a_sign_readout(base, tmp_path):
    data, meta = load_point(base / "data.npz")
    from deeplin.deep_equivalence.mi_ladder import rung_point

    with pytest.raises(ValueError, match="Gaussian output channel"):
        rung_point(data, {**meta, "model": {**meta["model"], "readout": "sign"}}, 1.0)


def test_prior_variance_is_the_variance_of_the_outputs_under_the_prior():
    # s → 0 end of the integrand: E f(h)² under random teachers at a wide layer, against E f(√σ_L Z)²
    # (Monte Carlo over 400 teachers × 50 inputs at d0 = d1 = 200: relative SE ≈ 2 %, hence 8 %).
    rng = np.random.default_rng(0)
    for readout in ("linear", "tanh"):
        model = {"activation": "tanh", "depth": 1, "readout": readout, "noise": 0.1}
        values = []
        for _ in range(400):
            w = rng.standard_normal((200, 200))
            a = rng.standard_normal(200)
            x = rng.standard_normal((50, 200)) / math.sqrt(200)
            h = deep_forward(x, [w], a, "tanh")
            values.append(np.mean((h if readout == "linear" else np.tanh(h)) ** 2))
        assert np.mean(values) == pytest.approx(prior_variance(model), rel=0.08)
    sigma_l = layer_coefficients("tanh", 1).sigma_L
    assert prior_variance({**model, "readout": "linear"}) == pytest.approx(sigma_l)
    assert prior_variance({**model, "readout": "tanh"}) < 0.9 * sigma_l  # tanh² < h²: a real difference


def _write_rung_posterior(folder, nishimori: float, draw_bias: float, corrected: float) -> None:
    """A rung's posterior.json holding only what mi_point reads: its errors, verdict and costs."""
    record = {
        "error_nishimori": nishimori,
        "draw_bias": draw_bias,
        "error_corrected": corrected,
        "passes_diagnostics": True,
        "rhat_max": 1.0,
        "seconds": 1.0,
        "n_gradients": 10,
        PROVENANCE_KEY: provenance("x"),
    }
    (folder / "posterior.json").write_text(json.dumps(record))


def test_mi_point_from_exact_rung_values_reproduces_the_twin(base, tmp_path):
    """Rung records whose mmse is the twin's exact curve give the twin's I/n to the stated quadrature error;
    rungs are matched by their s (shuffled folders), and the teacher-based and posterior-variance routes are
    kept apart."""
    data, meta = load_point(base / "data.npz")
    ladder = model_ladder(meta["model"], 8)
    exact = twin_mmse(twin_covariance_eigenvalues(data.x_train, meta["eta0"], meta["gamma0"]), ladder.snr)
    folders = []
    for k in np.random.default_rng(1).permutation(8):
        folder = tmp_path / f"rung{k}"
        folder.mkdir()
        write_rung(str(base / "data.npz"), float(ladder.snr[k]), str(folder / "data.npz"))
        _write_rung_posterior(folder, exact[k] - 0.001, 0.001, 2 * exact[k])
        folders.append(str(folder))
    out = mi_point({"rungs": 8}, str(base / "data.npz"), folders, str(tmp_path / "mi.json"))
    assert out["mi_deep_nishimori"] == pytest.approx(out["mi_glm_twin_quadrature"], rel=1e-12)
    assert abs(out["mi_deep_nishimori"] - out["mi_glm_twin"]) <= out["quadrature_error"] + 1e-12
    assert out["mi_deep"] == pytest.approx(2 * out["mi_deep_nishimori"], rel=1e-12)
    assert out["seconds"] == 8.0 and out["rungs_passing"] == 8
    assert 0 < out["mi_theory"] < 2 and out["quadrature_error"] < 1e-3
    with pytest.raises(ValueError, match="no rung at s"):
        mi_point({"rungs": 8}, str(base / "data.npz"), folders[:7], str(tmp_path / "bad.json"))


def test_mi_point_of_a_tanh_readout_takes_the_twin_from_gamp(tmp_path):
    """A tanh-readout point: the twin's curve is GAMP's in-sample mmse on the twin's own rung data (same
    function as deeplin.deep_equivalence.mi_gamp gives directly), its I/n the ladder's integral of it, near the
    replica value at this small size (d0 = 40, n = 80: per-draw sd of I/n ≈ 2e-2, so 0.1 is 5 sd)."""
    from deeplin.deep_equivalence.mi_gamp import twin_curve, twin_training_draw

    model = {**MODEL, "depth": 1, "readout": "tanh", "width_ratios": [1.0]}
    make_data("tanh-L1-tanhout", model, 40, 2.0, 0, 20, str(tmp_path / "data.npz"))
    data, meta = load_point(tmp_path / "data.npz")
    ladder = model_ladder(model, 8)
    folders = []
    for k, s in enumerate(ladder.snr):
        folder = tmp_path / f"rung{k}"
        folder.mkdir()
        write_rung(str(tmp_path / "data.npz"), float(s), str(folder / "data.npz"))
        _write_rung_posterior(folder, 0.1, 0.0, 0.1)
        folders.append(str(folder))
    out = mi_point({"rungs": 8}, str(tmp_path / "data.npz"), folders, str(tmp_path / "mi.json"))
    h, z = twin_training_draw(data, meta)
    direct = [
        r.mmse for r in twin_curve(data.x_train, h, z, "tanh", meta["eta0"], meta["gamma0"], ladder.snr)
    ]
    np.testing.assert_allclose(out["mmse_twin"], direct, rtol=1e-12)
    assert (
        out["mi_glm_twin"]
        == out["mi_glm_twin_quadrature"]
        == pytest.approx(ladder.integrate(np.array(direct)))
    )
    assert out["mi_glm_twin_method"] == "gamp-i-mmse" and out["quadrature_error"] < 1e-3
    assert out["mi_theory"] == pytest.approx(0.4260004, abs=1e-6)
    assert abs(out["mi_glm_twin"] - out["mi_theory"]) < 0.1
    assert out["mmse_twin"][0] == pytest.approx(prior_variance(model), rel=0.2)  # s → 0: the prior variance


def test_rung_paths_hold_their_snr_and_a_new_seed_keeps_the_old_rungs():
    section = {
        "models": {"m1": MODEL},
        "mutual_information": {"models": ["m1"], "widths": [4], "alphas": [1.0], "seeds": 1, "rungs": 3},
    }
    one = rung_points(section)
    more = copy.deepcopy(section)
    more["mutual_information"]["seeds"] = 2
    two = rung_points(more)
    assert len(one) == 3 and len(two) == 6 and all(p in two for p in one)
    assert [float(p["snr"]) for p in one] == list(model_ladder(MODEL, 3).snr)
    assert snr_labels(MODEL, 3) == [p["snr"] for p in one]


def test_config_rules_of_the_mutual_information_section():
    models = {"lin": MODEL, "sgn": {**MODEL, "readout": "sign"}, "tnh": {**MODEL, "readout": "tanh"}}
    section = {"models": models, "mutual_information": {"models": ["lin", "nope", "sgn", "tnh"]}}
    messages = config_rules.problems(section, "d")
    assert len(messages) == 2  # tanh is a Gaussian output channel: its twin is GAMP's I-MMSE ladder
    assert messages[0].startswith("d.mutual_information.models[1] = 'nope': no such model")
    assert messages[1].startswith("d.mutual_information.models[2] = 'sgn': readout 'sign' is not supported")
    assert config_rules.problems({"mutual_information": {"models": ["nope"]}}, "d") == []  # a slice
