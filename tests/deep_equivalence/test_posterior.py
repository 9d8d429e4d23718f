"""Finite-width simulation points (docs/deep_equivalence.md, 'Finite-size simulations'): teachers and data, the
deep posterior's estimators, and the GLM twin."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from deeplin.config import ConfigError, validate_slice
from deeplin.deep_equivalence import posterior as posterior_module
from deeplin.deep_equivalence.data import load_point, make_data
from deeplin.deep_equivalence.deep_model import DeepPosterior
from deeplin.deep_equivalence.glm_channels import make_channel
from deeplin.deep_equivalence.glm_solver import solve
from deeplin.deep_equivalence.glm_twin import conjugate_posterior, glm_twin
from deeplin.deep_equivalence.layers import layer_coefficients
from deeplin.deep_equivalence.posterior import (
    SamplerFailure,
    deep_posterior,
    hmc_config,
    initial_positions,
    load_posterior,
)
from deeplin.deep_equivalence.teacher import deep_forward, make_point

TANH_L2 = {"activation": "tanh", "depth": 2, "readout": "linear", "noise": 0.1, "width_ratios": [1.0, 0.5]}
SMALL_SAMPLER = {
    "chains": 4,
    "warmup": 60,
    "samples": 60,
    "max_samples": 10,  # at most samples: a fixed length (the stopping criterion has tests of its own)
    "leapfrog_steps": 8,
    "target_accept": 0.8,
    "dtype": "float64",
    "device": "cpu",
}


def settings(sampler: dict | None = None, analysis: dict | None = None) -> dict:
    """The posterior step's settings as its rule passes them: validated, the schema's defaults filled in."""
    section = {"sampler": dict(SMALL_SAMPLER, **(sampler or {})), "analysis": analysis or {}}
    return validate_slice({"deep_equivalence": section})["deep_equivalence"]


def test_teacher_normalisation_and_student_forward_agree() -> None:
    c = layer_coefficients("tanh", 2)
    point = make_point("m", TANH_L2, 40, 1.5, 0, 300, c.eta0, c.gamma0)
    assert point.x_train.shape == (60, 40) and [w.shape for w in point.weights] == [(40, 40), (20, 40)]
    # the stored test outputs are the teacher network (X⁽ˡ⁾ = φ(W X⁽ˡ⁻¹⁾)/√d_l) of the stored weights
    h = deep_forward(point.x_test, point.weights, point.readout_weights, "tanh")
    assert np.array_equal(h, point.h_test)
    student = DeepPosterior(point.x_train, point.y_train, [40, 40, 20], "tanh", "linear", 0.1)
    theta = student.flatten(point.weights, point.readout_weights).unsqueeze(0)
    h_student = student.pre_readout(theta, torch.as_tensor(point.x_test)).numpy()[0]
    np.testing.assert_allclose(h_student, point.h_test, rtol=1e-12, atol=1e-12)
    # labels = f(h) + √Δ Z: residuals have the noise variance
    h_train = deep_forward(point.x_train, point.weights, point.readout_weights, "tanh")
    assert np.var(point.y_train - h_train) == pytest.approx(0.1, rel=0.5)


def test_random_streams_are_per_point_and_per_purpose() -> None:
    c = layer_coefficients("tanh", 2)
    a = make_point("m", TANH_L2, 16, 1.0, 3, 100, c.eta0, c.gamma0)
    b = make_point("m", TANH_L2, 16, 1.0, 3, 500, c.eta0, c.gamma0)  # other test size
    assert np.array_equal(a.x_train, b.x_train) and np.array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.x_train, make_point("m", TANH_L2, 16, 1.0, 4, 100, c.eta0, c.gamma0).x_train)
    assert not np.array_equal(
        a.weights[0], make_point("n", TANH_L2, 16, 1.0, 3, 100, c.eta0, c.gamma0).weights[0]
    )


def test_data_file_round_trip_is_exact(tmp_path) -> None:
    path = tmp_path / "data.npz"
    meta = make_data("m", TANH_L2, 24, 2.0, 1, 50, str(path))
    data, loaded = load_point(path)
    assert (
        loaded == json.loads(json.dumps(meta)) and loaded["n"] == 48 and loaded["hidden_widths"] == [24, 12]
    )
    # inputs are stored in float32, and they are exactly the inputs the labels were computed from
    h = deep_forward(data.x_test, data.weights, data.readout_weights, "tanh")
    assert np.array_equal(h, data.h_test)


def test_glm_twin_conjugate_error_matches_asymptotic_theory() -> None:
    # d0 = 400: the exact posterior's expected error η0² tr(A⁻¹)/d0 + γ0 concentrates on the replica
    # formula (finite-size corrections O(1/d0)); the test-set error scatters around it with its SE.
    c = layer_coefficients("tanh", 2)
    theory = solve(make_channel("linear", c.eta0, c.gamma0, 0.1), 2.0).error
    traces, tests, ses = [], [], []
    for seed in range(3):
        p = make_point("glm-check", TANH_L2, 400, 2.0, seed, 2000, c.eta0, c.gamma0)
        post = conjugate_posterior(p.x_train, p.glm_y_train, c.eta0, c.gamma0, 0.1)
        squared = (p.glm_clean_test - post.predict(p.x_test)) ** 2
        traces.append(post.expected_error())
        tests.append(squared.mean())
        ses.append(squared.std(ddof=1) / math.sqrt(len(squared)))
    assert np.mean(traces) == pytest.approx(theory, rel=0.02)
    se_mean = math.sqrt(np.sum(np.square(ses))) / len(ses)
    assert abs(np.mean(tests) - theory) < 3 * se_mean + 0.02 * theory, (np.mean(tests), theory, se_mean)


def test_glm_twin_writes_metrics_for_every_readout(tmp_path) -> None:
    for readout in ("linear", "tanh", "sign"):
        model = dict(TANH_L2, readout=readout)
        make_data("m", model, 64, 2.0, 0, 400, str(tmp_path / f"{readout}.npz"))
        result = glm_twin(str(tmp_path / f"{readout}.npz"), str(tmp_path / f"{readout}.json"))
        assert 0 < result["glm_error"] < (1 if readout == "sign" else 0.5)
        assert 0 < result["glm_estimator_on_deep_error"]
        assert result["glm_method"] == ("conjugate" if readout == "linear" else "gamp")


def _posterior(
    tmp_path,
    name: str,
    sampler: dict | None = None,
    model=TANH_L2,
    width=8,
    alpha=1.0,
    seed=0,
    analysis: dict | None = None,
) -> dict:
    data = tmp_path / f"{name}.npz"
    if not data.exists():
        make_data("tiny", model, width, alpha, seed, 200, str(data))
    return deep_posterior(str(data), settings(sampler, analysis), str(tmp_path / f"{name}.json"))


def test_posterior_point_is_bitwise_reproducible(tmp_path) -> None:
    first = _posterior(tmp_path, "a")
    second = _posterior(tmp_path, "a")
    for key in ("error_raw", "error_nishimori", "step_sizes", "accept_rate", "rhat_max"):
        assert first[key] == second[key]


def test_half_the_chains_start_at_the_teacher_and_the_rest_from_the_prior(tmp_path) -> None:
    make_data("tiny", TANH_L2, 8, 1.0, 0, 50, str(tmp_path / "d.npz"))
    point = load_posterior(str(tmp_path / "d.npz"), settings()["sampler"])
    init = initial_positions(point, 5)
    teacher = point.posterior.flatten(point.data.weights, point.data.readout_weights)
    assert init.shape == (5, point.posterior.dim) and init.dtype == torch.float64
    assert torch.equal(init[0], teacher) and torch.equal(init[1], teacher)
    assert (init[2:] != teacher).all()
    assert torch.equal(initial_positions(point, 5), init)  # the point's own "posterior-init" stream
    prior = init[2:].flatten()  # N(0, 1) prior draws: the sample variance within 4 of its standard errors
    assert abs(float(prior.var()) - 1.0) < 4 * math.sqrt(2 / prior.numel())


def test_retries_aim_at_higher_acceptance_with_the_schema_settings_only() -> None:
    sampler = settings({"thin": 2})["sampler"]
    first, second = hmc_config(sampler, 0), hmc_config(sampler, 1)
    assert (first.warmup, first.samples, first.leapfrog_steps, first.thin) == (60, 60, 8, 2)
    assert first.target_accept == 0.8 and second.target_accept == pytest.approx(0.9)
    # what the schema does not know keeps the sampler's own defaults (and the schema refuses it)
    assert first.init_step_size == 0.1 and first.jitter == 0.2
    with pytest.raises(ConfigError, match="init_step_size"):
        settings({"init_step_size": 50.0})


def test_absurd_step_size_divergences_are_reported(tmp_path, monkeypatch) -> None:
    """No warm-up and step size 50 (a setting the schema does not offer): every transition diverges."""
    real = posterior_module.hmc_config
    monkeypatch.setattr(
        posterior_module,
        "hmc_config",
        lambda sampler, attempt: dataclasses.replace(real(sampler, attempt), warmup=0, init_step_size=50.0),
    )
    with pytest.raises(SamplerFailure, match="240 of 240 sampling transitions"):  # the default: fail the job
        _posterior(tmp_path, "div")
    metrics = _posterior(tmp_path, "div", {"max_divergent_fraction": 1.0})  # tolerated: reported
    assert metrics["divergences"] == 240 and metrics["accept_rate"] == 0.0
    assert metrics["passes_diagnostics"] is False
    assert "divergences>0" in metrics["flagged_by"].split(";") and "accept_rate<0.3" in metrics["flagged_by"]


def test_sign_readout_posterior_reports_classification_errors(tmp_path) -> None:
    model = dict(TANH_L2, readout="sign")
    metrics = _posterior(tmp_path, "sign", model=model)
    for key in ("classification_error", "classification_error_noisy", "classification_error_nishimori"):
        assert 0 <= metrics[key] <= 0.6
    assert metrics["theory_error"] < 0.5


def test_linear_readout_reports_the_rao_blackwellised_error_and_other_readouts_do_not(tmp_path) -> None:
    metrics = _posterior(tmp_path, "rb", {"warmup": 150, "samples": 300}, alpha=2.0)
    # Both estimate the same posterior mean from the same chains: their squared errors differ by at most the
    # Monte Carlo error of the plain mean, SD ≈ 2√(error · draw bias) as in the halves test below.
    sd = 2 * math.sqrt(metrics["error_raw"] * metrics["draw_bias"])
    assert abs(metrics["error_raw"] - metrics["error_rb_raw"]) < 4 * sd
    assert metrics["error_rb_corrected"] == metrics["error_rb_raw"] - metrics["draw_bias_rb"]
    # The conditional means average the readout out exactly: less variance than the draws' predictions,
    # and a smaller finite-draw bias than the plain mean's.
    assert metrics["rb_variance_ratio_median"] > 1
    assert metrics["draw_bias_rb"] < metrics["draw_bias"]
    assert metrics["ess_rb_equivalent_median"] > metrics["ess_bulk_median"]
    sign = _posterior(tmp_path, "rb-sign", {"warmup": 60, "samples": 60}, model=dict(TANH_L2, readout="sign"))
    assert not [key for key in sign if "_rb" in key]


@pytest.mark.slow
def test_float32_and_float64_agree(tmp_path) -> None:
    sampler = {"warmup": 150, "samples": 300}
    f64 = _posterior(tmp_path, "p", sampler)
    f32 = _posterior(tmp_path, "p", dict(sampler, dtype="float32"))
    for key in ("error_raw", "error_nishimori"):
        # different random paths: agreement within the Monte Carlo error of the posterior means
        tolerance = 4 * math.sqrt(f64["draw_bias"] + f32["draw_bias"]) * math.sqrt(f64[key])
        assert abs(f64[key] - f32[key]) < tolerance + 0.02 * f64[key], (key, f64[key], f32[key])


@pytest.mark.slow
def test_teacher_and_prior_started_halves_agree(tmp_path) -> None:
    metrics = _posterior(tmp_path, "h", {"chains": 8, "warmup": 200, "samples": 400}, alpha=2.0)
    assert metrics["rhat_max"] < 1.05
    # Mean over test points of a χ²(1)-like ratio, ≈ 1 when the halves differ only by Monte Carlo noise.
    # The terms are strongly correlated (a 12-parameter network): over seeds it ranged 0.55-1.62.
    assert 0.25 < metrics["halves_chi2"] < 3.0
    # δ = mean_i[(f−Ŷ_A)² − (f−Ŷ_B)²] ≈ mean_i 2(f−Ŷ)(Ŷ_B−Ŷ_A), Var(Ŷ_A−Ŷ_B) ≈ 4·draw bias: SD ≤ 2√(err·4·bias)
    sd = 2 * math.sqrt(metrics["error_raw"] * 4 * metrics["draw_bias"])
    assert abs(metrics["halves_error_difference"]) < 4 * sd


@pytest.mark.slow
def test_nishimori_and_direct_estimators_agree_over_seeds(tmp_path) -> None:
    """The spread is teacher-to-teacher: each seed's difference barely moves with the chain length (250 or 600
    draws change it by < 0.003), so 20 teachers with short chains test the identity better than 10 with long
    ones (seeds 0-9 alone sit near -3 standard errors whatever the sampler's streams; seeds 0-19 near -0.5)."""
    sampler = {"chains": 4, "warmup": 150, "samples": 120}
    model = dict(TANH_L2, depth=1, width_ratios=[1.0])
    diffs = []
    for seed in range(20):
        m = _posterior(tmp_path, f"n{seed}", sampler, model=model, width=10, alpha=2.0, seed=seed)
        diffs.append(m["error_corrected"] - m["error_nishimori"])
    diffs = np.array(diffs)
    # E[direct − Nishimori] = 0 over teachers (Nishimori identity); the spread over seeds sets the tolerance
    assert abs(diffs.mean()) < 3 * diffs.std(ddof=1) / math.sqrt(len(diffs)), diffs


def test_posterior_log_keeps_phases_apart_and_ends_with_the_verdict(tmp_path, caplog) -> None:
    """The last line is the recorded verdict; a threshold nobody can meet flags the point with its reason."""
    with caplog.at_level(logging.INFO, logger="deeplin"):
        metrics = _posterior(tmp_path, "log", analysis={"min_rhat_fraction": 1.0, "max_rhat": 1.0})
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("deeplin")]
    assert any("warm-up" in line and "divergent transitions, not counted" in line for line in lines)
    assert any(line.startswith("HMC [") for line in lines)  # the sampler's progress lines
    assert "verdict FLAGGED" in lines[-1] and "rhat>1" in lines[-1]
    assert metrics["passes_diagnostics"] is False and "rhat>1" in metrics["flagged_by"]
    recorded = json.loads((tmp_path / "log.json").read_text())
    assert (
        recorded["flagged_by"] == metrics["flagged_by"] and recorded["verdict_thresholds"]["max_rhat"] == 1.0
    )


def test_posterior_command_writes_the_metrics_and_the_summary(tmp_path) -> None:
    """`deeplin deep_equivalence posterior --settings ...`: the step as the rule runs it."""
    data = tmp_path / "cli.npz"
    make_data("tiny", TANH_L2, 8, 1.0, 0, 50, str(data))
    section = {"sampler": dict(SMALL_SAMPLER, samples=20, max_divergent_fraction=1.0), "analysis": {}}
    command = [
        sys.executable,
        "-m",
        "deeplin",
        "deep_equivalence",
        "posterior",
        "--settings",
        json.dumps({"deep_equivalence": section}),
        "--data",
        str(data),
        "--out",
        str(tmp_path / "p.json"),
        "--summary-out",
        str(tmp_path / "p.npz"),
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "p.json").read_text())
    assert metrics["draws_per_chain"] == 20 and metrics["chains"] == 4
    with np.load(tmp_path / "p.npz") as summary:
        assert summary["posterior_mean"].shape == summary["posterior_variance"].shape == (50,)
        assert json.loads(str(summary["provenance"])) == metrics["provenance"]


# Sampling by the criterion: 4 chains x 60 draws cannot reach the default median bulk ESS of 400; blocks of 40.
BY_CRITERION = {"samples": 60, "max_samples": 2000, "block_samples": 40}
# Only the fields that say how the run was scheduled differ between a criterion-stopped run and a fixed run
# of the same length (and the wall clock).
SCHEDULE_KEYS = {"blocks", "stopped", "seconds", "seconds_warmup", "seconds_sampling", "provenance"}


@pytest.mark.slow
def test_sampling_stops_when_the_verdicts_convergence_checks_pass_with_a_fixed_runs_numbers(
    tmp_path, caplog
) -> None:
    with caplog.at_level(logging.INFO, logger="deeplin.deep_equivalence.posterior"):
        stopped = _posterior(tmp_path, "criterion", BY_CRITERION)
    length = stopped["samples_per_chain"]
    assert stopped["stopped"] == "converged" and 60 < length < 2000 and (length - 60) % 40 == 0
    assert stopped["blocks"] == (length - 60) // 40 + 1 and stopped["draws_per_chain"] == length
    # it stopped at the first block whose median bulk ESS reached the default 400 (the R-hat checks pass too)
    assert stopped["ess_bulk_median"] >= 400 and stopped["passes_diagnostics"]
    assert f"block {stopped['blocks'] - 1} after {length - 40} sampling iterations" in caplog.text
    assert "ess<400)" in caplog.text and "converged, stop" in caplog.text
    assert (
        f"sampling stopped after {length} iterations per chain and {stopped['blocks']} block" in caplog.text
    )
    # a fixed length (max_samples <= samples) is one block: its draws pass the same checks
    fixed = _posterior(tmp_path, "fixed", {"samples": length, "max_samples": 10})
    assert fixed["stopped"] == "converged" and fixed["blocks"] == 1 and fixed["samples_per_chain"] == length
    same = {k: v for k, v in stopped.items() if k not in SCHEDULE_KEYS}
    assert same == {k: v for k, v in fixed.items() if k not in SCHEDULE_KEYS}
