"""The one description of every column of the tables a run writes (simulations, summary, scaling, headline).

`GUIDE` maps each table to its columns; a name with ``<placeholders>`` stands for every column it matches,
and its description may use the matched parts. `describe` looks a column up, `undescribed` lists the
columns of a table that have no description (the tests fail on any), and `column_guide` turns the columns a
run actually wrote into the table shown in the report (columns.csv).

Notation: d0 is the input width, α = n/d0, the teacher's output is f(h) with readout f and noise variance Δ,
and η0, γ0 are the coefficients of the equivalent GLM Y = f(η0 vᵀx + √γ0 ξ) + √Δ Z (Camilli, Tieplova,
Bergamin, Barbier 2025, arXiv 2505.03577). "Error" is the test error against the clean teacher output f(h):
the mean squared error, or for the sign readout the mean squared error of the ±1 outputs unless the column
says classification. "The test set" is the point's `test_size` fresh inputs; "seeds" are independent
teachers and data sets.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping

import pandas as pd

log = logging.getLogger("deeplin")

Description = str | Callable[[Mapping[str, str]], str]

# --------------------------------------------------------------------------------------------------
# simulations.csv: one row per simulated point
# --------------------------------------------------------------------------------------------------

PARAMETERS: dict[str, str] = {
    "model": "model name (a key of the config's `models`)",
    "activation": "activation φ of the hidden layers",
    "depth": "number of hidden layers L",
    "readout": "readout f: linear, tanh or sign",
    "noise": "label-noise variance Δ",
    "width": "input width d0",
    "hidden_widths": "hidden widths d1×…×dL (round(ratio · d0) per layer)",
    "alpha": "sample ratio α = n/d0",
    "n": "number of training samples, round(α d0)",
    "seed": "seed index of the point (teacher, data and sampler streams derive from it)",
    "test_size": "number of test inputs",
    "eta0": "η0, the equivalent GLM's signal coefficient (layer recursion)",
    "gamma0": "γ0, the equivalent GLM's effective-noise variance (layer recursion)",
}

THEORY: dict[str, str] = {
    "theory_q": "asymptotic Bayes-optimal overlap q of the equivalent GLM at this α (replica formula, Barbier, "
    "Krzakala, Macris, Miolane, Zdeborová, PNAS 2019)",
    "theory_error": "asymptotic Bayes-optimal test error of the equivalent GLM at this α (clean label; "
    "classification error for the sign readout): the value the deep error should approach as d0 grows",
    "theory_error_noisy": "as theory_error, against a noisy test label",
}

# Metrics of the deep posterior that exist for all chains and, with deep_teacher_half_ / deep_prior_half_,
# for each half of the chains alone.
DEEP_ESTIMATES: dict[str, str] = {
    "error_raw": "direct test error of the posterior-mean prediction: mean over the test set of "
    "(f(h) − Ŷ)², Ŷ the mean of the predictions over all kept draws",
    "error_corrected": "error_raw minus draw_bias: the direct error corrected for the finite number of "
    "draws (the headline deep error)",
    "error_se": "standard error of the direct error over the test set (test-sample noise only)",
    "error_nishimori": "teacher-free Nishimori estimate of the error: mean over the test set of the posterior "
    "variance of the prediction (equals the error on average at Bayes optimality)",
    "error_nishimori_se": "standard error of error_nishimori over the test set",
    "draw_bias": "finite-draw bias of error_raw, mean over the diagnosed test points of Var/ESS (posterior "
    "variance over the effective sample size of the mean); error_corrected = error_raw − draw_bias",
    "error_noisy_raw": "direct error of the posterior mean against the noisy test labels (Gaussian readouts)",
    "classification_error": "sign readout: fraction of test points whose majority-vote label (sign of the "
    "posterior probability of +1 minus 1/2) differs from the clean label sign(h)",
    "classification_error_noisy": "sign readout: as classification_error, against the noisy test label",
    "classification_error_nishimori": "sign readout: mean over the test set of min(p, 1 − p), p the "
    "fraction of draws predicting +1 (teacher-free estimate of classification_error)",
    "ess_bulk_median": "median over the diagnosed test points of the bulk effective sample size of the "
    "prediction (ArviZ)",
    "ess_mean_median": "median over the diagnosed test points of the effective sample size of the posterior "
    "mean (ArviZ), which sets draw_bias",
}

DEEP: dict[str, str] = {
    **{f"deep_{key}": text for key, text in DEEP_ESTIMATES.items()},
    "deep_error_rb_raw": "linear readout: direct test error of the Rao–Blackwellised posterior mean, the mean "
    "over kept draws of E[h | hidden weights, data] (the readout integrated out exactly: its conditional "
    "posterior is Gaussian); the same estimand as deep_error_raw with less Monte Carlo noise",
    "deep_error_rb_corrected": "deep_error_rb_raw minus deep_draw_bias_rb",
    "deep_error_rb_se": "standard error of deep_error_rb_raw over the test set (test-sample noise only)",
    "deep_draw_bias_rb": "finite-draw bias of deep_error_rb_raw: mean over the diagnosed test points of the "
    "conditional means' variance over their effective sample size of the mean",
    "deep_rb_variance_ratio_median": "median over the diagnosed test points of Var(prediction) / Var(conditional "
    "mean) over the draws: how much noise integrating the readout out removes per draw",
    "deep_ess_rb_equivalent_median": "median over the diagnosed test points of the number of plain draws that "
    "would give the Rao–Blackwellised mean's precision (its bulk ESS times the variance ratio)",
    "deep_point": "the point in words (model, d0, α, seed), as in the posterior log",
    "deep_device": "device the chains ran on (cpu, cuda)",
    "deep_dtype": "floating-point type of the chains",
    "deep_chains": "number of HMC chains (half started at the teacher, half from the prior)",
    "deep_draws_per_chain": "kept draws per chain (sampling iterations / thin)",
    "deep_samples_per_chain": "sampling iterations per chain after warm-up (where the stopping criterion "
    "stopped it, or the budget sampler.max_samples)",
    "deep_blocks": "checks of the stopping criterion (after sampler.samples, then every sampler.block_samples)",
    "deep_stopped": "why sampling stopped: converged (the convergence checks passed), budget "
    "(sampler.max_samples spent first; the point is flagged) or fixed",
    "deep_attempts": "posterior runs needed (1, or more when a run diverged and was retried with a smaller step)",
    "deep_target_accept_used": "acceptance target of the successful attempt (raised towards 1 on each retry)",
    "deep_rhat_max": "largest rank-normalised R-hat over the diagnosed test predictions (Vehtari et al. 2021)",
    "deep_rhat_median": "median R-hat over the diagnosed test predictions",
    "deep_rhat_fraction_ok": "fraction of the diagnosed test predictions with R-hat ≤ 1.01",
    "deep_diagnostic_points": "number of evenly spaced test points on which R-hat and ESS are computed",
    "deep_halves_chi2": "agreement of the two halves of the chains: mean over the diagnosed test points of "
    "(Ŷ_teacher − Ŷ_prior)² / (Var · (1/ESS_teacher + 1/ESS_prior)); about 1 when the two posterior means "
    "differ by Monte Carlo error only, much larger when the prior-started chains have not found the teacher's mode",
    "deep_halves_error_difference": "deep_teacher_half_error_raw − deep_prior_half_error_raw",
    "deep_potential_rhat": "R-hat of the potential energy (negative log posterior) across chains",
    "deep_potential_ess_bulk": "bulk effective sample size of the potential energy",
    "deep_accept_rate": "mean HMC acceptance probability after warm-up, over chains",
    "deep_accept_rate_min": "acceptance of the worst chain after warm-up",
    "deep_step_size_median": "median over chains of the adapted leapfrog step size",
    "deep_divergences": "divergent sampling transitions (energy error > 1000 or non-finite), all chains",
    "deep_divergences_warmup": "divergent transitions during warm-up (not counted against the run)",
    "deep_n_gradients": "gradient evaluations of the potential, all chains together",
    "deep_seconds": "wall time of the posterior run, all attempts, warm-up included, seconds",
    "deep_seconds_warmup": "wall time of the warm-up, seconds",
    "deep_seconds_sampling": "wall time after warm-up, seconds",
    "deep_<half>_half_<metric>": lambda m: (
        f"{DEEP_ESTIMATES[m['metric']]}; from the chains started "
        f"{'at the teacher' if m['half'] == 'teacher' else 'from the prior'} only"
    ),
}

TWIN: dict[str, str] = {
    "twin_readout": "readout of the GLM twin (that of the model)",
    "twin_error": "test error of the finite-size GLM twin on its own task: the GLM's Bayes-optimal predictor "
    "(exact conjugate posterior for the linear readout, GAMP otherwise) trained on labels of the equivalent "
    "GLM with its own teacher v (same training inputs as the deep data), measured on the test inputs against "
    "that GLM's clean outputs f(η0 vᵀx + √γ0 ξ). A realised error of one teacher: it scatters from seed to "
    "seed, widely at small d0",
    "twin_error_se": "standard error of twin_error over the test set (test-sample noise only, not the "
    "teacher-to-teacher spread)",
    "twin_expected_error": "the twin's posterior-expected test error, teacher-free (Nishimori identity): linear "
    "readout η0² tr(A⁻¹)/d0 + γ0 (A the posterior precision), averaged over the posterior of v and a fresh input "
    "x ~ N(0, I/d0); tanh readout GAMP's mean posterior variance of f(h) on the test inputs. Equal to twin_error "
    "on average over seeds but with far less seed-to-seed spread; not reported for the sign readout",
    "twin_method": "how the twin was solved: conjugate (exact, linear readout) or gamp",
    "twin_overlap": "overlap v̂·v/d0 of the twin's estimate with its own teacher v",
    "twin_gamp_converged": "whether GAMP on the twin's labels converged",
    "twin_gamp_iterations": "GAMP iterations on the twin's labels",
    "twin_estimator_on_deep_error": "test error of the GLM-optimal estimator (the same conjugate posterior or "
    "GAMP, with the model's η0, γ0, Δ) trained on the deep data and measured against the deep teacher's "
    "clean outputs: deep_error_corrected minus this is the paired gap, which removes the teacher-to-teacher "
    "spread",
    "twin_estimator_on_deep_error_se": "standard error of twin_estimator_on_deep_error over the test set",
    "twin_estimator_on_deep_method": "how the GLM-optimal estimator on the deep data was computed",
    "twin_estimator_on_deep_gamp_converged": "whether GAMP on the deep data converged",
    "twin_estimator_on_deep_gamp_iterations": "GAMP iterations on the deep data",
    "twin_estimator_on_deep_overlap": "overlap of GAMP's estimate on the deep data (no teacher v: normally absent)",
    "twin_state_evolution_q": "fixed point of GAMP's state evolution at this α: the overlap the twin reaches "
    "as d0 → ∞ (equals theory_q)",
    "twin_state_evolution_iterations": "state-evolution iterations to that fixed point",
    "twin_state_evolution_converged": "whether state evolution converged",
    "twin_seconds": "wall time of the GLM-twin job, seconds",
}

ORIGIN: dict[str, str] = {
    "deeplin_version": "deeplin version that computed the point",
    "git_commit": "git commit of the source tree ('-dirty' with uncommitted changes; empty outside git)",
    "config_hash": "hash of the config sections that determine the point's numbers",
    "flagged_by": "failed sampler diagnostics, ';'-separated (empty: the point passes), as decided by the "
    "posterior job from the study's `analysis` thresholds",
    "passes_diagnostics": "true when flagged_by is empty",
    "used": "whether the point enters summaries and fits (flagged points only when analysis.exclude_flagged "
    "is false)",
}

SIMULATIONS: dict[str, Description] = {**PARAMETERS, **THEORY, **DEEP, **TWIN, **ORIGIN}


# --------------------------------------------------------------------------------------------------
# summary.csv: per (model, width, α) over seeds
# --------------------------------------------------------------------------------------------------

# Labels of the summarised errors and gaps (deeplin.aggregate.ERRORS and GAPS), in words.
SUMMARY_ERRORS: dict[str, str] = {
    "deep": "the deep posterior's error (deep_error_corrected)",
    "deep_raw": "the deep posterior's uncorrected error (deep_error_raw)",
    "deep_rb": "the deep posterior's Rao–Blackwellised error (deep_error_rb_corrected; linear readout only), "
    "the same estimand as deep with less Monte Carlo noise",
    "nishimori": "the deep posterior's Nishimori estimate (deep_error_nishimori)",
    "teacher_half": "the error of the teacher-started chains (deep_teacher_half_error_corrected)",
    "prior_half": "the error of the prior-started chains (deep_prior_half_error_corrected)",
    "twin": "the GLM twin's error on its own teacher (twin_error)",
    "glm_estimator": "the GLM-optimal estimator's error on the deep data (twin_estimator_on_deep_error)",
}
SUMMARY_GAPS: dict[str, str] = {
    "theory": "deep error minus the GLM theory (deep_error_corrected − theory_error)",
    "twin": "deep error minus the GLM twin's error (deep_error_corrected − twin_error; different teachers)",
    "glm_estimator": "paired gap: deep error minus the GLM-optimal estimator on the same deep data, seed by "
    "seed (deep_error_corrected − twin_estimator_on_deep_error)",
    "nishimori_theory": "Nishimori estimate minus the GLM theory (deep_error_nishimori − theory_error)",
}
STATISTICS: dict[str, str] = {
    "mean": "mean over the group's used seeds of",
    "se": "standard error over seeds of",
    "ci_low": "lower end of the Student-t confidence interval (level analysis.confidence) over seeds of",
    "ci_high": "upper end of the Student-t confidence interval (level analysis.confidence) over seeds of",
}


def _summary_statistic(words: Mapping[str, str], m: Mapping[str, str]) -> str:
    return f"{STATISTICS[m['stat']]} {words[m['label']]}"


SUMMARY: dict[str, Description] = {
    **{
        key: PARAMETERS[key] for key in ("model", "width", "alpha", "activation", "depth", "readout", "noise")
    },
    **{key: PARAMETERS[key] for key in ("hidden_widths", "n", "eta0", "gamma0")},
    "theory_error": THEORY["theory_error"],
    "points": "simulated points (seeds) in the group",
    "points_passing": "points of the group that pass the sampler diagnostics",
    "points_used": "points that enter the group's statistics",
    "fraction_passing": "points_passing / points",
    "gap_<gap>_<stat>": lambda m: _summary_statistic(SUMMARY_GAPS, m | {"label": m["gap"]}),
    "<label>_<stat>": lambda m: _summary_statistic(SUMMARY_ERRORS, m),
}

# --------------------------------------------------------------------------------------------------
# scaling.csv: per (model, α, gap) the slope of log|gap| against log d0
# --------------------------------------------------------------------------------------------------

SCALING: dict[str, Description] = {
    "model": PARAMETERS["model"],
    "alpha": PARAMETERS["alpha"],
    "gap": "which gap: theory, twin, glm_estimator (paired) or nishimori_theory (see summary.csv gap_*)",
    "widths": "the widths d0 of the fit's groups",
    "widths_used": "widths whose |gap| exceeds its standard error, the only ones in the fit",
    "slope": "weighted least-squares slope of log|gap| against log d0 (weights |gap|/SE)",
    "slope_se": "standard error of the slope (from the gaps' standard errors alone)",
    "slope_ci_low": "lower end of the slope's normal confidence interval (level analysis.confidence)",
    "slope_ci_high": "upper end of the slope's confidence interval",
    "intercept": "intercept of the fit: log|gap| ≈ intercept + slope · log d0",
    "note": "why no slope was fitted (fewer than two resolved widths), else empty",
    "bound_slope": "−1/2: the slope of the O(d0^−1/2) bound on the gap at fixed α and width ratios (Camilli "
    "et al. 2025)",
    "consistent_with_bound": "false when the slope is significantly shallower than −1/2 (slope_ci_low > −1/2); "
    "empty without a fit",
}

# --------------------------------------------------------------------------------------------------
# headline.csv: the result in one short table (deeplin.reporting.headline_table)
# --------------------------------------------------------------------------------------------------

HEADLINE: dict[str, Description] = {
    "model": PARAMETERS["model"],
    "width": "the largest simulated input width d0 of the model",
    "alpha": PARAMETERS["alpha"],
    "seeds": "seeds that enter the numbers at that width and α",
    "deep_error": "deep posterior's test error at that width, mean over seeds (deep_error_corrected)",
    "deep_error_ci": "half-width of its confidence interval over seeds (level analysis.confidence)",
    "theory_error": "asymptotic GLM theory at α (the value the deep error should approach)",
    "deep_minus_theory": "deep_error − theory_error",
    "paired_gap": "paired gap at that width: deep error minus the GLM-optimal estimator on the same data, "
    "mean over seeds",
    "paired_gap_ci": "half-width of the paired gap's confidence interval over seeds",
    "paired_gap_slope": "fitted slope of log|paired gap| against log d0 over all widths (−1/2 or steeper is "
    "consistent with the O(d0^−1/2) bound); empty when fewer than two widths resolve the gap",
    "paired_gap_slope_ci_low": "lower end of the slope's confidence interval",
    "paired_gap_slope_ci_high": "upper end of the slope's confidence interval",
    "slope_widths": "the widths that entered the slope's fit",
}

GUIDE: dict[str, dict[str, Description]] = {
    "simulations": SIMULATIONS,
    "summary": SUMMARY,
    "scaling": SCALING,
    "headline": HEADLINE,
}


# What each placeholder of a column pattern may stand for (alternatives, longest first).
PLACEHOLDERS: dict[str, Iterable[str]] = {
    "half": ("teacher", "prior"),
    "metric": DEEP_ESTIMATES,
    "label": SUMMARY_ERRORS,
    "gap": SUMMARY_GAPS,
    "stat": STATISTICS,
}


@functools.cache
def _compile(name: str) -> re.Pattern | None:
    if "<" not in name:
        return None
    parts = re.split(r"<(\w+)>", name)
    pattern = ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            pattern += re.escape(part)
        else:
            options = sorted(PLACEHOLDERS[part], key=len, reverse=True)
            pattern += f"(?P<{part}>{'|'.join(map(re.escape, options))})"
    return re.compile(f"^{pattern}$")


def describe(table: str, column: str) -> str:
    """The description of ``column`` of ``table`` (KeyError when the guide has none)."""
    entries = GUIDE[table]
    text = entries.get(column)
    if isinstance(text, str):
        return text
    for name, entry in entries.items():
        pattern = _compile(name)
        match = pattern.match(column) if pattern else None
        if match is None:
            continue
        return entry(match.groupdict()) if callable(entry) else entry
    raise KeyError(f"{table}.csv column {column!r} has no description in deeplin.deep_equivalence.columns")


def undescribed(table: str, columns: Iterable[str]) -> list[str]:
    """The columns of ``table`` without a description."""
    missing = []
    for column in columns:
        try:
            describe(table, column)
        except KeyError:
            missing.append(column)
    return missing


def column_guide(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per column of the given tables, in their order: table, column, description.

    A column without a description gets an empty one and a warning (a run is not failed for it; the test
    suite is, see tests/test_columns.py).
    """
    rows = []
    for table, frame in tables.items():
        if table not in GUIDE:
            continue
        for column in frame.columns:
            try:
                text = describe(table, column)
            except KeyError as exc:
                log.warning("%s", exc.args[0])
                text = ""
            rows.append({"table": f"{table}.csv", "column": column, "description": text})
    return pd.DataFrame(rows, columns=["table", "column", "description"])
