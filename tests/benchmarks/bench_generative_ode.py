"""Benchmark: the spectral ODE of online SGD on sign-generator data (N = 500, D = 250, K = M = 2, η = ½,
integrated to t = 400), vectorised over modes and index tuples, against a straightforward per-mode loop of
the same equations (scalar Gaussian integrals, one mode at a time), measured in the same run.

The loop is timed per right-hand-side evaluation (it would take minutes to integrate) and its cost is quoted
for the vectorised run's number of evaluations; both right-hand sides are checked to agree.
Run: taskset -c 0 python tests/benchmarks/bench_generative_ode.py [--repeats N] [--width N] [--time T]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # timings on one core; set before numpy is imported, hence the late imports

import numpy as np  # noqa: E402
from deeplin.generative_data import instances  # noqa: E402
from deeplin.generative_data.generators import make_generator, sign_moments  # noqa: E402
from deeplin.generative_data.integrals import covariance, i3, i4  # noqa: E402
from deeplin.generative_data.ode import (  # noqa: E402
    Modes,
    coefficients,
    initial_state,
    integrate,
    modes_from_moments,
    overlaps,
    rhs,
)


def loop_coefficients(Q, R, T, v, A, eta):
    """G, H, J term by term, one scalar Gaussian integral per call (the unvectorised reference)."""
    K, M = R.shape
    C = covariance(Q, R, T)
    G, H, J = np.zeros((K, K)), np.zeros((K, M)), np.zeros((K, K))
    for k in range(K):
        G[k, k] = -eta * v[k] ** 2 * float(i3(C, k, k, k)) / Q[k, k]
        for j in range(K):
            if j == k:
                continue
            det = Q[k, k] * Q[j, j] - Q[k, j] ** 2
            G[k, k] -= (
                eta * v[k] * v[j] * (Q[j, j] * float(i3(C, k, k, j)) - Q[k, j] * float(i3(C, k, j, j))) / det
            )
            G[k, j] = (
                -eta * v[k] * v[j] * (Q[k, k] * float(i3(C, k, j, j)) - Q[k, j] * float(i3(C, k, k, j))) / det
            )
        for n in range(M):
            det = Q[k, k] * T[n, n] - R[k, n] ** 2
            a, b = float(i3(C, k, k, K + n)), float(i3(C, k, K + n, K + n))
            G[k, k] += eta * v[k] * A[n] * (T[n, n] * a - R[k, n] * b) / det
            H[k, n] = eta * v[k] * A[n] * (Q[k, k] * b - R[k, n] * a) / det
    s = np.concatenate([v, -A])
    for k in range(K):
        for m in range(K):
            J[k, m] = (
                v[k]
                * v[m]
                * sum(s[c] * s[d] * float(i4(C, k, m, c, d)) for c in range(K + M) for d in range(K + M))
            )
    return G, H, J


def loop_rhs(q, r, modes: Modes, v, A, eta):
    """The mode equations one mode τ and one index at a time."""
    K, M, N = r.shape
    Q = sum(modes.rho[t] * q[:, :, t] for t in range(N)) / N
    R = sum(r[:, :, t] for t in range(N)) / (N * np.sqrt(modes.delta))
    G, H, J = loop_coefficients(Q, R, modes.T, v, A, eta)
    dq, dr = np.zeros_like(q), np.zeros_like(r)
    scale = 1 / np.sqrt(modes.delta)
    for t in range(N):
        rho, beta = modes.rho[t], modes.beta[:, t]
        for k in range(K):
            for m in range(M):
                dr[k, m, t] = rho * sum(G[k, j] * r[j, m, t] for j in range(K)) + scale * sum(
                    H[k, n] * beta[n] * beta[m] for n in range(M)
                )
            for l in range(K):  # noqa: E741 (the papers' index names)
                dq[k, l, t] = (
                    rho * sum(G[k, j] * q[j, l, t] + G[l, j] * q[k, j, t] for j in range(K))
                    + scale * sum(H[k, n] * r[l, n, t] + H[l, n] * r[k, n, t] for n in range(M))
                    + eta**2 * rho * J[k, l]
                )
    return dq, dr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats", type=int, default=3, help="timed repeats of the vectorised run (best kept)"
    )
    parser.add_argument("--width", type=int, default=500, help="input dimension N (D = N/2)")
    parser.add_argument("--time", type=float, default=400.0, help="integration horizon t")
    parser.add_argument("--loop-evaluations", type=int, default=5, help="timed evaluations of the loop")
    parser.add_argument("--euler", action="store_true", help="also time Euler at dt = 0.01 (40 000 steps)")
    args = parser.parse_args()
    N, D, eta = args.width, args.width // 2, 0.5
    generator = make_generator("sign", N, D, 2, seed=0)
    omega, phi = sign_moments(generator.weights[0])
    B, W0 = instances.teacher(0, "sign", N, D, 2), instances.student(0, "sign", N, 2)
    start = time.perf_counter()
    modes, U = modes_from_moments(omega, phi, B)
    eigh = time.perf_counter() - start
    q0, r0 = initial_state(W0, U, modes)
    v, A = np.ones(2), np.ones(2)
    times = np.geomspace(0.05, args.time, 40)
    print(
        f"spectral ODE, sign generator, N={N} D={D} K=M=2 eta={eta}, t={args.time:g}; {platform.processor()}"
    )
    print(f"eigh of Omega: {eigh:.3f} s")
    results = {}
    methods = [("RK45", {"rtol": 1e-6}), ("DOP853", {"rtol": 1e-6})]
    methods += [("euler", {"euler_step": 0.01})] if args.euler else []
    for method, kwargs in methods:
        best, best_cpu = np.inf, np.inf
        for _ in range(args.repeats if method != "euler" else 1):
            start, cpu = time.perf_counter(), time.process_time()
            path = integrate(modes, q0, r0, times, eta, method=method, **kwargs)
            best, best_cpu = min(best, time.perf_counter() - start), min(best_cpu, time.process_time() - cpu)
        results[method] = path
        print(
            f"vectorised {method:7s} {best:8.3f} s wall {best_cpu:8.3f} s CPU  {path.evaluations:6d} evaluations"
            f"  {1e6 * best / path.evaluations:7.1f} us each  eg(t_max) = {path.error[-1]:.6f}"
        )
    for method in [m for m in results if m != "DOP853"]:
        gap = np.abs(results[method].error - results["DOP853"].error).max()
        print(f"  |{method} - DOP853| max over t: {gap:.1e}")
    # the loop: same state, same equations
    q, r = q0.copy(), r0.copy()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(args.loop_evaluations):
        dq_loop, dr_loop = loop_rhs(q, r, modes, v, A, eta)
    per_loop = (time.perf_counter() - start) / args.loop_evaluations
    per_loop_cpu = (time.process_time() - cpu) / args.loop_evaluations
    start = time.perf_counter()
    for _ in range(50):
        dq, dr = rhs(q, r, modes, v, A, eta)
    per_vec = (time.perf_counter() - start) / 50
    agree = max(np.abs(dq - dq_loop).max(), np.abs(dr - dr_loop).max())
    Q, R = overlaps(q, r, modes)
    coefficients(Q, R, modes.T, v, A, eta)
    print(
        f"per-mode loop    {1e3 * per_loop:8.1f} ms wall ({1e3 * per_loop_cpu:.1f} ms CPU) per evaluation;"
        f" vectorised {1e6 * per_vec:.0f} us: {per_loop / per_vec:.0f}x"
    )
    for method, path in results.items():
        print(
            f"  per-mode loop for {method}'s {path.evaluations} evaluations: {per_loop * path.evaluations:8.1f} s"
            f" wall, {per_loop_cpu * path.evaluations:8.1f} s CPU"
        )
    print(f"  loop and vectorised right-hand sides agree to {agree:.1e}")


if __name__ == "__main__":
    main()
