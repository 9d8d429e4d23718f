"""Every random draw of the result, derived from the config's seed and the names of what it is for
(deeplin.seeding.derived_seed), so that adding a width, a λ or an α changes no other number."""

from __future__ import annotations

import numpy as np

from ..seeding import derived_seed


def latent_dim(width: int, latent_ratio: float) -> int:
    """D = round(δ·N), at least 1."""
    return max(1, round(latent_ratio * width))


def rng_for(seed: int, kind: str, width: int, *purpose: object) -> np.random.Generator:
    """The numpy stream of one purpose at one (generator, N)."""
    return np.random.default_rng(derived_seed("generative_data", kind, f"N={width}", seed, *purpose))


def teacher(seed: int, kind: str, width: int, latent: int, teachers: int) -> np.ndarray:
    """B ∈ R^{M×D}, iid N(0, 1): the teacher's first layer on the latent."""
    return rng_for(seed, kind, width, "teacher").standard_normal((teachers, latent))


def student(seed: int, kind: str, width: int, students: int) -> np.ndarray:
    """W0 ∈ R^{K×N}, iid N(0, 1): the student's initial weights (SGD's start and the ODE's initial condition)."""
    return rng_for(seed, kind, width, "student").standard_normal((students, width))


def stream_seeds(seed: int, kind: str, width: int, streams: int) -> list[int]:
    """One seed per SGD stream (stream i's samples do not depend on how many streams there are)."""
    return [derived_seed("generative_data", kind, f"N={width}", seed, "stream", i) for i in range(streams)]


def ridge_teacher(seed: int, kind: str, width: int, latent: int) -> np.ndarray:
    """θ ∈ R^D, iid N(0, 1): the linear teacher of the ridge experiment."""
    return rng_for(seed, kind, width, "ridge_teacher").standard_normal(latent)
