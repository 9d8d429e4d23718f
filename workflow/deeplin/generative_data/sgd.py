"""One-pass (online) SGD of the two-layer student on generator data, batched over independent sample streams.

Goldt et al. 2020 (arXiv 2006.14709, eq. (10)): with a fresh (c, x = G(c), y) per step,
w_k ← w_k − (η/√N) v_k g′(λ_k)(ŷ − y) x, λ_k = w_k·x/√N, ŷ = Σ v_k g(λ_k), y = Σ A_m g(ν_m), ν = Bc/√D,
g(z) = erf(z/√2); time t = steps/N. Every stream starts from the same W0 (the ODE's initial condition), so
the spread over streams is the SGD noise. At each recorded step the population error eg(Q, R, T), from
Q = WΩWᵀ/N and R = WΦBᵀ/√(ND), and the error on a fixed test set are kept.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .generators import Generator, transform
from .integrals import generalisation_errors

log = logging.getLogger("deeplin.generative_data.sgd")


@dataclass(frozen=True)
class Run:
    """Per stream and recorded step: population eg, test-set eg, Q (S, n_t, K, K), R (S, n_t, K, M)."""

    steps: np.ndarray
    error_population: np.ndarray
    error_test: np.ndarray
    Q: np.ndarray
    R: np.ndarray


def simulate(
    generator: Generator,
    W0: np.ndarray,
    B: np.ndarray,
    eta: float,
    record_steps: Sequence[int],
    stream_seeds: Sequence[int],
    omega: np.ndarray,
    phi: np.ndarray,
    test_latents: np.ndarray,
    chunk: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Run len(stream_seeds) SGD streams from W0 (v = A = 1) and record them at ``record_steps``."""
    import torch

    torch.set_num_threads(1)  # one small matrix-vector product per step: threads only add overhead
    dtype = torch.float64
    K, N = W0.shape
    M, D = B.shape
    S = len(stream_seeds)
    weights = tuple(torch.as_tensor(F, dtype=dtype) for F in generator.weights)
    Bt = torch.as_tensor(B, dtype=dtype)
    W = torch.as_tensor(W0, dtype=dtype).expand(S, K, N).clone()
    streams = [torch.Generator().manual_seed(int(seed)) for seed in stream_seeds]
    root2 = math.sqrt(2.0)
    slope = math.sqrt(2.0 / math.pi)

    def g(z):
        return torch.erf(z / root2)

    test_c = torch.as_tensor(test_latents, dtype=dtype)
    test_x = transform(generator.kind, weights, test_c)
    test_y = g(test_c @ Bt.T / math.sqrt(D)).sum(-1)
    omega_t, phi_b = torch.as_tensor(omega, dtype=dtype), torch.as_tensor(phi @ B.T, dtype=dtype)
    T = B @ B.T / D
    marks = sorted(set(int(s) for s in record_steps))
    Qs, Rs, tests = [], [], []

    def record() -> None:
        Qs.append((W @ omega_t @ W.transpose(1, 2) / N).numpy().copy())
        Rs.append((W @ phi_b / math.sqrt(N * D)).numpy().copy())
        prediction = g(W @ test_x.T / math.sqrt(N)).sum(1)
        tests.append((0.5 * ((prediction - test_y) ** 2).mean(-1)).numpy().copy())

    step, start, total = 0, time.perf_counter(), marks[-1]
    scale = eta / math.sqrt(N)
    for mark in marks:
        while step < mark:
            n = min(chunk, mark - step)
            c = torch.stack([torch.randn(n, D, generator=s, dtype=dtype) for s in streams])
            x = transform(generator.kind, weights, c)
            y = g(c @ Bt.T / math.sqrt(D)).sum(-1)
            for i in range(n):
                xi = x[:, i, :]
                lam = torch.bmm(W, xi.unsqueeze(2)).squeeze(2) / math.sqrt(N)
                error = g(lam).sum(1) - y[:, i]
                gain = slope * torch.exp(-0.5 * lam * lam) * error.unsqueeze(1)
                W -= scale * gain.unsqueeze(2) * xi.unsqueeze(1)
            step += n
            if progress is not None:
                progress(step, total)
        record()
    Q, R = np.stack(Qs, 1), np.stack(Rs, 1)
    log.debug("SGD: %d streams x %d steps in %.1f s", S, total, time.perf_counter() - start)
    return Run(np.array(marks), generalisation_errors(Q, R, T), np.stack(tests, 1), Q, R)


def record_steps(width: int, time_max: float, points: int, time_min: float = 0.05) -> np.ndarray:
    """The recorded steps: 0 and ``points`` log-spaced times in [time_min, time_max], as round(t·N), unique."""
    times = np.geomspace(time_min, time_max, points)
    return np.unique(np.concatenate([[0], np.rint(times * width).astype(int)]))
