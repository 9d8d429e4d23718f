"""Benchmark: the tanh-readout theory curve on 80 α points.

Prints wall seconds per curve on one thread and the accuracy of q and the error, measured against the
same solver on grids refined 2× in every direction (h, y, ξ0), for several models and noise levels.
Run: make benchmark   (or python tests/benchmarks/bench_theory.py [--repeats N])
"""

from __future__ import annotations

import argparse
import os
import platform
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # timings on one core; set before numpy is imported, hence the late imports

import numpy as np  # noqa: E402
from deeplin.deep_equivalence.glm_channels import make_channel  # noqa: E402
from deeplin.deep_equivalence.glm_solver import solve_curve  # noqa: E402
from deeplin.deep_equivalence.layers import layer_coefficients  # noqa: E402

CASES = [("tanh", 1, 0.01), ("tanh", 2, 0.1), ("erf", 3, 1.0), ("erf", 2, 0.01)]


def _time_curve(activation: str, depth: int, noise: float, alphas: np.ndarray, repeats: int):
    c = layer_coefficients(activation, depth)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        curve = solve_curve(make_channel("tanh", c.eta0, c.gamma0, noise), alphas)  # fresh caches
        best = min(best, time.perf_counter() - start)
    fine = solve_curve(
        make_channel("tanh", c.eta0, c.gamma0, noise, resolution=6.0, xi_refinement=2.0), alphas
    )
    dq = max(abs(a.q - b.q) / b.q for a, b in zip(curve, fine, strict=True))
    de = max(abs(a.error - b.error) / b.error for a, b in zip(curve, fine, strict=True))
    return best, dq, de


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (best is reported)")
    parser.add_argument("--points", type=int, default=80, help="α points on [0.05, 8] (log-spaced)")
    args = parser.parse_args()
    alphas = np.geomspace(0.05, 8.0, args.points)
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"tanh readout, {args.points} alphas in [0.05, 8], 1 thread, best of {args.repeats}")
    print(f"{'model':<22}{'seconds':>10}{'max rel dq':>14}{'max rel derr':>14}")
    for activation, depth, noise in CASES:
        seconds, dq, de = _time_curve(activation, depth, noise, alphas, args.repeats)
        label = f"{activation} L={depth} noise={noise}"
        print(f"{label:<22}{seconds:>10.3f}{dq:>14.1e}{de:>14.1e}")


if __name__ == "__main__":
    main()
