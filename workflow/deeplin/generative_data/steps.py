"""The result's file-level steps: each reads its inputs, calls the numerics and writes one output atomically
with its provenance record. One (generator, N) per generator, fields, SGD and ODE job; one (generator, N, λ, α)
per ridge job."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..config import section_hash
from ..io import PROVENANCE_KEY, atomic_write, provenance, provenance_entry, write_json
from ..seeding import derived_seed
from . import instances
from .generators import (
    Generator,
    conditional_root,
    exact_or_estimated_moments,
    linearised_moments,
    make_generator,
)

log = logging.getLogger("deeplin.generative_data.steps")


def _save_npz(out: str | Path, record: dict, **arrays: np.ndarray) -> None:
    with atomic_write(out, "wb") as handle:
        np.savez_compressed(handle, **arrays, **{PROVENANCE_KEY: provenance_entry(record)})


def write_generator(section: Mapping, kind: str, width: int, out: str | Path) -> None:
    """The generator's weights, its Ω and Φ (exact or Monte Carlo, with standard errors) and the
    Gaussian-equivalent Ω_lin, Φ_lin of its linearisation."""
    start = time.perf_counter()
    latent = instances.latent_dim(width, section["latent_ratio"])
    generator = make_generator(kind, width, latent, section["deep_layers"], section["seed"])
    moments_seed = derived_seed("generative_data", kind, f"N={width}", section["seed"], "moments")
    moments = exact_or_estimated_moments(generator, section["moment_samples"], moments_seed)
    omega_lin, phi_lin = linearised_moments(generator)
    spectrum, eigenvectors = np.linalg.eigh(moments.omega)
    meta = {"generator": kind, "width": width, "latent": latent, "layers": len(generator.weights)}
    meta["moment_samples"] = moments.samples
    meta["omega_se_max"] = float(moments.omega_se.max())
    meta["phi_se_max"] = float(moments.phi_se.max())
    record = provenance(section_hash({"generator": kind, "width": width, **section}))
    _save_npz(
        out,
        record,
        omega=moments.omega,
        phi=moments.phi,
        omega_se=moments.omega_se,
        phi_se=moments.phi_se,
        omega_linear=omega_lin,
        phi_linear=phi_lin,
        spectrum=spectrum,
        eigenvectors=eigenvectors,
        conditional_root=conditional_root(moments.omega, moments.phi),
        meta=np.array(json.dumps(meta, sort_keys=True)),
        **{f"weights_{i}": F for i, F in enumerate(generator.weights)},
    )
    log.info(
        "generator %s N=%d D=%d: Ω %s (max SE %.1e) in %.1f s",
        kind,
        width,
        latent,
        "exact" if not moments.samples else f"from {moments.samples} samples",
        meta["omega_se_max"],
        time.perf_counter() - start,
    )


def load_generator(path: str | Path) -> tuple[Generator, dict[str, np.ndarray], dict]:
    """The generator, its moment arrays and its metadata."""
    with np.load(path) as archive:
        meta = json.loads(str(archive["meta"]))
        arrays = {key: archive[key] for key in archive.files if key not in ("meta", PROVENANCE_KEY)}
    weights = tuple(arrays.pop(f"weights_{i}") for i in range(meta["layers"]))
    return Generator(meta["generator"], weights), arrays, meta


def write_fields(section: Mapping, generator_path: str | Path, out: str | Path) -> list[dict]:
    """The local-field check at initialisation: the dense students W0 and the sparse negative controls."""
    from .fields import field_statistics, sparse_student

    generator, arrays, meta = load_generator(generator_path)
    kind, width, latent = meta["generator"], meta["width"], meta["latent"]
    seed, fields = section["seed"], section["fields"]
    B = instances.teacher(seed, kind, width, latent, section["sgd"]["teachers"])
    W0 = instances.student(seed, kind, width, section["sgd"]["students"])
    rng = instances.rng_for(seed, kind, width, "fields")
    students = [(f"dense_{k}", W0[k]) for k in range(W0.shape[0])]
    # a control with at least N nonzeros is no sparser than the dense students: skipped at this N
    counts = [n for n in fields["sparse_nonzeros"] if n < width]
    students += [(f"sparse_{n}", sparse_student(rng, width, n)) for n in counts]
    c = rng.standard_normal((fields["samples"], latent))
    rows, standardised = field_statistics(
        students, generator(c), c, B, arrays["omega"], arrays["omega_linear"], arrays["phi"]
    )
    for row in rows:
        row.update(generator=kind, N=width, D=latent)
    record = provenance(section_hash({"generator": kind, "width": width, **section}))
    _save_npz(
        out,
        record,
        rows=np.array(json.dumps(rows, sort_keys=True)),
        **{f"field_{label}": value.astype(np.float32) for label, value in standardised.items()},
    )
    dense = [row for row in rows if row["student"].startswith("dense")]
    log.info(
        "fields %s N=%d: dense KS %.4f (critical %.4f), sparse_%d KS %.3f",
        kind,
        width,
        max(row["ks_field"] for row in dense),
        rows[0]["ks_critical"],
        rows[-1]["nonzeros"] if len(rows) > len(dense) else 0,
        rows[-1]["ks_field"],
    )
    return rows


def write_sgd(section: Mapping, generator_path: str | Path, out: str | Path) -> None:
    """The SGD streams of one generator at one width: population and test-set errors, Q and R."""
    from .sgd import record_steps, simulate

    start = time.perf_counter()
    generator, arrays, meta = load_generator(generator_path)
    kind, width, latent = meta["generator"], meta["width"], meta["latent"]
    seed, sgd = section["seed"], section["sgd"]
    B = instances.teacher(seed, kind, width, latent, sgd["teachers"])
    W0 = instances.student(seed, kind, width, sgd["students"])
    steps = record_steps(width, sgd["time_max"], sgd["time_points"])
    test = instances.rng_for(seed, kind, width, "test").standard_normal((sgd["test_samples"], latent))
    where = f"SGD {kind} N={width}"

    def progress(done: int, total: int) -> None:
        if done % (20 * 1000) < 1000 or done == total:
            log.info("%s: step %d of %d (%.1f s)", where, done, total, time.perf_counter() - start)

    run = simulate(
        generator,
        W0,
        B,
        sgd["learning_rate"],
        steps,
        instances.stream_seeds(seed, kind, width, sgd["streams"]),
        arrays["omega"],
        arrays["phi"],
        test,
        progress=progress,
    )
    record = provenance(section_hash({"generator": kind, "width": width, **section}))
    _save_npz(
        out,
        record,
        steps=run.steps,
        error_population=run.error_population,
        error_test=run.error_test,
        Q=run.Q,
        R=run.R,
        meta=np.array(json.dumps({**meta, "seconds": time.perf_counter() - start}, sort_keys=True)),
    )
    log.info("%s: %d streams in %.1f s", where, sgd["streams"], time.perf_counter() - start)


def write_ode(section: Mapping, generator_path: str | Path, out: str | Path) -> dict:
    """Both ODE solutions (the generator's Ω, Φ and the linearised Ω_lin, Φ_lin) from the SGD's W0."""
    from .ode import initial_state, integrate, modes_from_moments
    from .sgd import record_steps

    generator, arrays, meta = load_generator(generator_path)
    kind, width, latent = meta["generator"], meta["width"], meta["latent"]
    seed, sgd, ode = section["seed"], section["sgd"], section["ode"]
    B = instances.teacher(seed, kind, width, latent, sgd["teachers"])
    W0 = instances.student(seed, kind, width, sgd["students"])
    times = record_steps(width, sgd["time_max"], sgd["time_points"]) / width
    result: dict = {"times": times.tolist(), "generator": kind, "N": width, "D": latent}
    for name, omega, phi in (
        ("exact", arrays["omega"], arrays["phi"]),
        ("gaussian", arrays["omega_linear"], arrays["phi_linear"]),
    ):
        start = time.perf_counter()
        modes, U = modes_from_moments(omega, phi, B)
        q0, r0 = initial_state(W0, U, modes)
        path = integrate(
            modes,
            q0,
            r0,
            times,
            sgd["learning_rate"],
            method=ode["method"],
            rtol=ode["rtol"],
            atol=ode["atol"],
            euler_step=ode["euler_step"],
        )
        result[name] = {
            "error": path.error.tolist(),
            "Q": path.Q.tolist(),
            "R": path.R.tolist(),
            "evaluations": path.evaluations,
            "seconds": time.perf_counter() - start,
        }
        log.info(
            "ODE %s N=%d (%s Ω): %d evaluations in %.2f s",
            kind,
            width,
            name,
            path.evaluations,
            result[name]["seconds"],
        )
    result["provenance"] = provenance(section_hash({"generator": kind, "width": width, **section}))
    write_json(out, result)
    return result


def ridge_training_sets(section: Mapping, lam: float, alpha: float) -> int:
    """More training sets near the interpolation peak (|α − 1| ≤ 0.25 at λ ≤ 10⁻²), where the variance explodes."""
    ridge = section["ridge"]
    near_peak = abs(alpha - 1.0) <= 0.25 and lam <= 1e-2
    return ridge["peak_training_sets"] if near_peak else ridge["training_sets"]


def ridge_problem(arrays: Mapping[str, np.ndarray], theta: np.ndarray) -> dict:
    """The spectrum of Ω, the projections d_i = (u_i·Φθ)² and Φθ/√D of the ridge teacher θ."""
    latent = theta.size
    values, vectors = arrays["spectrum"], arrays["eigenvectors"]
    phi_theta = arrays["phi"] @ theta / np.sqrt(latent)
    return {
        "spectrum": values,
        "projections": (vectors.T @ (arrays["phi"] @ theta)) ** 2,
        "phi_theta": phi_theta,
        "rho": float(theta @ theta / latent),
    }


def write_ridge_point(
    section: Mapping, generator_path: str | Path, lam: float, alpha: float, out: str | Path
) -> dict:
    """One ridge point: the fixed point, and ridge on generator data and on Gaussian-equivalent data
    x_G = Φc + (Ω − ΦΦᵀ)^{1/2}z, each over its training sets (population test error, mean ± SE)."""
    from .ridge import asymptote, fixed_point, population_error, ridge_weights

    start = time.perf_counter()
    generator, arrays, meta = load_generator(generator_path)
    kind, width, latent = meta["generator"], meta["width"], meta["latent"]
    seed, noise = section["seed"], section["ridge"]["noise"]
    theta = instances.ridge_teacher(seed, kind, width, latent)
    problem = ridge_problem(arrays, theta)
    gamma = latent / width
    theory = fixed_point(
        problem["spectrum"], problem["projections"], gamma, alpha, lam, problem["rho"], noise
    )
    root = arrays["conditional_root"]
    samples = max(1, round(alpha * width))
    errors: dict[str, list[float]] = {"generator": [], "gaussian": []}
    for index in range(ridge_training_sets(section, lam, alpha)):
        rng = instances.rng_for(seed, kind, width, "ridge_set", repr(float(alpha)), index)
        c = rng.standard_normal((samples, latent))
        y = c @ theta / np.sqrt(latent) + np.sqrt(noise) * rng.standard_normal(samples)
        data = {
            "generator": generator(c),
            "gaussian": c @ arrays["phi"].T + rng.standard_normal((samples, width)) @ root,
        }
        for name, x in data.items():
            w = ridge_weights(x, y, lam)
            errors[name].append(population_error(w, arrays["omega"], problem["phi_theta"], problem["rho"]))
    row = {
        "generator": kind,
        "N": width,
        "D": latent,
        "lambda": lam,
        "alpha": alpha,
        "theory": theory.error,
        "V": theory.V,
        "asymptote": asymptote(problem["spectrum"], problem["projections"], gamma, problem["rho"]),
        "training_sets": len(errors["generator"]),
    }
    for name, values in errors.items():
        values_ = np.asarray(values)
        row[f"simulation_{name}"] = float(values_.mean())
        row[f"se_{name}"] = (
            float(values_.std(ddof=1) / np.sqrt(values_.size)) if values_.size > 1 else float("nan")
        )
    record = provenance(
        section_hash({"generator": kind, "width": width, "lambda": lam, "alpha": alpha, **section})
    )
    write_json(out, {"row": row, "seconds": time.perf_counter() - start, "provenance": record})
    log.info(
        "ridge %s N=%d λ=%g α=%g: theory %.4f, generator %.4f ± %.4f, Gaussian %.4f ± %.4f (%.1f s)",
        kind,
        width,
        lam,
        alpha,
        row["theory"],
        row["simulation_generator"],
        row["se_generator"],
        row["simulation_gaussian"],
        row["se_gaussian"],
        time.perf_counter() - start,
    )
    return row
